#pragma once
// The chat protocol as a client sees it (docs/PROTOCOL.md): payloads it sends, replies and
// events it reads. Pure functions, no I/O, so they are unit tested.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqchat::client {

struct ChatMessage {
  std::string id, room, sender, type = "text", client_id, created_at;
  std::optional<std::string> content;  // none once deleted
  nlohmann::json metadata = nlohmann::json::object();
  bool edited = false;
  std::string edited_at;
  bool deleted = false;
  bool read = false;  // read by the recipient (history replies carry it)
  nlohmann::json raw;  // as received, for --json output
};

struct ConversationSummary {
  std::string room, with, updated_at;
  std::optional<ChatMessage> last_message;
  long unread_count = 0;
  nlohmann::json raw;
};

struct HistoryPage {
  std::string room, request_id;
  std::vector<ChatMessage> messages;  // oldest first
  bool has_more = false;
  nlohmann::json raw;
};

// What arrives on chat/<room>/events.
struct ChatEvent {
  enum class Kind { Read, Edited, Deleted, Other } kind = Kind::Other;
  std::string reader, message_id, up_to, id, content, at;
  nlohmann::json raw;
};

struct ErrorReport {
  std::string topic, client_id, request_id, code, reason;
};

// Each parser returns nullopt for a payload that is not valid JSON of the expected shape.
std::optional<ChatMessage> chat_message_from_json(const nlohmann::json& j);
std::optional<ChatMessage> parse_chat_message(std::string_view payload);
std::optional<std::vector<ConversationSummary>> parse_summaries(std::string_view payload);
std::optional<HistoryPage> parse_history_page(std::string_view payload);
std::optional<ChatEvent> parse_event(std::string_view payload);
std::optional<ErrorReport> parse_error(std::string_view payload);

// `reply_to`: the id of the message this answers (empty: none).
std::string send_payload(const std::string& content, const std::string& type, const nlohmann::json& metadata,
                         const std::string& client_id, const std::string& reply_to = "");
std::string history_request(const std::string& request_id, int limit, const std::string& before = "",
                            const std::string& after = "");
std::string read_request(const std::string& up_to);
std::string edit_request(const std::string& id, const std::string& content, const std::string& request_id);
std::string delete_request(const std::string& id, const std::string& request_id);

}  // namespace mqchat::client
