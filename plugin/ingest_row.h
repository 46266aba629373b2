#pragma once
// A spooled message as the row the shipper COPYs into Postgres. The spool holds the stored message
// JSON the plugin made ({"id","conversation_id","room","sender","content","type","metadata",
// "client_id","created_at"}); the shipper turns each record into the `messages` columns here, off
// the broker thread, so Postgres gets plain columns instead of parsing a JSON batch per row.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mqchat {

struct IngestRow {
  std::string id;
  std::string conversation_id;
  std::string room;
  std::string sender;  // username; the shipper resolves its profile id from the user directory
  std::string content;
  std::string type;
  std::string metadata;  // JSON text (the object as the record has it)
  std::optional<std::string> client_id;
  std::string created_at;  // RFC 3339
  std::optional<std::string> reply_to;  // the message this answers (checked by the merge)
};

// Nullopt when the record is not a stored message (a damaged or foreign record): such a record
// goes the slow way, through mqchat_ingest, which keeps what Postgres refuses in ingest_rejects.
std::optional<IngestRow> parse_ingest_row(std::string_view record);

// The conversation a record belongs to, without parsing the rest: from the layout the plugin writes
// ({"id":"…","conversation_id":"…",…), else by a scan of the whole record; empty when it has none.
// The shipper ships each conversation's records in order on one connection.
std::string_view record_conversation_id(std::string_view record);

// What identifies a retry of a stored message, if `record` is one parse_ingest_row would take,
// without copying the rest: the plugin remembers every message routed from another node (on the
// broker thread). client_id empty: none.
struct StoredMessageKey {
  std::string sender, room, client_id;
};
std::optional<StoredMessageKey> stored_message_key(std::string_view record);

}  // namespace mqchat
