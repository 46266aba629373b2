// Fuzz target: the bridge's request parser (history/read/edit/delete). The first byte picks the
// channel, the rest is the payload; accepted requests must name a participant and stay in bounds.
#include <cstdlib>
#include <string>

#include "bridge/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* channels[] = {"history", "read", "edit", "delete"};
  const std::string topic = std::string("chat/alice_bob/") + channels[data[0] % 4];
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto parsed = mqchat::bridge::parse_request(topic, payload, (data[0] & 4) ? "users/bob/x" : "", "c");
  if (const auto* r = std::get_if<mqchat::bridge::Request>(&parsed)) {
    if (r->requester != "alice" && r->requester != "bob") abort();
    if (r->limit < 1 || r->limit > 200) abort();
  }
  return 0;
}
