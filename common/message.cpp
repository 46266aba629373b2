#include "common/message.h"

#include <nlohmann/json.hpp>

#include "common/json_text.h"
#include "common/utf8.h"

namespace mqchat {

namespace {

ValidationError error(std::string code, std::string reason) {
  return ValidationError{std::move(code), std::move(reason)};
}

template <typename T>
Parsed<T> fail(std::string code, std::string reason) {
  return Parsed<T>{std::nullopt, error(std::move(code), std::move(reason))};
}

// Deepest nesting of objects/arrays, counted without building anything.
size_t json_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool starts_with_brace(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

bool is_message_type(std::string_view type) {
  return type == "text" || type == "image" || type == "file";
}

std::optional<ValidationError> validate_content(std::string_view content, const MessageLimits& limits) {
  const auto chars = utf8_length(content);
  if (!chars) return error("invalid_utf8", "content is not valid UTF-8 (or contains NUL)");
  if (*chars == 0 || !has_visible_char(content)) return error("blank", "content is empty or blank");
  if (*chars > limits.max_content_chars)
    return error("too_long", "content has " + std::to_string(*chars) + " characters; the limit is " +
                                 std::to_string(limits.max_content_chars));
  return std::nullopt;
}

Parsed<nlohmann::json> parse_json_object(std::string_view payload, const MessageLimits& limits) {
  if (payload.size() > limits.max_payload_bytes)
    return fail<nlohmann::json>("payload_too_large", "payload has " + std::to_string(payload.size()) +
                                                         " bytes; the limit is " +
                                                         std::to_string(limits.max_payload_bytes));
  if (!utf8_length(payload)) return fail<nlohmann::json>("invalid_utf8", "payload is not valid UTF-8");
  if (json_depth(payload) > limits.max_json_depth)
    return fail<nlohmann::json>("bad_json", "JSON is nested deeper than " +
                                                std::to_string(limits.max_json_depth) + " levels");
  auto doc = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail<nlohmann::json>("bad_json", "payload is not valid JSON");
  if (!doc.is_object()) return fail<nlohmann::json>("bad_json", "payload must be a JSON object");
  return Parsed<nlohmann::json>{std::move(doc), {}};
}

Parsed<DraftMessage> parse_message_payload(std::string_view payload, const MessageLimits& limits) {
  DraftMessage draft;
  if (!starts_with_brace(payload)) {
    if (payload.size() > limits.max_payload_bytes)
      return fail<DraftMessage>("payload_too_large", "payload has " + std::to_string(payload.size()) +
                                                         " bytes; the limit is " +
                                                         std::to_string(limits.max_payload_bytes));
    if (auto bad = validate_content(payload, limits)) return Parsed<DraftMessage>{std::nullopt, *bad};
    draft.content.assign(payload);
    return Parsed<DraftMessage>{std::move(draft), {}};
  }

  auto parsed = parse_json_object(payload, limits);
  if (!parsed) return Parsed<DraftMessage>{std::nullopt, parsed.error};
  const auto& doc = *parsed.value;

  // Read first: every later refusal carries it back so the publisher can match the error report.
  if (const auto client_id = doc.find("client_id"); client_id != doc.end() && !client_id->is_null()) {
    if (!client_id->is_string()) return fail<DraftMessage>("bad_client_id", "\"client_id\" must be a string");
    draft.client_id = client_id->get<std::string>();
    const auto chars = utf8_length(draft.client_id);
    if (!chars || *chars == 0 || *chars > limits.max_client_id_chars)
      return fail<DraftMessage>("bad_client_id", "\"client_id\" must have 1.." +
                                                     std::to_string(limits.max_client_id_chars) +
                                                     " characters");
  }
  const auto refuse = [&](std::string code, std::string reason) {
    return Parsed<DraftMessage>{std::nullopt, {std::move(code), std::move(reason), draft.client_id}};
  };

  const auto content = doc.find("content");
  if (content == doc.end() || !content->is_string())
    return refuse("bad_content", "\"content\" must be a string");
  draft.content = content->get<std::string>();
  if (auto bad = validate_content(draft.content, limits)) return refuse(bad->code, bad->reason);

  if (const auto type = doc.find("type"); type != doc.end()) {
    if (!type->is_string() || !is_message_type(type->get_ref<const std::string&>()))
      return refuse("bad_type", "\"type\" must be one of text, image, file");
    draft.type = type->get<std::string>();
  }

  if (const auto metadata = doc.find("metadata"); metadata != doc.end() && !metadata->is_null()) {
    if (!metadata->is_object()) return refuse("bad_metadata", "\"metadata\" must be a JSON object");
    draft.metadata_json = metadata->dump();
    if (draft.metadata_json.size() > limits.max_metadata_bytes)
      return refuse("metadata_too_large", "\"metadata\" has " +
                                                          std::to_string(draft.metadata_json.size()) +
                                                          " bytes; the limit is " +
                                                          std::to_string(limits.max_metadata_bytes));
  }

  return Parsed<DraftMessage>{std::move(draft), {}};
}

std::string to_json(const StoredMessage& m) {
  std::string out;
  out.reserve(200 + m.draft.content.size() + m.draft.metadata_json.size());
  out.append("{\"id\":");
  append_json_string(out, m.id);
  out.append(",\"conversation_id\":");
  append_json_string(out, m.conversation_id);
  out.append(",\"room\":");
  append_json_string(out, m.room);
  out.append(",\"sender\":");
  append_json_string(out, m.sender);
  out.append(",\"content\":");
  append_json_string(out, m.draft.content);
  out.append(",\"type\":");
  append_json_string(out, m.draft.type);
  out.append(",\"metadata\":").append(m.draft.metadata_json);
  out.append(",\"client_id\":");
  if (m.draft.client_id.empty()) out.append("null");
  else append_json_string(out, m.draft.client_id);
  out.append(",\"created_at\":");
  append_json_string(out, m.created_at);
  out.push_back('}');
  return out;
}

}  // namespace mqchat
