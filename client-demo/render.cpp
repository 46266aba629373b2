#include "client-demo/render.h"

#include <algorithm>

namespace mqchat::client {

std::string short_time(const std::string& t) {
  if (t.size() < 16 || t[10] != 'T') return t;
  return t.substr(5, 5) + " " + t.substr(11, 5);
}

std::string short_id(const std::string& id) { return id.size() > 8 ? id.substr(id.size() - 8) : id; }

std::string preview(const std::string& text, size_t max) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool starts_char = (c & 0xC0) != 0x80;
    if (starts_char && ++chars > max) return out + "…";
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : text[i];
  }
  return out;
}

std::string message_line(const ChatMessage& m, const std::string& me) {
  std::string line = "[" + short_time(m.created_at) + "] " + m.sender + ": ";
  if (const auto q = m.raw.find("reply_to"); q != m.raw.end() && q->is_object()) {
    const auto& text = (*q)["content"];
    line += "(↪ " + q->value("sender", std::string("?")) + ": " +
            (text.is_string() ? preview(text.get<std::string>(), 30) : std::string("message deleted")) + ") ";
  }
  if (m.deleted || !m.content) {
    line += "(message deleted)";
  } else {
    line += *m.content;
    if (m.type != "text") line += " [" + m.type + "]";
    if (m.edited) line += " (edited)";
  }
  if (m.sender == me && !m.deleted) line += m.read ? " ✓✓" : " ✓";
  if (const auto r = m.raw.find("reactions"); r != m.raw.end() && r->is_array())
    for (const auto& x : *r)
      if (x.is_object() && x["emoji"].is_string() && x["count"].is_number())
        line += " " + x["emoji"].get<std::string>() + std::to_string(x["count"].get<long>());
  return line + " #" + short_id(m.id);
}

std::vector<std::string> conversation_lines(const std::vector<ConversationSummary>& list) {
  if (list.empty()) return {"No conversations yet. Start one with: mqchat-client send USER TEXT"};
  std::vector<std::string> lines;
  for (const auto& c : list) {
    // A group: its name and room (for the group commands).
    const bool group = c.raw.is_object() && c.raw.value("group", false);
    std::string line = group ? "# " + c.raw.value("name", std::string()) + " (" + c.room + ")" : c.with;
    line.resize(std::max<size_t>(line.size() + 1, 18), ' ');
    line += c.unread_count > 0 ? "(" + std::to_string(c.unread_count) + " unread) " : "           ";
    line += short_time(c.updated_at);
    if (c.last_message) {
      const auto& m = *c.last_message;
      line += "  " + m.sender + ": " + (m.content ? preview(*m.content, 40) : std::string("(message deleted)"));
    }
    lines.push_back(line);
  }
  return lines;
}

std::string event_line(const ChatEvent& e) {
  switch (e.kind) {
    case ChatEvent::Kind::Read:
      return "✓✓ " + e.reader + " read up to #" + short_id(e.up_to.empty() ? e.message_id : e.up_to);
    case ChatEvent::Kind::Edited:
      return "✎ #" + short_id(e.id) + " edited: " + e.content;
    case ChatEvent::Kind::Deleted:
      return "✗ #" + short_id(e.id) + " deleted";
    case ChatEvent::Kind::Other:
      break;
  }
  return "";
}

}  // namespace mqchat::client
