// Fuzz target: the message payload parser and validator the plugin runs on every publish.
// Whatever it accepts must be valid content: within limits, valid UTF-8, not blank.
#include <cstdlib>

#include "common/message.h"
#include "common/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const mqchat::MessageLimits limits;
  const auto parsed = mqchat::parse_message_payload(payload, limits);
  if (parsed) {
    const auto& content = parsed.value->content;
    const auto chars = mqchat::utf8_length(content);
    if (!chars || *chars == 0 || *chars > limits.max_content_chars || !mqchat::has_visible_char(content)) abort();
    if (!mqchat::is_message_type(parsed.value->type)) abort();
  } else if (parsed.error.code.empty() || parsed.error.reason.empty()) {
    abort();  // every refusal says what was wrong
  }
  return 0;
}
