#pragma once
// What a chat message is: parsing what a client publishes, the rules it must pass, and the
// JSON shape it is stored and delivered in.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace mqchat {

struct MessageLimits {
  size_t max_content_chars = 4000;
  size_t max_payload_bytes = 65536;
  size_t max_metadata_bytes = 8192;
  size_t max_json_depth = 16;
  size_t max_client_id_chars = 64;
  // What a user may publish elsewhere, checked in the ACL write check before anything is queued.
  size_t max_typing_bytes = 256;
  size_t max_request_bytes = 4096;
  size_t max_other_bytes = 1024;
};

struct ValidationError {
  std::string code;    // stable, machine readable: "blank", "too_long", "bad_json", ...
  std::string reason;  // for people
  std::string client_id;  // the publisher's "client_id" when it could be read, so it can match the report
};

// A message as the client asked for it, before the system gives it an id and a sender.
struct DraftMessage {
  std::string content;
  std::string type = "text";
  std::string metadata_json = "{}";  // compact JSON object text
  std::string client_id;             // empty = none
  std::string reply_to{};            // canonical id of the message this answers; empty = none
  // content and client_id hold no '"', '\\' or control character, so each is its own JSON string
  // literal's inside (found while parsing a flat payload): written out without a second scan.
  bool plain_json = false;
};

template <typename T>
struct Parsed {
  std::optional<T> value;
  ValidationError error;  // meaningful when !value
  explicit operator bool() const { return value.has_value(); }
};

// The payload is either a JSON object {"content", "type"?, "metadata"?, "client_id"?, "reply_to"?} (when its
// first non-blank byte is '{') or plain UTF-8 text, which becomes a text message.
Parsed<DraftMessage> parse_message_payload(std::string_view payload, const MessageLimits& limits);
// The same into `out`, reusing its strings' capacity, so the broker thread's per-message path
// allocates nothing once warm. The refusal, if any; `out` is then unspecified.
std::optional<ValidationError> parse_message_payload(std::string_view payload, const MessageLimits& limits,
                                                     DraftMessage& out);

// The content rules shared by new messages and edits: UTF-8, not blank, 1..max characters.
std::optional<ValidationError> validate_content(std::string_view content, const MessageLimits& limits);

// Parses a JSON object payload with the byte and nesting limits; error codes as above.
Parsed<nlohmann::json> parse_json_object(std::string_view payload, const MessageLimits& limits);

bool is_message_type(std::string_view type);

struct StoredMessage {
  std::string id;
  std::string conversation_id;
  std::string room;
  std::string sender;
  DraftMessage draft;
  std::string created_at;  // RFC 3339 UTC µs
};

// The same fields where they already are: the broker thread writes a message from the topic, the
// login and its own buffers without first copying them into a StoredMessage.
struct StoredMessageRef {
  std::string_view id;
  std::string_view conversation_id;
  std::string_view room;
  std::string_view sender;
  const DraftMessage& draft;
  std::string_view created_at;
};

// {"id","conversation_id","room","sender","content","type","metadata","client_id","created_at"}
// client_id is null when the client gave none; a reply ends with "reply_to":"<id>" (no key otherwise).
std::string to_json(const StoredMessage& m);
void append_json(std::string& out, const StoredMessage& m);
void append_json(std::string& out, const StoredMessageRef& m);

}  // namespace mqchat
