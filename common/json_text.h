#pragma once
// Minimal JSON text writing for hot paths where building a DOM would cost more than the work.
#include <string>
#include <string_view>

namespace mqchat {

// Appends `s` (valid UTF-8) as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

}  // namespace mqchat
