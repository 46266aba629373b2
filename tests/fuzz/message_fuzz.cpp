// Fuzz target: the message payload parser and validator the plugin runs on every publish.
// Whatever it accepts must be valid content: within limits, valid UTF-8, not blank. And the
// flat-object fast path must agree with the full JSON parser: a "metadata":null field (which
// changes nothing) sends the same object down the full parser, and both answers must match.
#include <cstdlib>

#include <nlohmann/json.hpp>

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
  const auto doc = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (!doc.is_object() || doc.empty() || doc.contains("metadata") ||
      payload.size() + 16 > limits.max_payload_bytes)
    return 0;
  std::string slow(payload);
  slow.insert(slow.find('{') + 1, "\"metadata\":null,");
  const auto other = mqchat::parse_message_payload(slow, limits);
  if (bool(parsed) != bool(other)) abort();
  if (parsed && (parsed.value->content != other.value->content || parsed.value->type != other.value->type ||
                 parsed.value->client_id != other.value->client_id ||
                 parsed.value->metadata_json != other.value->metadata_json))
    abort();
  if (!parsed && (parsed.error.code != other.error.code || parsed.error.client_id != other.error.client_id)) abort();
  return 0;
}
