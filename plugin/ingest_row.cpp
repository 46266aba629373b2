#include "plugin/ingest_row.h"

#include "common/json_scan.h"

namespace mqchat {

namespace {

constexpr std::string_view kMembers[] = {"id",         "conversation_id", "room",     "sender",   "content",
                                         "type",       "created_at",      "metadata", "client_id", "reply_to"};
enum Member { kId, kConversationId, kRoom, kSender, kContent, kType, kCreatedAt, kMetadata, kClientId, kReplyTo, kCount };

// The members of `record` if it is a stored message: the first seven strings, metadata an object,
// client_id and reply_to strings (each may also be null or absent).
bool scan_stored(std::string_view record, JsonMember (&m)[kCount]) {
  if (!scan_json_members(record, kMembers, m, kCount)) return false;
  for (int k = kId; k <= kCreatedAt; ++k)
    if (!m[k].is_string()) return false;
  const auto optional = [](const JsonMember& x, JsonMember::Kind kind) {
    return x.kind == kind || x.kind == JsonMember::Kind::Null || x.kind == JsonMember::Kind::Absent;
  };
  return optional(m[kMetadata], JsonMember::Kind::Object) && optional(m[kClientId], JsonMember::Kind::String) &&
         optional(m[kReplyTo], JsonMember::Kind::String);
}

}  // namespace

std::optional<IngestRow> parse_ingest_row(std::string_view record) {
  JsonMember m[kCount];
  if (!scan_stored(record, m)) return std::nullopt;
  IngestRow row;
  row.id = m[kId].text();
  row.conversation_id = m[kConversationId].text();
  row.room = m[kRoom].text();
  row.sender = m[kSender].text();
  row.content = m[kContent].text();
  row.type = m[kType].text();
  row.created_at = m[kCreatedAt].text();
  row.metadata = m[kMetadata].kind == JsonMember::Kind::Object ? std::string(m[kMetadata].raw) : "{}";
  if (m[kClientId].is_string()) row.client_id = m[kClientId].text();
  if (m[kReplyTo].is_string()) row.reply_to = m[kReplyTo].text();
  return row;
}

std::string_view record_conversation_id(std::string_view record) {
  constexpr std::string_view kHead = "{\"id\":\"", kNext = "\",\"conversation_id\":\"";
  constexpr size_t kUuid = 36, kAt = kHead.size() + kUuid + kNext.size();
  if (record.size() > kAt + kUuid && record.substr(0, kHead.size()) == kHead &&
      record.substr(kHead.size() + kUuid, kNext.size()) == kNext && record[kAt + kUuid] == '"')
    return record.substr(kAt, kUuid);
  JsonMember m[kCount];
  if (!scan_stored(record, m)) return {};
  return m[kConversationId].raw;
}

std::optional<StoredMessageKey> stored_message_key(std::string_view record) {
  JsonMember m[kCount];
  if (!scan_stored(record, m)) return std::nullopt;
  return StoredMessageKey{m[kSender].text(), m[kRoom].text(), m[kClientId].is_string() ? m[kClientId].text() : ""};
}

}  // namespace mqchat
