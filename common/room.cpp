#include "common/room.h"

#include <array>

#include "common/swar.h"

namespace mqchat {

namespace {
constexpr bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z0-9.-] as a table: every ACL check validates two usernames.
constexpr std::array<bool, 256> kUsernameChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = is_lower_alnum(static_cast<char>(c)) || c == '.' || c == '-';
  return t;
}();

constexpr std::string_view kChannels[] = {"messages", "typing", "history", "read",    "edit",
                                          "delete",   "events", "react",   "archive", "mute"};
constexpr std::string_view kUserRequests[] = {"search", "archived", "group"};
}  // namespace

// All eight bytes in [a-z0-9.-] ('.' and '-' are 0x2E and 0x2D).
inline bool all_username_chars(uint64_t v) {
  using namespace swar;
  if (v & kHighBits) return false;
  return (ascii_bytes_in(v, 'a', 'z') | ascii_bytes_in(v, '0', '9') | ascii_bytes_in(v, '-', '.')) == kHighBits;
}

// What a username must be besides its characters: 1-32 of them, the first alphanumeric.
bool has_username_shape(std::string_view name) {
  return !name.empty() && name.size() <= 32 && is_lower_alnum(name[0]);
}

bool is_valid_username(std::string_view name) {
  if (!has_username_shape(name)) return false;
  const char* p = name.data();
  size_t n = name.size();
  for (; n >= 8; p += 8, n -= 8)  // eight at a time: every WRITE check validates two names
    if (!all_username_chars(swar::load8(p))) return false;
  for (; n > 0; ++p, --n)
    if (!kUsernameChar[static_cast<unsigned char>(*p)]) return false;
  return true;
}

std::optional<Room> parse_room(std::string_view name) {
  // One pass over the room (every WRITE check parses one): each byte a username character but for
  // the single '_' between the two names; then what is_valid_username checks besides characters.
  size_t sep = std::string_view::npos;
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (kUsernameChar[c]) continue;
    if (c != '_' || sep != std::string_view::npos) return std::nullopt;
    sep = i;
  }
  if (sep == std::string_view::npos) return std::nullopt;
  Room room{name.substr(0, sep), name.substr(sep + 1)};
  if (!has_username_shape(room.first) || !has_username_shape(room.second)) return std::nullopt;
  if (!(room.first < room.second)) return std::nullopt;  // string_view compares bytes
  return room;
}

std::optional<std::string> make_room(std::string_view u1, std::string_view u2) {
  if (!is_valid_username(u1) || !is_valid_username(u2) || u1 == u2) return std::nullopt;
  if (u2 < u1) std::swap(u1, u2);
  std::string room;
  room.reserve(u1.size() + 1 + u2.size());
  room.append(u1).append(1, '_').append(u2);
  return room;
}

bool is_group_room(std::string_view name) {
  if (name.size() != kGroupRoomChars || name[0] != 'g' || name[1] != ':') return false;
  for (char c : name.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<ChatTopic> parse_chat_topic(std::string_view topic) {
  constexpr std::string_view prefix = "chat/";
  if (topic.substr(0, prefix.size()) != prefix) return std::nullopt;
  topic.remove_prefix(prefix.size());
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto room_name = topic.substr(0, slash);
  const auto channel = topic.substr(slash + 1);
  const auto room = parse_room(room_name);
  const bool group = !room && is_group_room(room_name);
  if (!room && !group) return std::nullopt;
  for (size_t i = 0; i < std::size(kChannels); ++i) {
    if (swar::equal(channel, kChannels[i])) return ChatTopic{room_name, room ? *room : Room{}, static_cast<ChatChannel>(i), group};
  }
  return std::nullopt;
}

bool is_request_channel(ChatChannel c) {
  return c == ChatChannel::History || c == ChatChannel::Read || c == ChatChannel::Edit ||
         c == ChatChannel::Delete || c == ChatChannel::React || c == ChatChannel::Archive || c == ChatChannel::Mute;
}

std::optional<UserRequestTopic> parse_user_request_topic(std::string_view topic) {
  const auto t = parse_user_topic(topic);
  constexpr std::string_view prefix = "requests/";
  if (!t || t->rest.substr(0, prefix.size()) != prefix) return std::nullopt;
  const auto kind = t->rest.substr(prefix.size());
  for (size_t i = 0; i < std::size(kUserRequests); ++i) {
    if (kind == kUserRequests[i]) return UserRequestTopic{t->user, static_cast<UserRequest>(i)};
  }
  return std::nullopt;
}

std::string_view user_request_name(UserRequest r) { return kUserRequests[static_cast<size_t>(r)]; }

std::string_view channel_name(ChatChannel c) { return kChannels[static_cast<size_t>(c)]; }

std::optional<UserTopic> parse_user_topic(std::string_view topic) {
  constexpr std::string_view prefix = "users/";
  if (topic.substr(0, prefix.size()) != prefix) return std::nullopt;
  topic.remove_prefix(prefix.size());
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  UserTopic ut{topic.substr(0, slash), topic.substr(slash + 1)};
  if (!is_valid_username(ut.user) || ut.rest.empty()) return std::nullopt;
  return ut;
}

bool is_private_reply_topic(std::string_view topic, std::string_view user) {
  const auto t = parse_user_topic(topic);
  if (!t || t->user != user) return false;
  if (t->rest.find_first_of("+#") != std::string_view::npos) return false;
  if (t->rest.front() == '/' || t->rest.back() == '/' || t->rest.find("//") != std::string_view::npos) return false;
  const auto first = t->rest.substr(0, t->rest.find('/'));
  return first != "presence" && first != "conversations" && first != "requests";
}

std::string chat_topic(std::string_view room, ChatChannel channel) {
  std::string t = "chat/";
  t.append(room).append(1, '/').append(channel_name(channel));
  return t;
}

std::string user_topic(std::string_view user, std::string_view leaf) {
  std::string t = "users/";
  t.append(user).append(1, '/').append(leaf);
  return t;
}

}  // namespace mqchat
