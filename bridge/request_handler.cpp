#include "bridge/request_handler.h"

#include <nlohmann/json.hpp>

#include "bridge/database.h"
#include "common/clock.h"
#include "common/room.h"
#include "common/sql_array.h"
#include "common/uuid.h"

namespace mqchat::bridge {

namespace {

using nlohmann::json;

Outcome refused(const Request& r, std::string code, std::string reason) {
  Outcome o;
  o.publications.push_back(error_publication(refuse(r, std::move(code), std::move(reason))));
  return o;
}

Outcome not_found(const Request& r) {
  Outcome o;
  o.status = Outcome::Status::NotYetStored;
  o.publications.push_back(
      error_publication(refuse(r, "not_found", "no message " + r.target + " in " + r.room)));
  return o;
}

Outcome event(const Request& r, std::string payload) {
  Outcome o;
  o.publications.push_back({chat_topic(r.room, ChatChannel::Events), std::move(payload), false, {}});
  return o;
}

Outcome history(const Request& r, pqxx::work& tx) {
  const auto page = json::parse(
      tx.exec_params1("select mqchat_history($1, $2, $3::uuid, $4::uuid, $5)::text", r.room, r.requester,
                      r.before, r.after, r.limit)[0]
          .as<std::string>());
  json reply{{"room", r.room}, {"request_id", r.request_id ? json(*r.request_id) : json(nullptr)},
             {"messages", page["messages"]}, {"has_more", page["has_more"]}};
  if (page.contains("members")) reply["members"] = page["members"];  // a group: "read by N of members − 1"
  Outcome o;
  o.publications.push_back({r.response_topic.empty() ? user_topic(r.requester, "history") : r.response_topic,
                            reply.dump(), false, r.correlation_data});
  return o;
}

Outcome read(const Request& r, pqxx::work& tx) {
  std::optional<std::string> one, up_to;
  (r.up_to ? up_to : one) = r.target;
  const auto res = json::parse(tx.exec_params1("select mqchat_mark_read($1, $2, $3::uuid, $4::uuid)::text", r.room,
                                               r.requester, one, up_to)[0]
                                   .as<std::string>());
  const std::string status = res["status"];
  if (status == "not_found") return not_found(r);
  if (status == "own") return refused(r, "forbidden", "only the recipient marks a message read, not its sender");
  // Nothing newly read (a repeat, or only own or deleted messages up to there): no new receipt
  // for the room. A requester waiting on its request_id is told so, privately.
  if (res["marked"].get<long>() == 0) {
    if (!r.request_id) return {};
    return refused(r, "already_read", "nothing new to mark read up to " + r.target);
  }
  std::string payload = read_event_json(r.requester, r.target, r.up_to, res["read_at"].get<std::string>());
  if (is_group_room(r.room)) {
    // "read by 2 of 4": how many members (its sender not counted) have read the target, of how many.
    const auto counts = tx.exec_params1("select mqchat_group_read_counts($1::uuid)::text", r.target);
    json ev = json::parse(payload);
    ev.update(json::parse(counts[0].as<std::string>()));
    payload = ev.dump();
  }
  return event(r, std::move(payload));
}

Outcome change(const Request& r, pqxx::work& tx) {
  const bool is_edit = r.kind == RequestKind::Edit;
  const std::optional<std::string> content = is_edit ? std::optional<std::string>(r.content) : std::nullopt;
  const auto res = json::parse(tx.exec_params1("select mqchat_change_message($1, $2, $3::uuid, $4)::text", r.room,
                                               r.requester, r.target, content)[0]
                                   .as<std::string>());
  const std::string status = res["status"];
  if (status == "not_found") return not_found(r);
  if (status == "forbidden")
    return refused(r, "forbidden", std::string("you can only ") + (is_edit ? "edit" : "delete") + " your own messages");
  if (status == "deleted") return refused(r, "deleted", "message " + r.target + " was deleted");
  if (is_edit) return event(r, edited_event_json(r.target, r.content, res["edited_at"].get<std::string>()));
  return event(r, deleted_event_json(r.target, res["deleted_at"].get<std::string>()));
}

// Reactions: the room's event comes from SQL (the same JSON as the SQL API's outbox event).
Outcome react(const Request& r, pqxx::work& tx) {
  const auto res = json::parse(tx.exec_params1("select mqchat_react($1, $2, $3::uuid, $4, $5)::text", r.room,
                                               r.requester, r.target, r.emoji, !r.remove)[0]
                                   .as<std::string>());
  const std::string status = res["status"];
  if (status == "not_found") return not_found(r);
  if (status == "bad_emoji") return refused(r, "bad_emoji", "\"emoji\" must be one emoji (up to 16 code points)");
  if (status == "too_many") return refused(r, "too_many", "too many different reactions of yours on this message");
  if (status == "deleted") return refused(r, "deleted", "message " + r.target + " was deleted");
  // Already there / already gone: no event; a requester waiting on its request_id is told so.
  if (!res.value("changed", false)) {
    if (!r.request_id) return {};
    return refused(r, "unchanged", std::string("that reaction is ") + (r.remove ? "not there" : "already there"));
  }
  return event(r, res["event"].dump());
}

// A private answer to the requester: on their MQTT 5 response topic, or users/<me>/<leaf>.
Outcome reply(const Request& r, std::string_view leaf, json body) {
  body["request_id"] = r.request_id ? json(*r.request_id) : json(nullptr);
  Outcome o;
  o.publications.push_back({r.response_topic.empty() ? user_topic(r.requester, leaf) : r.response_topic, body.dump(),
                            false, r.correlation_data});
  return o;
}

// Archive / mute: per user, so answered privately; the summary follows (the SQL notifies the room).
Outcome settings(const Request& r, pqxx::work& tx) {
  const char* sql = r.kind == RequestKind::Archive ? "select mqchat_set_conversation($1, $2, $3, null)::text"
                                                     : "select mqchat_set_conversation($1, $2, null, $3)::text";
  auto res = json::parse(tx.exec_params1(sql, r.room, r.requester, r.on)[0].as<std::string>());
  if (res["status"] == "not_found") return refused(r, "not_found", "no conversation " + r.room + " yet");
  res.erase("status");
  return reply(r, "settings", std::move(res));
}

Outcome search(const Request& r, pqxx::work& tx) {
  const std::optional<std::string> room = r.room.empty() ? std::nullopt : std::optional<std::string>(r.room);
  auto res = json::parse(tx.exec_params1("select mqchat_search($1, $2, $3, $4::uuid, $5)::text", r.requester, r.query,
                                         room, r.before, r.limit)[0]
                             .as<std::string>());
  if (res["status"] != "ok") return refused(r, "bad_request", res.value("reason", std::string("bad query")));
  return reply(r, "search", json{{"query", r.query}, {"results", res["results"]}, {"next", res["next"]}});
}

Outcome archived(const Request& r, pqxx::work& tx) {
  const auto list = json::parse(tx.exec_params1("select mqchat_archived($1)::text", r.requester)[0].as<std::string>());
  return reply(r, "archived", json{{"conversations", list}});
}

// Group operations: the database checks roles and limits and queues the room's event itself (the
// outbox), so the SQL API and MQTT publish the same; the requester gets the group as it now stands.
Outcome group(const Request& r, pqxx::work& tx) {
  const std::optional<std::string> room = r.room.empty() ? std::nullopt : std::optional<std::string>(r.room);
  const std::optional<std::string> name = r.name.empty() ? std::nullopt : std::optional<std::string>(r.name);
  const std::optional<std::string> role = r.role.empty() ? std::nullopt : std::optional<std::string>(r.role);
  auto res = json::parse(
      tx.exec_params1("select mqchat_group_request($1, $2, $3, $4, $5::text[], $6)::text", r.requester, r.op, room,
                      name, array_literal(r.users), role)[0]
          .as<std::string>());
  const std::string status = res["status"];
  if (status != "ok") return refused(r, status, res.value("reason", status));
  json body{{"op", r.op}, {"group", res["group"]}};
  if (res.value("unchanged", false)) body["unchanged"] = true;
  return reply(r, "groups", std::move(body));
}

}  // namespace

Publication error_publication(const RequestError& e) {
  return {user_topic(e.requester, "errors"), error_json(e), false, {}};
}

Outcome handle_request(const Request& r, pqxx::work& tx) {
  switch (r.kind) {
    case RequestKind::History: return history(r, tx);
    case RequestKind::Read: return read(r, tx);
    case RequestKind::Edit:
    case RequestKind::Delete: return change(r, tx);
    case RequestKind::React: return react(r, tx);
    case RequestKind::Archive:
    case RequestKind::Mute: return settings(r, tx);
    case RequestKind::Search: return search(r, tx);
    case RequestKind::Archived: return archived(r, tx);
    case RequestKind::Group: return group(r, tx);
  }
  return {};
}

bool is_recent_message_id(const std::string& id, std::chrono::milliseconds window) {
  const auto u = parse_uuid(id);
  if (!u || ((*u)[6] >> 4) != 7) return false;
  int64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | (*u)[static_cast<size_t>(i)];
  const int64_t now_ms = now_unix_us() / 1000;
  return ms <= now_ms + 1000 && now_ms - ms <= window.count();
}

}  // namespace mqchat::bridge
