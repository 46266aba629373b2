#pragma once
// Minimal JSON text writing for hot paths where building a DOM would cost more than the work.
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace mqchat {

// Appends `s` (valid UTF-8) as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

// The most bytes a JSON string literal of `s` can take: every byte as \u00XX, and the quotes.
constexpr size_t max_json_string_size(size_t n) { return 6 * n + 2; }

// Writes `s` as a JSON string literal at `out`, which has room for max_json_string_size(s.size());
// returns the end of what was written.
char* write_json_string(char* out, std::string_view s);

// Copies raw text at `out` and returns its end: for the constant parts of hand-written JSON.
inline char* write_raw(char* out, std::string_view s) {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

// Makes `s` hold `v` (which must not point into `s`), for strings the broker thread reuses from
// one message to the next: emptied and appended to within their capacity, where the general
// assign (libstdc++'s _M_replace) cost about 90 instructions for a short string.
inline void assign_text(std::string& s, std::string_view v) {
  s.clear();
  s.append(v.data(), v.size());
}

// Makes `s` equal to `v` in its own buffer, skipping the copy when it already is: for fields
// that nearly always repeat the last message's (type "text", metadata "{}") on the broker thread.
inline void set_text(std::string& s, std::string_view v) {
  if (s.size() == v.size() && std::memcmp(s.data(), v.data(), v.size()) == 0) return;
  assign_text(s, v);
}

}  // namespace mqchat
