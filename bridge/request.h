#pragma once
// Requests the bridge serves (chat/<room>/{history,read,edit,delete,react,archive,mute} and
// users/<me>/requests/{search,archived,group}), parsed and checked without
// touching the broker or the database, and the JSON it answers with.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/message.h"

namespace mqchat::bridge {

enum class RequestKind { History, Read, Edit, Delete, React, Archive, Mute, Search, Archived, Group };
constexpr size_t kRequestKinds = 10;  // the number of RequestKind values (bridge metrics keep one series each)
std::string_view kind_name(RequestKind k);

constexpr int kDefaultHistoryLimit = 50;
constexpr int kMaxHistoryLimit = 200;
constexpr size_t kMaxRequestIdChars = 128;
constexpr int kDefaultSearchLimit = 20;
constexpr int kMaxSearchLimit = 50;
constexpr size_t kMaxQueryChars = 256;
constexpr size_t kMaxEmojiBytes = 64;
constexpr size_t kMaxGroupUsers = 1024;  // per request (the group's limit is the database's)

struct Request {
  RequestKind kind = RequestKind::History;
  std::string topic;      // chat/<room>/<kind> or users/<me>/requests/<kind>, as published
  std::string room;       // canonical room name (search: the optional room filter; archived: empty)
  std::string requester;  // stamped by the broker plugin from the authenticated connection
  std::optional<std::string> request_id;

  // history
  std::optional<std::string> before, after;  // canonical lowercase UUIDs
  int limit = kDefaultHistoryLimit;

  // read: exactly one of message_id / up_to (target holds it; up_to says which)
  // edit / delete: target is "id"
  std::string target;
  bool up_to = false;
  std::string content;  // edit

  // react: target is "id"; emoji, and remove (true: take it away)
  std::string emoji;
  bool remove = false;
  // archive / mute: the new state ("archived" / "muted", default true)
  bool on = true;
  // search: query, optional room filter (in room), before (page), limit
  std::string query;
  // group: op (create, info, rename, add, remove, leave, transfer, role), room (not for create),
  // name (create, rename), users (create, add; one for remove, transfer, role), role (role)
  std::string op, name, role;
  std::vector<std::string> users;

  // MQTT 5 request/response: where to answer (already checked to be under users/<requester>/)
  std::string response_topic;
  std::string correlation_data;
};

struct RequestError {
  // Empty when the request cannot be attributed to anyone (no stamped requester): it is then only
  // logged, never answered, since answering would need to trust the payload.
  std::string requester;
  std::string topic;
  std::optional<std::string> request_id;
  std::string code;
  std::string reason;
  std::string response_topic;  // only if it was acceptable
  std::string correlation_data;
};

using ParsedRequest = std::variant<Request, RequestError>;

// `topic` as delivered, `payload` as the plugin forwarded it (JSON object with "requester"),
// `response_topic`/`correlation_data` from the MQTT 5 properties (empty when absent).
ParsedRequest parse_request(std::string_view topic, std::string_view payload, std::string_view response_topic,
                            std::string_view correlation_data, const MessageLimits& limits = {});

// A response topic a requester may ask for: users/<requester>/<something> that only the requester
// reads — no wildcards, and not the topics others read or that hold retained state
// (users/<u>/presence…, users/<u>/conversations…).
bool is_allowed_response_topic(std::string_view topic, std::string_view requester);

// May the answer to `r` be published on `topic`? Its room's events, or an allowed response topic of
// the requester (errors, history, or the MQTT 5 response topic). Checked again right before
// publishing, whatever built the topic (defence in depth; the plugin refuses the rest too).
bool is_allowed_reply_topic(std::string_view topic, std::string_view room, std::string_view requester);

// {"topic","request_id"?,"code","reason"} for users/<me>/errors.
std::string error_json(const RequestError& e);

// Builds the error for a request that was understood but refused.
RequestError refuse(const Request& r, std::string code, std::string reason);

// Events on chat/<room>/events.
std::string read_event_json(std::string_view reader, std::string_view id, bool up_to, std::string_view read_at);
std::string edited_event_json(std::string_view id, std::string_view content, std::string_view edited_at);
std::string deleted_event_json(std::string_view id, std::string_view deleted_at);

// The key that orders requests: a room's requests one at a time, a user's own requests likewise.
std::string queue_key(std::string_view topic);

// Is this request about a user (users/<me>/requests/…) rather than a room?
// Group operations answer privately too: their events come from the database's outbox.
inline bool is_user_request(RequestKind k) {
  return k == RequestKind::Search || k == RequestKind::Archived || k == RequestKind::Group;
}

}  // namespace mqchat::bridge
