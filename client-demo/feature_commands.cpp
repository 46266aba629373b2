#include "client-demo/feature_commands.h"

#include <ostream>

#include "client-demo/render.h"
#include "common/room.h"

namespace mqchat::client {

int reply_command(ChatApi& api, Output o, const std::string& id, const std::string& text, const std::string& with) {
  const std::string room = with.empty() ? api.find_room_of(id) : api.room_with(with);
  const auto m = api.send(room, text, "text", nlohmann::json::object(), id);
  if (o.json) o.out << m.raw.dump() << "\n";
  else o.out << "sent ✓ " << m.id << (m.raw.contains("reply_to") ? " (reply to #" + short_id(id) + ")" : "") << "\n";
  return 0;
}

int react_command(ChatApi& api, Output o, const std::string& id, const std::string& emoji, bool remove,
                  const std::string& with) {
  const std::string room = with.empty() ? api.find_room_of(id) : api.room_with(with);
  const auto event = api.react(room, id, emoji, remove);
  if (o.json) {
    o.out << event.dump() << "\n";
    return 0;
  }
  if (event.is_null()) {
    o.out << (remove ? "no such reaction of yours on #" : "already reacted on #") << short_id(id) << "\n";
    return 0;
  }
  o.out << (remove ? "removed " : "reacted ") << emoji << " on #" << short_id(id) << ":";
  for (const auto& r : event["reactions"]) o.out << " " << r["emoji"].get<std::string>() << r["count"].get<long>();
  o.out << "\n";
  return 0;
}

std::string headline_text(const std::string& html) {
  static const std::pair<const char*, const char*> kReplace[] = {
      {"<mark>", "[["}, {"</mark>", "]]"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  std::string out;
  for (size_t i = 0; i < html.size();) {
    bool replaced = false;
    for (const auto& [from, to] : kReplace) {
      const std::string_view f(from);
      if (html.compare(i, f.size(), f) == 0) {
        out += to;
        i += f.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += html[i++];
  }
  return out;
}

int search_command(ChatApi& api, Output o, const std::string& query, const std::string& with, int limit,
                   const std::string& before) {
  if (limit < 1 || limit > 50) throw RequestError("--limit must be between 1 and 50", "bad_limit");
  nlohmann::json body{{"query", query}, {"limit", limit}};
  if (!with.empty()) body["room"] = api.room_with(with);
  if (!before.empty()) body["before"] = before;
  const auto page = api.ask(user_topic(api.user(), "requests/search"), body, "search");
  if (o.json) {
    o.out << page.dump() << "\n";
    return 0;
  }
  if (page["results"].empty()) o.out << "Nothing found for \"" << query << "\".\n";
  for (const auto& r : page["results"]) {
    const std::string room_name = r.value("room", std::string());
    const auto room = parse_room(room_name);  // views into room_name
    const std::string sender = r.value("sender", std::string());
    const std::string with = room ? std::string(room->other(api.user())) : room_name;
    o.out << "[" << short_time(r.value("created_at", std::string())) << "] with " << with << " · " << sender << ": "
          << headline_text(r.value("headline", std::string())) << " #"
          << short_id(r.value("id", std::string())) << "\n";
  }
  if (page["next"].is_string()) o.out << "(more: --before " << page["next"].get<std::string>() << ")\n";
  return 0;
}

int settings_command(ChatApi& api, Output o, const std::string& peer, bool archive, bool undo) {
  const std::string room = api.room_with(peer);
  const auto state = api.ask("chat/" + room + (archive ? "/archive" : "/mute"),
                             {{archive ? "archived" : "muted", !undo}}, "settings");
  if (o.json) o.out << state.dump() << "\n";
  else
    o.out << peer << ": " << (state.value("archived", false) ? "archived" : "in your list") << ", "
          << (state.value("muted", false) ? "muted" : "not muted") << "\n";
  return 0;
}

int archived_command(ChatApi& api, Output o) {
  const auto reply = api.ask(user_topic(api.user(), "requests/archived"), nlohmann::json::object(), "archived");
  if (o.json) {
    o.out << reply["conversations"].dump() << "\n";
    return 0;
  }
  auto list = parse_summaries(reply["conversations"].dump());
  if (!list || list->empty()) {
    o.out << "No archived conversations.\n";
    return 0;
  }
  for (const auto& line : conversation_lines(*list)) o.out << line << "\n";
  return 0;
}

namespace {
void print_group(Output o, const nlohmann::json& g) {
  o.out << g.value("name", std::string()) << "  " << g.value("room", std::string()) << "  ("
        << g["members"].size() << " members)\n";
  for (const auto& m : g["members"])
    o.out << "  " << m.value("user", std::string()) << "  " << m.value("role", std::string()) << "\n";
}
}  // namespace

int group_command(ChatApi& api, Output o, const std::string& op, const std::vector<std::string>& args) {
  const auto need = [&](size_t n, const char* usage) {
    if (args.size() < n) throw RequestError(std::string("usage: group ") + usage, "usage");
  };
  const auto room_arg = [&]() {
    if (args.empty() || !is_group_room(args[0]))
      throw RequestError("a group room is g: and 16 hex digits (see: conversations)", "bad_room");
    return args[0];
  };
  if (op == "send") {
    need(2, "send ROOM TEXT");
    const auto m = api.send(room_arg(), args[1]);
    if (o.json) o.out << m.raw.dump() << "\n";
    else o.out << "sent ✓ " << m.id << "\n";
    return 0;
  }
  if (op == "history") {
    need(1, "history ROOM");
    const std::string room = room_arg();
    const auto page = api.ask("chat/" + room + "/history", {{"limit", 50}}, "history");
    if (o.json) {
      o.out << page.dump() << "\n";
      return 0;
    }
    for (const auto& m : page["messages"]) {
      o.out << "[" << short_time(m.value("created_at", std::string())) << "] " << m.value("sender", std::string()) << ": "
            << (m["content"].is_string() ? m["content"].get<std::string>() : std::string("(message deleted)")) << " #"
            << short_id(m.value("id", std::string()));
      if (m.contains("read_by") && page.contains("members"))
        o.out << "  (read by " << m["read_by"].get<long>() << " of " << page["members"].get<long>() - 1 << ")";
      o.out << "\n";
    }
    return 0;
  }
  nlohmann::json body{{"op", op}};
  if (op == "create") {
    need(3, "create NAME USER USER…");
    body["name"] = args[0];
    body["users"] = std::vector<std::string>(args.begin() + 1, args.end());
  } else if (op == "info" || op == "leave") {
    need(1, "info|leave ROOM");
    body["room"] = room_arg();
  } else if (op == "rename") {
    need(2, "rename ROOM NAME");
    body["room"] = room_arg();
    body["name"] = args[1];
  } else if (op == "add") {
    need(2, "add ROOM USER…");
    body["room"] = room_arg();
    body["users"] = std::vector<std::string>(args.begin() + 1, args.end());
  } else if (op == "remove" || op == "transfer") {
    need(2, "remove|transfer ROOM USER");
    body["room"] = room_arg();
    body["user"] = args[1];
  } else if (op == "role") {
    need(3, "role ROOM USER admin|member");
    body["room"] = room_arg();
    body["user"] = args[1];
    body["role"] = args[2];
  } else {
    throw RequestError("group: create, info, rename, add, remove, leave, transfer, role, send or history", "usage");
  }
  const auto reply = api.ask(user_topic(api.user(), "requests/group"), body, "groups");
  if (o.json) o.out << reply.dump() << "\n";
  else print_group(o, reply["group"]);
  return 0;
}

}  // namespace mqchat::client
