#include "client-demo/chat_api.h"

#include <algorithm>

#include "common/room.h"
#include "common/uuid.h"

namespace mqchat::client {

namespace {
bool is_on(const Incoming& in, const std::string& topic) { return in.topic == topic; }
}  // namespace

ChatApi::ChatApi(Connection& conn, std::chrono::milliseconds timeout) : conn_(conn), timeout_(timeout) {
  if (conn_.subscribe(user_topic(conn_.user(), "#")) >= 0x80)
    throw RequestError("the broker refused the subscription to users/" + conn_.user() + "/#");
}

std::string ChatApi::room_with(const std::string& peer) const {
  if (!is_valid_username(peer))
    throw RequestError("'" + peer + "' is not a valid username (1-32 of a-z 0-9 . -, starting with a letter or digit)",
                       "bad_username");
  auto room = make_room(conn_.user(), peer);
  if (!room) throw RequestError("you cannot chat with yourself", "self_room");
  return *room;
}

void ChatApi::watch_room(const std::string& room) {
  if (std::find(watched_.begin(), watched_.end(), room) != watched_.end()) return;
  if (conn_.subscribe("chat/" + room + "/#") >= 0x80) {
    // Our own room with a valid name: the broker only refuses it when the other user does not exist.
    const auto r = parse_room(room);
    throw RequestError(r ? "no such user: " + std::string(r->other(conn_.user()))
                         : "not allowed to read chat/" + room, "not_authorized");
  }
  watched_.push_back(room);
}

void ChatApi::fail_with_error_or_timeout(const std::string& what, const std::string& request_id,
                                         const std::string& client_id) {
  const std::string errors = user_topic(conn_.user(), "errors");
  const auto err = conn_.wait_for(
      [&](const Incoming& in) {
        if (!is_on(in, errors)) return false;
        const auto e = parse_error(in.payload);
        return e && ((!request_id.empty() && e->request_id == request_id) ||
                     (!client_id.empty() && e->client_id == client_id));
      },
      timeout_);
  if (!err) throw RequestError("no answer to " + what + " within " + std::to_string(timeout_.count() / 1000) +
                               " s (is the bridge running?)", "timeout");
  const auto e = parse_error(err->payload);
  throw RequestError(e->reason.empty() ? e->code : e->reason, e->code);
}

ChatMessage ChatApi::send(const std::string& room, const std::string& content, const std::string& type,
                          const nlohmann::json& metadata, const std::string& reply_to) {
  watch_room(room);
  const std::string client_id = random_id(16);
  const std::string topic = "chat/" + room + "/messages";
  const int rc = conn_.publish(topic, send_payload(content, type, metadata, client_id, reply_to));
  const std::string errors = user_topic(conn_.user(), "errors");
  const auto got = conn_.wait_for(
      [&](const Incoming& in) {
        if (is_on(in, errors)) {
          const auto e = parse_error(in.payload);
          return e && e->client_id == client_id;
        }
        if (!is_on(in, topic) || rc >= 0x80) return false;
        const auto m = parse_chat_message(in.payload);
        return m && m->client_id == client_id && m->sender == conn_.user();
      },
      timeout_);
  if (!got) {
    if (rc >= 0x80) throw RequestError("the broker refused the message (reason code " + std::to_string(rc) + ")");
    throw RequestError("the message was accepted but its stored copy did not come back within " +
                       std::to_string(timeout_.count() / 1000) + " s", "timeout");
  }
  if (got->topic == errors) {
    const auto e = parse_error(got->payload);
    throw RequestError(e->reason, e->code);
  }
  return *parse_chat_message(got->payload);
}

HistoryPage ChatApi::history(const std::string& room, int limit, const std::string& before, const std::string& after) {
  const std::string request_id = random_id(12);
  const std::string replies = user_topic(conn_.user(), "history");
  const std::string errors = user_topic(conn_.user(), "errors");
  if (conn_.publish("chat/" + room + "/history", history_request(request_id, limit, before, after)) >= 0x80)
    throw RequestError("not allowed to ask for the history of " + room, "not_authorized");
  const auto got = conn_.wait_for(
      [&](const Incoming& in) {
        if (is_on(in, replies)) {
          const auto p = parse_history_page(in.payload);
          return p && p->request_id == request_id;
        }
        if (is_on(in, errors)) {
          const auto e = parse_error(in.payload);
          return e && e->request_id == request_id;
        }
        return false;
      },
      timeout_);
  if (!got) fail_with_error_or_timeout("the history request", request_id, "");
  if (got->topic == errors) {
    const auto e = parse_error(got->payload);
    throw RequestError(e->reason, e->code);
  }
  return *parse_history_page(got->payload);
}

std::vector<ConversationSummary> ChatApi::conversations() {
  const std::string topic = user_topic(conn_.user(), "conversations");
  const auto got = conn_.wait_for([&](const Incoming& in) { return is_on(in, topic); }, timeout_ / 2);
  if (!got) return {};
  auto list = parse_summaries(got->payload);
  if (!list) throw RequestError("the conversation summary is not valid JSON");
  return *list;
}

ChatEvent ChatApi::await_event(const std::string& room, ChatEvent::Kind kind, const std::string& id,
                               const std::string& request_id) {
  const std::string events = "chat/" + room + "/events";
  const std::string errors = user_topic(conn_.user(), "errors");
  const auto got = conn_.wait_for(
      [&](const Incoming& in) {
        if (is_on(in, errors)) {
          const auto e = parse_error(in.payload);
          return e && e->request_id == request_id;
        }
        if (!is_on(in, events)) return false;
        const auto e = parse_event(in.payload);
        if (!e || e->kind != kind) return false;
        if (kind == ChatEvent::Kind::Read) return e->reader == conn_.user() && (e->up_to == id || e->message_id == id);
        return e->id == id;
      },
      timeout_);
  if (!got) throw RequestError("no answer within " + std::to_string(timeout_.count() / 1000) +
                               " s (is the bridge running?)", "timeout");
  if (got->topic == errors) {
    const auto e = parse_error(got->payload);
    throw RequestError(e->reason, e->code);
  }
  return *parse_event(got->payload);
}

ChatEvent ChatApi::mark_read(const std::string& room, const std::string& up_to) {
  watch_room(room);
  const std::string request_id = random_id(12);
  nlohmann::json req{{"up_to", up_to}, {"request_id", request_id}};
  if (conn_.publish("chat/" + room + "/read", req.dump()) >= 0x80)
    throw RequestError("not allowed to mark messages of " + room + " as read", "not_authorized");
  return await_event(room, ChatEvent::Kind::Read, up_to, request_id);
}

ChatEvent ChatApi::edit(const std::string& room, const std::string& id, const std::string& content) {
  watch_room(room);
  const std::string request_id = random_id(12);
  if (conn_.publish("chat/" + room + "/edit", edit_request(id, content, request_id)) >= 0x80)
    throw RequestError("not allowed to edit messages of " + room, "not_authorized");
  return await_event(room, ChatEvent::Kind::Edited, id, request_id);
}

ChatEvent ChatApi::remove(const std::string& room, const std::string& id) {
  watch_room(room);
  const std::string request_id = random_id(12);
  if (conn_.publish("chat/" + room + "/delete", delete_request(id, request_id)) >= 0x80)
    throw RequestError("not allowed to delete messages of " + room, "not_authorized");
  return await_event(room, ChatEvent::Kind::Deleted, id, request_id);
}

std::string ChatApi::find_room_of(const std::string& id) {
  if (!parse_uuid(id)) throw RequestError("'" + id + "' is not a message id (a UUID)", "bad_id");
  const std::string after_id = next_uuid(id);
  for (const auto& c : conversations()) {
    const auto page = history(c.room, 1, after_id);
    if (!page.messages.empty() && page.messages.back().id == id) return c.room;
  }
  throw RequestError("no message " + id + " in your conversations", "not_found");
}

nlohmann::json ChatApi::ask(const std::string& topic, nlohmann::json body, const std::string& reply_leaf) {
  const std::string request_id = random_id(12);
  const std::string replies = user_topic(conn_.user(), reply_leaf);
  const std::string errors = user_topic(conn_.user(), "errors");
  body["request_id"] = request_id;
  if (conn_.publish(topic, body.dump()) >= 0x80) throw RequestError("the broker refused " + topic, "not_authorized");
  const auto got = conn_.wait_for(
      [&](const Incoming& in) {
        if (!is_on(in, replies) && !is_on(in, errors)) return false;
        const auto j = nlohmann::json::parse(in.payload, nullptr, false);
        return j.is_object() && j.value("request_id", nlohmann::json()) == request_id;
      },
      timeout_);
  if (!got) fail_with_error_or_timeout("the request", request_id, "");
  if (got->topic == errors) {
    const auto e = parse_error(got->payload);
    throw RequestError(e->reason, e->code);
  }
  return nlohmann::json::parse(got->payload);
}

nlohmann::json ChatApi::react(const std::string& room, const std::string& id, const std::string& emoji, bool remove) {
  watch_room(room);
  const std::string request_id = random_id(12);
  const std::string events = "chat/" + room + "/events";
  const std::string errors = user_topic(conn_.user(), "errors");
  nlohmann::json req{{"id", id}, {"emoji", emoji}, {"request_id", request_id}};
  if (remove) req["remove"] = true;
  if (conn_.publish("chat/" + room + "/react", req.dump()) >= 0x80)
    throw RequestError("not allowed to react in " + room, "not_authorized");
  const auto got = conn_.wait_for(
      [&](const Incoming& in) {
        if (is_on(in, errors)) {
          const auto e = parse_error(in.payload);
          return e && e->request_id == request_id;
        }
        if (!is_on(in, events)) return false;
        const auto e = nlohmann::json::parse(in.payload, nullptr, false);
        return e.is_object() && e.value("event", "") == "reaction" && e.value("id", "") == id &&
               e.value("user", "") == conn_.user() && e.value("emoji", "") == emoji;
      },
      timeout_);
  if (!got) throw RequestError("no answer within " + std::to_string(timeout_.count() / 1000) +
                               " s (is the bridge running?)", "timeout");
  if (got->topic == errors) {
    const auto e = parse_error(got->payload);
    if (e->code == "unchanged") return nullptr;
    throw RequestError(e->reason, e->code);
  }
  return nlohmann::json::parse(got->payload);
}

std::string next_uuid(const std::string& id) {
  auto u = parse_uuid(id);
  if (!u) return id;
  for (int i = static_cast<int>(u->size()) - 1; i >= 0; --i)
    if (++(*u)[static_cast<size_t>(i)] != 0) break;
  return to_string(*u);
}

}  // namespace mqchat::client
