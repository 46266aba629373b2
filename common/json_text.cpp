#include "common/json_text.h"

#include "common/swar.h"

namespace mqchat {

char* write_json_string(char* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out++ = '"';
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const char* plain_end = p;
    for (;;) {  // eight bytes at a time, then the last few one by one
      plain_end = swar::skip_plain(plain_end, end, swar::leading_plain_json);
      if (plain_end == end) break;
      const auto c = static_cast<unsigned char>(*plain_end);
      if (c < 0x20 || c == '"' || c == '\\') break;
      ++plain_end;
    }
    out = write_raw(out, std::string_view(p, static_cast<size_t>(plain_end - p)));
    if (plain_end == end) break;
    const auto c = static_cast<unsigned char>(*plain_end);
    *out++ = '\\';
    switch (c) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\n': *out++ = 'n'; break;
      case '\r': *out++ = 'r'; break;
      case '\t': *out++ = 't'; break;
      case '\b': *out++ = 'b'; break;
      case '\f': *out++ = 'f'; break;
      default:
        out = write_raw(out, "u00");
        *out++ = kHex[c >> 4];
        *out++ = kHex[c & 0xF];
    }
    p = plain_end + 1;
  }
  *out++ = '"';
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  const size_t start = out.size();
  out.resize(start + max_json_string_size(s.size()));
  char* end = write_json_string(out.data() + start, s);
  out.resize(static_cast<size_t>(end - out.data()));
}

}  // namespace mqchat
