#include "client-demo/protocol.h"

namespace mqchat::client {

using nlohmann::json;

namespace {
std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<json> parse(std::string_view payload) {
  auto j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}
}  // namespace

std::optional<ChatMessage> chat_message_from_json(const json& j) {
  if (!j.is_object() || str(j, "id").empty()) return std::nullopt;
  ChatMessage m;
  m.raw = j;
  m.id = str(j, "id");
  m.room = str(j, "room");
  m.sender = str(j, "sender");
  if (j.contains("type") && j["type"].is_string()) m.type = j["type"];
  m.client_id = str(j, "client_id");
  m.created_at = str(j, "created_at");
  if (j.contains("content") && j["content"].is_string()) m.content = j["content"].get<std::string>();
  if (j.contains("metadata") && j["metadata"].is_object()) m.metadata = j["metadata"];
  m.edited = j.value("is_edited", false);
  m.edited_at = str(j, "edited_at");
  m.deleted = j.value("deleted", false) || !str(j, "deleted_at").empty();
  if (m.deleted) m.content.reset();
  // Read state: a timestamp ("read_at") or a flag ("read"), whichever the reply carries.
  m.read = !str(j, "read_at").empty() || (j.contains("read") && j["read"].is_boolean() && j["read"].get<bool>());
  return m;
}

std::optional<ChatMessage> parse_chat_message(std::string_view payload) {
  const auto j = parse(payload);
  return j ? chat_message_from_json(*j) : std::nullopt;
}

std::optional<std::vector<ConversationSummary>> parse_summaries(std::string_view payload) {
  const auto j = parse(payload);
  if (!j || !j->is_array()) return std::nullopt;
  std::vector<ConversationSummary> out;
  for (const auto& e : *j) {
    if (!e.is_object()) return std::nullopt;
    ConversationSummary s;
    s.raw = e;
    s.room = str(e, "room");
    s.with = str(e, "with");
    s.updated_at = str(e, "updated_at");
    if (e.contains("last_message")) s.last_message = chat_message_from_json(e["last_message"]);
    if (e.contains("unread_count") && e["unread_count"].is_number_integer()) s.unread_count = e["unread_count"];
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<HistoryPage> parse_history_page(std::string_view payload) {
  const auto j = parse(payload);
  if (!j || !j->is_object() || !j->contains("messages") || !(*j)["messages"].is_array()) return std::nullopt;
  HistoryPage page;
  page.raw = *j;
  page.room = str(*j, "room");
  page.request_id = str(*j, "request_id");
  page.has_more = j->value("has_more", false);
  for (const auto& m : (*j)["messages"])
    if (auto parsed = chat_message_from_json(m)) page.messages.push_back(std::move(*parsed));
  return page;
}

std::optional<ChatEvent> parse_event(std::string_view payload) {
  const auto j = parse(payload);
  if (!j || !j->is_object()) return std::nullopt;
  ChatEvent e;
  e.raw = *j;
  const std::string kind = str(*j, "event");
  if (kind == "read") e.kind = ChatEvent::Kind::Read;
  else if (kind == "edited") e.kind = ChatEvent::Kind::Edited;
  else if (kind == "deleted") e.kind = ChatEvent::Kind::Deleted;
  e.reader = str(*j, "reader");
  e.message_id = str(*j, "message_id");
  e.up_to = str(*j, "up_to");
  e.id = str(*j, "id");
  e.content = str(*j, "content");
  for (const char* key : {"read_at", "edited_at", "deleted_at"})
    if (e.at.empty()) e.at = str(*j, key);
  return e;
}

std::optional<ErrorReport> parse_error(std::string_view payload) {
  const auto j = parse(payload);
  if (!j || !j->is_object()) return std::nullopt;
  return ErrorReport{str(*j, "topic"), str(*j, "client_id"), str(*j, "request_id"), str(*j, "code"),
                     str(*j, "reason")};
}

std::string send_payload(const std::string& content, const std::string& type, const json& metadata,
                         const std::string& client_id, const std::string& reply_to) {
  json j{{"content", content}, {"type", type}, {"client_id", client_id}};
  if (!metadata.is_null() && !metadata.empty()) j["metadata"] = metadata;
  if (!reply_to.empty()) j["reply_to"] = reply_to;
  return j.dump();
}

std::string history_request(const std::string& request_id, int limit, const std::string& before,
                            const std::string& after) {
  json j{{"request_id", request_id}, {"limit", limit}};
  if (!before.empty()) j["before"] = before;
  if (!after.empty()) j["after"] = after;
  return j.dump();
}

std::string read_request(const std::string& up_to) { return json{{"up_to", up_to}}.dump(); }

std::string edit_request(const std::string& id, const std::string& content, const std::string& request_id) {
  return json{{"id", id}, {"content", content}, {"request_id", request_id}}.dump();
}

std::string delete_request(const std::string& id, const std::string& request_id) {
  return json{{"id", id}, {"request_id", request_id}}.dump();
}

}  // namespace mqchat::client
