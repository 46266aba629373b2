#pragma once
// Reading a few top-level string members of a JSON object without building a DOM: for hot paths
// that need two or three fields of a message someone else wrote (the backplane's retry keys, the
// plugin's routed messages in a cluster), where nlohmann::json would allocate a node for every
// member and every string of the message to read three of them.
#include <cstddef>
#include <string>
#include <string_view>

namespace mqchat {

// A member as found: where its value is in the scanned text (valid while the text is), no copy.
struct JsonMember {
  enum class Kind { Absent, String, Null, Object, Other } kind = Kind::Absent;  // Other: number, bool, array
  std::string_view raw;  // String: between the quotes, escapes as written; else the value's whole text
  bool escaped = false;  // String: raw has escapes
  std::string text() const;  // String: unescaped (UTF-8)
  bool is_string() const { return kind == Kind::String; }
};

// Scans `text`, which must be one JSON object (RFC 8259: UTF-8, nothing after it but white space;
// nesting up to kMaxJsonScanDepth levels; numbers a double can hold, as nlohmann::json requires),
// and fills out[i] for the top-level member named keys[i] (names compared after unescaping; a name
// given twice takes its last value, as nlohmann::json does). False if `text` is not such an object,
// and `out` is then unspecified.
constexpr size_t kMaxJsonScanDepth = 256;
bool scan_json_members(std::string_view text, const std::string_view* keys, JsonMember* out, size_t n);

}  // namespace mqchat
