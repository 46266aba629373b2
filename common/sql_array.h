#pragma once
// A Postgres array literal ('{"a","b"}') of text values, for one `= any($1::T[])` or `unnest($1::T[])`
// parameter instead of a statement per item. Every element is quoted, `"` and `\` escaped.
#include <string>
#include <vector>

namespace mqchat {

inline std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out + "}";
}

}  // namespace mqchat
