#include "common/utf8.h"

#include <cstdint>

#include "common/swar.h"

namespace mqchat {

std::optional<size_t> utf8_length(std::string_view s) {
  size_t count = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (end - p >= 8) {
      const auto* q = reinterpret_cast<const unsigned char*>(
          swar::skip_ascii(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(end)));
      count += static_cast<size_t>(q - p);
      p = q;
      if (p == end) break;
    }
    const unsigned char c = *p;
    if (c < 0x80) {
      if (c == 0) return std::nullopt;  // NUL cannot be stored in a Postgres text
      ++p;
    } else {
      int extra;
      uint32_t cp;
      if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
      else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
      else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
      else return std::nullopt;
      if (end - p <= extra) return std::nullopt;
      for (int i = 1; i <= extra; ++i) {
        if ((p[i] & 0xC0) != 0x80) return std::nullopt;
        cp = (cp << 6) | (p[i] & 0x3F);
      }
      if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
          (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
        return std::nullopt;
      p += extra + 1;
    }
    ++count;
  }
  return count;
}

bool has_visible_char(std::string_view s) {
  // A superset of what Postgres' `\s` treats as space under C.UTF-8, so the plugin is never
  // more lenient than the CHECK constraint the row must pass later.
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r')) { ++i; continue; }
    if (c == 0xC2 && i + 1 < s.size() &&
        (static_cast<unsigned char>(s[i + 1]) == 0xA0 || static_cast<unsigned char>(s[i + 1]) == 0x85)) {
      i += 2;  // U+00A0, U+0085
      continue;
    }
    if (c == 0xE1 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x9A &&
        static_cast<unsigned char>(s[i + 2]) == 0x80) { i += 3; continue; }  // U+1680
    if (c == 0xE2 && i + 2 < s.size()) {  // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
      const unsigned char b1 = s[i + 1], b2 = s[i + 2];
      if ((b1 == 0x80 && (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF)) ||
          (b1 == 0x81 && b2 == 0x9F)) { i += 3; continue; }
    }
    if (c == 0xE3 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) == 0x80) { i += 3; continue; }  // U+3000
    return true;
  }
  return false;
}

}  // namespace mqchat
