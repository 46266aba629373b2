#include "plugin/ingest_row.h"

#include <nlohmann/json.hpp>

namespace mqchat {

namespace {

bool take_string(const nlohmann::json& j, const char* key, std::string& out) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

}  // namespace

std::optional<IngestRow> parse_ingest_row(std::string_view record) {
  const auto j = nlohmann::json::parse(record.begin(), record.end(), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  IngestRow row;
  if (!take_string(j, "id", row.id) || !take_string(j, "conversation_id", row.conversation_id) ||
      !take_string(j, "room", row.room) || !take_string(j, "sender", row.sender) ||
      !take_string(j, "content", row.content) || !take_string(j, "type", row.type) ||
      !take_string(j, "created_at", row.created_at))
    return std::nullopt;
  const auto metadata = j.find("metadata");
  if (metadata == j.end() || metadata->is_null()) row.metadata = "{}";
  else if (metadata->is_object()) row.metadata = metadata->dump();
  else return std::nullopt;
  const auto client_id = j.find("client_id");
  if (client_id != j.end() && client_id->is_string()) row.client_id = client_id->get<std::string>();
  else if (client_id != j.end() && !client_id->is_null()) return std::nullopt;
  const auto reply_to = j.find("reply_to");
  if (reply_to != j.end() && reply_to->is_string()) row.reply_to = reply_to->get<std::string>();
  else if (reply_to != j.end() && !reply_to->is_null()) return std::nullopt;
  return row;
}

}  // namespace mqchat
