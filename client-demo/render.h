#pragma once
// How messages, conversations and events look in a terminal. Pure functions (unit tested).
#include <string>
#include <vector>

#include "client-demo/protocol.h"

namespace mqchat::client {

// "11-24 18:19" from "2026-11-24T18:19:38.123456Z" (times are UTC, as the server stores them).
std::string short_time(const std::string& rfc3339);
// The last 8 characters of an id: enough to tell messages of one conversation apart.
std::string short_id(const std::string& id);
// Shortens to `max` characters (UTF-8 aware), one line.
std::string preview(const std::string& text, size_t max);

// "[11-24 18:19] alice: hello (edited) ✓✓ #1a2b3c4d". Own messages carry ✓ (stored) or ✓✓ (read).
std::string message_line(const ChatMessage& m, const std::string& me);
// One line per conversation, most recent first, with unread counts; a friendly line if none.
std::vector<std::string> conversation_lines(const std::vector<ConversationSummary>& list);
// "bob read your messages up to #1a2b3c4d", "alice edited #…: new text", …
std::string event_line(const ChatEvent& e);

}  // namespace mqchat::client
