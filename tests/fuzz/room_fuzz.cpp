// Fuzz target: room names and chat/user topics. Parsing must never crash, and what it accepts
// must round-trip (the ACL relies on one canonical spelling per room).
#include <cstdlib>
#include <string>

#include "common/room.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto room = mqchat::parse_room(text)) {
    if (!(room->first < room->second)) abort();
    if (mqchat::make_room(room->second, room->first) != std::string(text)) abort();
  }
  if (const auto t = mqchat::parse_chat_topic(text)) {
    if (mqchat::chat_topic(t->room_name, t->channel) != std::string(text)) abort();
  }
  if (const auto u = mqchat::parse_user_topic(text)) {
    if (!mqchat::is_valid_username(u->user)) abort();
  }
  return 0;
}
