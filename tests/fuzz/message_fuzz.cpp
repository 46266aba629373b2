// Fuzz target: the message payload parser and validator the plugin runs on every publish.
// Whatever it accepts must be valid content: within limits, valid UTF-8, not blank, and
// storable: no NUL anywhere in the stored JSON (Postgres text and jsonb refuse it), metadata an
// object within its size, a client_id Postgres' CHECK accepts. And the
// flat-object fast path must agree with the full JSON parser: a "metadata":null field (which
// changes nothing) sends the same object down the full parser, and both answers must match.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/message.h"
#include "common/utf8.h"

static bool holds_nul(const nlohmann::json& j) {
  if (j.is_string()) return j.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (!j.is_structured()) return false;
  for (const auto& [k, v] : j.items())
    if ((j.is_object() && k.find('\0') != std::string::npos) || holds_nul(v)) return true;
  return false;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  const mqchat::MessageLimits limits;
  const auto parsed = mqchat::parse_message_payload(payload, limits);
  if (parsed) {
    const auto& content = parsed.value->content;
    const auto chars = mqchat::utf8_length(content);
    if (!chars || *chars == 0 || *chars > limits.max_content_chars || !mqchat::has_visible_char(content)) abort();
    if (!mqchat::is_message_type(parsed.value->type)) abort();
    const auto& cid = parsed.value->client_id;
    const auto cid_chars = mqchat::utf8_length(cid);
    if (!cid.empty() && (!cid_chars || *cid_chars > limits.max_client_id_chars)) abort();
    const auto metadata = nlohmann::json::parse(parsed.value->metadata_json, nullptr, false);
    if (!metadata.is_object() || parsed.value->metadata_json.size() > limits.max_metadata_bytes) abort();
    mqchat::StoredMessage m;
    m.id = m.conversation_id = "0";
    m.room = "a_b";
    m.sender = "a";
    m.draft = *parsed.value;
    m.created_at = "2026-01-01T00:00:00Z";
    const std::string stored = mqchat::to_json(m);
    const auto doc = nlohmann::json::parse(stored, nullptr, false);
    if (stored.find('\0') != std::string::npos || doc.is_discarded() || holds_nul(doc)) abort();
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
