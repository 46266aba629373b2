#include "common/room.h"

#include <algorithm>
#include <array>

#include "common/swar.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

namespace {

#if defined(__SSE2__)
// Of the sixteen bytes at p: bit i of the result is set where byte i is neither '_' nor a username
// character ([a-z0-9.-]), bit i of `underscores` where it is '_'. Each range is one add and one
// signed compare: x + (0x80 - lo) is below 0x80 + (hi - lo + 1), as a signed byte, exactly when
// lo <= x <= hi.
inline uint32_t room_stops16(const char* p, uint32_t& underscores) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const auto in = [v](int lo, int hi) {
    const __m128i shifted = _mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(0x80 - lo)));
    return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(0x80 + (hi - lo + 1))));
  };
  const __m128i us = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
  const __m128i ok = _mm_or_si128(_mm_or_si128(in('a', 'z'), in('0', '9')), _mm_or_si128(in('-', '.'), us));
  underscores = static_cast<uint32_t>(_mm_movemask_epi8(us));
  return ~static_cast<uint32_t>(_mm_movemask_epi8(ok)) & 0xFFFFu;
}
#endif

// The pair room at [p, end) up to the first byte that is neither a username character nor '_'
// (the returned stop, `end` if none): every WRITE check reads one, sixteen bytes at a time where
// there are that many. `sep` is where its only '_' is, or npos when there is none or more than
// one (then the stop is not to be used either: no room).
const char* scan_room(const char* p, const char* end, size_t& sep) {
  const char* const begin = p;
  bool seen = false;
  sep = std::string_view::npos;
#if defined(__SSE2__)
  if (end - p >= 16) {
    while (p < end) {
      // The last sixteen may overlap the ones before: the bytes already read are shifted out.
      const unsigned skip = end - p >= 16 ? 0 : static_cast<unsigned>(16 - (end - p));
      uint32_t underscores;
      const uint32_t stops = room_stops16(p - skip, underscores) >> skip;
      underscores >>= skip;
      if (stops) underscores &= (stops & (0u - stops)) - 1;  // only those before the first stop
      if (underscores) {
        if (seen || (underscores & (underscores - 1))) {  // a second '_': no room
          sep = std::string_view::npos;
          return p;
        }
        seen = true;
        sep = static_cast<size_t>(p - begin) + static_cast<size_t>(__builtin_ctz(underscores));
      }
      if (stops) return p + __builtin_ctz(stops);
      p += 16 - skip;
    }
    return p;
  }
#endif
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (kUsernameChar[c]) continue;
    if (c != '_') return p;
    if (seen) {
      sep = std::string_view::npos;
      return p;
    }
    seen = true;
    sep = static_cast<size_t>(p - begin);
  }
  return p;
}

// Bytes a < b (as std::string_view compares them), eight at a time: the two names of a room.
inline bool bytes_less(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t x = swar::load8(a.data() + i), y = swar::load8(b.data() + i);
    if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y);
  }
  for (; i < n; ++i)
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  return a.size() < b.size();
}

// The room of `name` (the bytes before `stop` with one '_' at `sep`, each other one a username
// character) if both names have a username's shape and are in byte order. A username character
// is alphanumeric exactly when it is at least '0' ('-' and '.' are below it).
std::optional<Room> room_of(std::string_view name, size_t sep) {
  if (sep == std::string_view::npos || sep == 0 || sep > 32 || name.size() - sep - 1 > 32 || sep + 1 == name.size())
    return std::nullopt;
  if (name[0] < '0' || name[sep + 1] < '0') return std::nullopt;
  Room room{name.substr(0, sep), name.substr(sep + 1)};
  if (!bytes_less(room.first, room.second)) return std::nullopt;
  return room;
}

}  // namespace

std::optional<Room> parse_room(std::string_view name) {
  // One pass over the room (every WRITE check parses one): each byte a username character but for
  // the single '_' between the two names; then what is_valid_username checks besides characters.
  size_t sep;
  if (scan_room(name.data(), name.data() + name.size(), sep) != name.data() + name.size()) return std::nullopt;
  return room_of(name, sep);
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
  if (topic.size() < prefix.size() || !swar::equal_bytes(topic.data(), prefix.data(), prefix.size())) return std::nullopt;
  topic.remove_prefix(prefix.size());
  const char* const begin = topic.data();
  const char* const end = begin + topic.size();
  // A pair room is read up to the '/' that ends it in the same pass; anything else (a group
  // room's ':', no '/') is looked at again the plain way.
  size_t sep;
  const char* stop = scan_room(begin, end, sep);
  size_t slash;
  std::optional<Room> room;
  bool group = false;
  if (stop != end && *stop == '/' && sep != std::string_view::npos) {
    slash = static_cast<size_t>(stop - begin);
    room = room_of(topic.substr(0, slash), sep);
    if (!room) return std::nullopt;  // only username characters and one '_': not a group room either
  } else {
    slash = topic.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    room = parse_room(topic.substr(0, slash));
    group = !room && is_group_room(topic.substr(0, slash));
    if (!room && !group) return std::nullopt;
  }
  const auto room_name = topic.substr(0, slash);
  const auto channel = topic.substr(slash + 1);
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
