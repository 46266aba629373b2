#include "common/json_scan.h"

#include "common/utf8.h"

#include <cmath>
#include <cstdlib>

namespace mqchat {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at text[at..at+4) as a code unit, or -1.
long hex4(std::string_view text, size_t at) {
  if (at + 4 > text.size()) return -1;
  long v = 0;
  for (size_t k = at; k < at + 4; ++k) {
    const int d = hex_digit(text[k]);
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6);
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12);
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | cp >> 18);
    out += char(0x80 | (cp >> 12 & 0x3F));
    out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// The raw content of a string that Scanner::string accepted, unescaped.
void decode_into(std::string_view raw, std::string& out) {
  out.clear();
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        unsigned long cp = static_cast<unsigned long>(hex4(raw, i + 1));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // checked: a low surrogate follows
          cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<unsigned long>(hex4(raw, i + 3)) - 0xDC00);
          i += 6;
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e;  // " \ /
    }
  }
}

struct Scanner {
  std::string_view s;
  size_t i = 0;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool eat(char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  bool digits() {  // one or more
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  }

  // A string literal at i: its raw content (between the quotes) and whether it has escapes.
  bool string(std::string_view& raw, bool& escaped) {
    if (!eat('"')) return false;
    const size_t begin = i;
    bool high = false;  // bytes above ASCII: check the UTF-8
    escaped = false;
    for (;;) {
      if (i >= s.size()) return false;
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') break;
      if (c < 0x20) return false;
      if (c >= 0x80) high = true;
      if (c != '\\') {
        ++i;
        continue;
      }
      escaped = true;
      if (++i >= s.size()) return false;
      switch (s[i]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          ++i;
          break;
        case 'u': {
          const long cp = hex4(s, i + 1);
          if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;  // a lone low surrogate
          i += 5;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high one: its low one must follow
            if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return false;
            const long low = hex4(s, i + 2);
            if (low < 0xDC00 || low > 0xDFFF) return false;
            i += 6;
          }
          break;
        }
        default: return false;
      }
    }
    raw = s.substr(begin, i - begin);
    ++i;
    return !high || utf8_length(raw).has_value();
  }

  bool number() {
    const size_t from = i;
    eat('-');
    if (eat('0')) {
    } else if (i < s.size() && s[i] >= '1' && s[i] <= '9') {
      digits();
    } else {
      return false;
    }
    const size_t integer_digits = i - from;
    if (eat('.') && !digits()) return false;
    bool exponent = false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (!eat('+')) eat('-');
      if (!digits()) return false;
      exponent = true;
    }
    // Like nlohmann::json, refuse what a double cannot hold (1e400; 400 digits). The processes
    // using this never call setlocale, so strtod reads the '.' of JSON.
    if (!exponent && integer_digits < 300) return true;
    const std::string number(s.substr(from, i - from));
    return std::isfinite(std::strtod(number.c_str(), nullptr));
  }

  bool word(std::string_view w) {
    if (s.substr(i, w.size()) != w) return false;
    i += w.size();
    return true;
  }

  bool scalar() {
    if (i >= s.size()) return false;
    switch (s[i]) {
      case '"': {
        std::string_view raw;
        bool escaped;
        return string(raw, escaped);
      }
      case 't': return word("true");
      case 'f': return word("false");
      case 'n': return word("null");
      default: return number();
    }
  }

  // Any value at i, containers included, without recursion: `open` holds the containers entered.
  bool skip_value(size_t max_depth) {
    std::string open;
    for (;;) {
      ws();  // a value starts here
      if (eat('{')) {
        if (open.size() == max_depth) return false;
        open += '{';
        ws();
        if (!eat('}')) {
          if (!member_name()) return false;
          continue;
        }
        open.pop_back();
      } else if (eat('[')) {
        if (open.size() == max_depth) return false;
        open += '[';
        ws();
        if (!eat(']')) continue;
        open.pop_back();
      } else if (!scalar()) {
        return false;
      }
      // After a value: close what ends here, up to the next value or the end.
      for (;;) {
        if (open.empty()) return true;
        ws();
        if (eat(',')) {
          if (open.back() == '{') {
            ws();
            if (!member_name()) return false;
          }
          break;
        }
        if (!eat(open.back() == '{' ? '}' : ']')) return false;
        open.pop_back();
      }
    }
  }

  // `"name" :` inside an object being skipped.
  bool member_name() {
    std::string_view raw;
    bool escaped;
    if (!string(raw, escaped)) return false;
    ws();
    return eat(':');
  }
};

}  // namespace

std::string JsonMember::text() const {
  if (!escaped) return std::string(raw);
  std::string out;
  decode_into(raw, out);
  return out;
}

bool scan_json_members(std::string_view text, const std::string_view* keys, JsonMember* out, size_t n) {
  for (size_t k = 0; k < n; ++k) out[k] = JsonMember{};
  Scanner sc{text};
  sc.ws();
  if (!sc.eat('{')) return false;
  sc.ws();
  std::string name_buffer;  // a name with escapes, unescaped
  if (!sc.eat('}')) {
    for (;;) {
      std::string_view name;
      bool escaped;
      if (!sc.string(name, escaped)) return false;
      if (escaped) {
        decode_into(name, name_buffer);
        name = name_buffer;
      }
      size_t wanted = n;
      for (size_t k = 0; k < n && wanted == n; ++k)
        if (keys[k] == name) wanted = k;
      sc.ws();
      if (!sc.eat(':')) return false;
      sc.ws();
      JsonMember member;
      const size_t from = sc.i;
      if (sc.i < text.size() && text[sc.i] == '"') {
        if (!sc.string(member.raw, member.escaped)) return false;
        member.kind = JsonMember::Kind::String;
      } else {
        if (!sc.skip_value(kMaxJsonScanDepth - 1)) return false;
        member.raw = text.substr(from, sc.i - from);
        member.kind = text[from] == 'n' ? JsonMember::Kind::Null
                      : text[from] == '{' ? JsonMember::Kind::Object
                                          : JsonMember::Kind::Other;
      }
      if (wanted < n) out[wanted] = member;
      sc.ws();
      if (sc.eat(',')) {
        sc.ws();
        continue;
      }
      if (sc.eat('}')) break;
      return false;
    }
  }
  sc.ws();
  return sc.i == text.size();
}

}  // namespace mqchat
