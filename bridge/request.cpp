#include "bridge/request.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/json_text.h"
#include "common/room.h"
#include "common/utf8.h"
#include "common/uuid.h"

namespace mqchat::bridge {

namespace {

using nlohmann::json;

std::optional<RequestKind> kind_of(ChatChannel c) {
  switch (c) {
    case ChatChannel::History: return RequestKind::History;
    case ChatChannel::Read: return RequestKind::Read;
    case ChatChannel::Edit: return RequestKind::Edit;
    case ChatChannel::Delete: return RequestKind::Delete;
    case ChatChannel::React: return RequestKind::React;
    case ChatChannel::Archive: return RequestKind::Archive;
    case ChatChannel::Mute: return RequestKind::Mute;
    default: return std::nullopt;
  }
}

// A UUID field: absent → nullopt with ok; present → canonical text or an error.
struct IdField {
  bool present = false;
  bool ok = true;
  std::string value;
};

IdField id_field(const json& doc, const char* name) {
  IdField f;
  const auto it = doc.find(name);
  if (it == doc.end() || it->is_null()) return f;
  f.present = true;
  if (!it->is_string()) {
    f.ok = false;
    return f;
  }
  const auto id = parse_uuid(it->get_ref<const std::string&>());
  if (!id) {
    f.ok = false;
    return f;
  }
  f.value = to_string(*id);
  return f;
}

}  // namespace

std::string_view kind_name(RequestKind k) {
  switch (k) {
    case RequestKind::History: return "history";
    case RequestKind::Read: return "read";
    case RequestKind::Edit: return "edit";
    case RequestKind::Delete: return "delete";
    case RequestKind::React: return "react";
    case RequestKind::Archive: return "archive";
    case RequestKind::Mute: return "mute";
    case RequestKind::Search: return "search";
    case RequestKind::Archived: return "archived";
    case RequestKind::Group: return "group";
  }
  return "?";
}

bool is_allowed_response_topic(std::string_view topic, std::string_view requester) {
  if (requester.empty() || topic.find_first_of("+#") != std::string_view::npos) return false;
  const auto t = parse_user_topic(topic);
  if (!t || t->user != requester || t->rest.empty()) return false;
  const std::string_view first = t->rest.substr(0, t->rest.find('/'));
  return !first.empty() && first != "presence" && first != "conversations" && first != "requests";
}

std::string queue_key(std::string_view topic) {
  if (const auto t = parse_chat_topic(topic)) return std::string(t->room_name);
  if (const auto u = parse_user_request_topic(topic)) return "users/" + std::string(u->user);
  return {};
}

bool is_allowed_reply_topic(std::string_view topic, std::string_view room, std::string_view requester) {
  if (const auto t = parse_chat_topic(topic)) return t->channel == ChatChannel::Events && t->room_name == room;
  return is_allowed_response_topic(topic, requester);
}

RequestError refuse(const Request& r, std::string code, std::string reason) {
  RequestError e;
  e.requester = r.requester;
  e.topic = r.topic;
  e.request_id = r.request_id;
  e.code = std::move(code);
  e.reason = std::move(reason);
  e.response_topic = r.response_topic;
  e.correlation_data = r.correlation_data;
  return e;
}

ParsedRequest parse_request(std::string_view topic, std::string_view payload, std::string_view response_topic,
                            std::string_view correlation_data, const MessageLimits& limits) {
  RequestError err;
  err.topic.assign(topic);
  auto fail = [&err](std::string code, std::string reason) -> ParsedRequest {
    err.code = std::move(code);
    err.reason = std::move(reason);
    return err;
  };

  const auto t = parse_chat_topic(topic);
  const auto u = t ? std::nullopt : parse_user_request_topic(topic);
  auto kind = t ? kind_of(t->channel) : std::nullopt;
  if (u) {
    kind = u->kind == UserRequest::Search   ? RequestKind::Search
           : u->kind == UserRequest::Archived ? RequestKind::Archived
                                              : RequestKind::Group;
  }
  if (!kind) return fail("bad_topic", "not a request topic");

  auto parsed = parse_json_object(payload, limits);
  if (!parsed) return fail(parsed.error.code, parsed.error.reason);
  const json& doc = *parsed.value;

  // Who asked: only the broker plugin's stamp counts. Without it nobody can be answered.
  const auto who = doc.find("requester");
  if (who == doc.end() || !who->is_string() || !is_valid_username(who->get_ref<const std::string&>()))
    return fail("no_requester", "request carries no authenticated requester");
  const std::string requester = who->get<std::string>();
  // A group's membership is checked by the plugin (ACL) and again by the database.
  if (t && !t->group && !t->room.has(requester))
    return fail("not_participant", requester + " is not a participant of the room");
  if (u && u->user != requester) return fail("forbidden", requester + " may only ask on users/" + requester + "/requests/");
  err.requester = requester;

  if (const auto rid = doc.find("request_id"); rid != doc.end() && !rid->is_null()) {
    if (!rid->is_string()) return fail("bad_request", "\"request_id\" must be a string");
    const auto& s = rid->get_ref<const std::string&>();
    const auto chars = utf8_length(s);
    if (!chars || *chars > kMaxRequestIdChars)
      return fail("bad_request", "\"request_id\" must have at most " + std::to_string(kMaxRequestIdChars) +
                                     " characters");
    err.request_id = s;
  }

  if (!response_topic.empty()) {
    if (!is_allowed_response_topic(response_topic, requester))
      return fail("bad_response_topic", "the response topic must be under users/" + requester + "/");
    err.response_topic.assign(response_topic);
    err.correlation_data.assign(correlation_data);
  }

  Request r;
  r.kind = *kind;
  r.topic.assign(topic);
  if (t) r.room.assign(t->room_name);
  r.requester = requester;
  r.request_id = err.request_id;
  r.response_topic = err.response_topic;
  r.correlation_data = err.correlation_data;

  switch (r.kind) {
    case RequestKind::History: {
      const auto before = id_field(doc, "before");
      const auto after = id_field(doc, "after");
      if (!before.ok) return fail("bad_request", "\"before\" must be a message id (UUID)");
      if (!after.ok) return fail("bad_request", "\"after\" must be a message id (UUID)");
      if (before.present) r.before = before.value;
      if (after.present) r.after = after.value;
      if (const auto lim = doc.find("limit"); lim != doc.end() && !lim->is_null()) {
        if (!lim->is_number_integer() || lim->get<long long>() < 1 || lim->get<long long>() > kMaxHistoryLimit)
          return fail("bad_request", "\"limit\" must be an integer from 1 to " + std::to_string(kMaxHistoryLimit));
        r.limit = static_cast<int>(lim->get<long long>());
      }
      break;
    }
    case RequestKind::Read: {
      const auto one = id_field(doc, "message_id");
      const auto upto = id_field(doc, "up_to");
      if (!one.ok) return fail("bad_request", "\"message_id\" must be a message id (UUID)");
      if (!upto.ok) return fail("bad_request", "\"up_to\" must be a message id (UUID)");
      if (one.present == upto.present) return fail("bad_request", "give exactly one of \"message_id\" and \"up_to\"");
      r.up_to = upto.present;
      r.target = r.up_to ? upto.value : one.value;
      break;
    }
    case RequestKind::Edit:
    case RequestKind::Delete: {
      const auto id = id_field(doc, "id");
      if (!id.present || !id.ok) return fail("bad_request", "\"id\" must be a message id (UUID)");
      r.target = id.value;
      if (r.kind == RequestKind::Edit) {
        const auto c = doc.find("content");
        if (c == doc.end() || !c->is_string()) return fail("bad_content", "\"content\" must be a string");
        r.content = c->get<std::string>();
        if (auto bad = validate_content(r.content, limits)) return fail(bad->code, bad->reason);
      }
      break;
    }
    case RequestKind::React: {
      const auto id = id_field(doc, "id");
      if (!id.present || !id.ok) return fail("bad_request", "\"id\" must be a message id (UUID)");
      r.target = id.value;
      const auto e = doc.find("emoji");
      if (e == doc.end() || !e->is_string() || e->get_ref<const std::string&>().empty() ||
          e->get_ref<const std::string&>().size() > kMaxEmojiBytes)
        return fail("bad_emoji", "\"emoji\" must be one emoji");  // the rest is checked by Postgres
      r.emoji = e->get<std::string>();
      if (const auto rm = doc.find("remove"); rm != doc.end() && !rm->is_null()) {
        if (!rm->is_boolean()) return fail("bad_request", "\"remove\" must be true or false");
        r.remove = rm->get<bool>();
      }
      break;
    }
    case RequestKind::Archive:
    case RequestKind::Mute: {
      const char* key = r.kind == RequestKind::Archive ? "archived" : "muted";
      if (const auto on = doc.find(key); on != doc.end() && !on->is_null()) {
        if (!on->is_boolean()) return fail("bad_request", std::string("\"") + key + "\" must be true or false");
        r.on = on->get<bool>();
      }
      break;
    }
    case RequestKind::Search: {
      const auto q = doc.find("query");
      if (q == doc.end() || !q->is_string()) return fail("bad_request", "\"query\" must be a string");
      r.query = q->get<std::string>();
      const auto chars = utf8_length(r.query);
      if (!chars || *chars == 0 || *chars > kMaxQueryChars || !has_visible_char(r.query))
        return fail("bad_request", "\"query\" must have 1.." + std::to_string(kMaxQueryChars) + " characters, not blank");
      if (const auto room = doc.find("room"); room != doc.end() && !room->is_null()) {
        if (!room->is_string() ||
            (!parse_room(room->get_ref<const std::string&>()) && !is_group_room(room->get_ref<const std::string&>())))
          return fail("bad_request", "\"room\" must be a room name");
        r.room = room->get<std::string>();
      }
      const auto before = id_field(doc, "before");
      if (!before.ok) return fail("bad_request", "\"before\" must be a message id (UUID): a page's \"next\"");
      if (before.present) r.before = before.value;
      r.limit = kDefaultSearchLimit;
      if (const auto lim = doc.find("limit"); lim != doc.end() && !lim->is_null()) {
        if (!lim->is_number_integer() || lim->get<long long>() < 1 || lim->get<long long>() > kMaxSearchLimit)
          return fail("bad_request", "\"limit\" must be an integer from 1 to " + std::to_string(kMaxSearchLimit));
        r.limit = static_cast<int>(lim->get<long long>());
      }
      break;
    }
    case RequestKind::Archived: break;
    case RequestKind::Group: {
      const auto op = doc.find("op");
      static constexpr std::string_view kOps[] = {"create", "info",     "rename", "add",
                                                  "remove", "leave",    "transfer", "role"};
      if (op == doc.end() || !op->is_string() ||
          std::find(std::begin(kOps), std::end(kOps), op->get_ref<const std::string&>()) == std::end(kOps))
        return fail("bad_request", "\"op\" is create, info, rename, add, remove, leave, transfer or role");
      r.op = op->get<std::string>();
      if (r.op != "create") {
        const auto room = doc.find("room");
        if (room == doc.end() || !room->is_string() || !is_group_room(room->get_ref<const std::string&>()))
          return fail("bad_request", "\"room\" must be a group room (g: and 16 hex digits)");
        r.room = room->get<std::string>();
      }
      if (r.op == "create" || r.op == "rename") {
        const auto name = doc.find("name");
        if (name == doc.end() || !name->is_string()) return fail("bad_name", "\"name\" must be a string");
        r.name = name->get<std::string>();
        const auto chars = utf8_length(r.name);
        if (!chars || *chars == 0 || *chars > 100 || !has_visible_char(r.name))
          return fail("bad_name", "a group name has 1 to 100 characters, not blank");
      }
      auto take_user = [&r](const json& v) {
        if (!v.is_string() || !is_valid_username(v.get_ref<const std::string&>())) return false;
        r.users.push_back(v.get<std::string>());
        return true;
      };
      if (r.op == "create" || r.op == "add") {
        const auto users = doc.find("users");
        if (users == doc.end() || !users->is_array() || users->empty() || users->size() > kMaxGroupUsers)
          return fail("bad_request", "\"users\" must be an array of 1.." + std::to_string(kMaxGroupUsers) + " usernames");
        for (const auto& u : *users)
          if (!take_user(u)) return fail("unknown_user", "\"users\" must hold usernames");
      } else if (r.op == "remove" || r.op == "transfer" || r.op == "role") {
        const auto user = doc.find("user");
        if (user == doc.end() || !take_user(*user)) return fail("bad_request", "\"user\" must be a username");
      }
      if (r.op == "role") {
        const auto role = doc.find("role");
        if (role == doc.end() || !role->is_string() ||
            (role->get_ref<const std::string&>() != "admin" && role->get_ref<const std::string&>() != "member"))
          return fail("bad_request", "\"role\" is admin or member");
        r.role = role->get<std::string>();
      }
      break;
    }
  }
  return r;
}

std::string error_json(const RequestError& e) {
  std::string out = "{\"topic\":";
  append_json_string(out, e.topic);
  if (e.request_id) {
    out.append(",\"request_id\":");
    append_json_string(out, *e.request_id);
  }
  out.append(",\"code\":");
  append_json_string(out, e.code);
  out.append(",\"reason\":");
  append_json_string(out, e.reason);
  out.push_back('}');
  return out;
}

std::string read_event_json(std::string_view reader, std::string_view id, bool up_to, std::string_view read_at) {
  std::string out = "{\"event\":\"read\",\"reader\":";
  append_json_string(out, reader);
  out.append(up_to ? ",\"up_to\":" : ",\"message_id\":");
  append_json_string(out, id);
  out.append(",\"read_at\":");
  append_json_string(out, read_at);
  out.push_back('}');
  return out;
}

std::string edited_event_json(std::string_view id, std::string_view content, std::string_view edited_at) {
  std::string out = "{\"event\":\"edited\",\"id\":";
  append_json_string(out, id);
  out.append(",\"content\":");
  append_json_string(out, content);
  out.append(",\"edited_at\":");
  append_json_string(out, edited_at);
  out.push_back('}');
  return out;
}

std::string deleted_event_json(std::string_view id, std::string_view deleted_at) {
  std::string out = "{\"event\":\"deleted\",\"id\":";
  append_json_string(out, id);
  out.append(",\"deleted_at\":");
  append_json_string(out, deleted_at);
  out.push_back('}');
  return out;
}

}  // namespace mqchat::bridge
