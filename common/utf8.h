#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

namespace mqchat {

// Number of code points if `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF,
// no NUL), else nullopt. Postgres' char_length counts the same code points.
std::optional<size_t> utf8_length(std::string_view s);

// True if the text has a character other than Unicode white space (mirrors SQL `content ~ '\S'`).
bool has_visible_char(std::string_view utf8);

}  // namespace mqchat
