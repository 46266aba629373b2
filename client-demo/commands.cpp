#include "client-demo/commands.h"

#include <ostream>

#include "client-demo/render.h"

namespace mqchat::client {

int send_command(ChatApi& api, Output o, const std::string& peer, const std::string& text, const std::string& type,
                 const std::string& metadata_json) {
  auto metadata = nlohmann::json::object();
  if (!metadata_json.empty()) {
    metadata = nlohmann::json::parse(metadata_json, nullptr, false);
    if (!metadata.is_object()) throw RequestError("--metadata must be a JSON object", "bad_metadata");
  }
  const auto m = api.send(api.room_with(peer), text, type, metadata);
  if (o.json) o.out << m.raw.dump() << "\n";
  else o.out << "sent ✓ " << m.id << "\n";
  return 0;
}

int conversations_command(ChatApi& api, Output o) {
  const auto list = api.conversations();
  if (o.json) {
    auto arr = nlohmann::json::array();
    for (const auto& c : list) arr.push_back(c.raw);
    o.out << arr.dump() << "\n";
    return 0;
  }
  for (const auto& line : conversation_lines(list)) o.out << line << "\n";
  return 0;
}

int history_command(ChatApi& api, Output o, const std::string& me, const std::string& peer, int limit,
                    const std::string& before) {
  if (limit < 1 || limit > 200) throw RequestError("--limit must be between 1 and 200", "bad_limit");
  const auto page = api.history(api.room_with(peer), limit, before);
  if (o.json) {
    o.out << page.raw.dump() << "\n";
    return 0;
  }
  if (page.messages.empty()) o.out << "No messages with " << peer << " yet.\n";
  if (page.has_more && !page.messages.empty())
    o.out << "(older messages: --before " << page.messages.front().id << ")\n";
  for (const auto& m : page.messages) o.out << message_line(m, me) << "\n";
  return 0;
}

int read_command(ChatApi& api, Output o, const std::string& peer) {
  const std::string room = api.room_with(peer);
  const auto latest = api.history(room, 1);
  if (latest.messages.empty()) {
    if (o.json) o.out << "null\n";
    else o.out << "Nothing to read with " << peer << ".\n";
    return 0;
  }
  ChatEvent event;
  try {
    event = api.mark_read(room, latest.messages.back().id);
  } catch (const RequestError& e) {
    if (e.code() != "already_read") throw;  // everything was read already: no new receipt
    if (o.json) o.out << "null\n";
    else o.out << "Nothing new to read with " << peer << ".\n";
    return 0;
  }
  if (o.json) o.out << event.raw.dump() << "\n";
  else o.out << "marked read up to #" << short_id(latest.messages.back().id) << "\n";
  return 0;
}

int edit_command(ChatApi& api, Output o, const std::string& id, const std::string& text, const std::string& with) {
  const std::string room = with.empty() ? api.find_room_of(id) : api.room_with(with);
  const auto event = api.edit(room, id, text);
  if (o.json) o.out << event.raw.dump() << "\n";
  else o.out << "edited #" << short_id(id) << "\n";
  return 0;
}

int delete_command(ChatApi& api, Output o, const std::string& id, const std::string& with) {
  const std::string room = with.empty() ? api.find_room_of(id) : api.room_with(with);
  const auto event = api.remove(room, id);
  if (o.json) o.out << event.raw.dump() << "\n";
  else o.out << "deleted #" << short_id(id) << "\n";
  return 0;
}

}  // namespace mqchat::client
