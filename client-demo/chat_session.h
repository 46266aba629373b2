#pragma once
// `mqchat-client chat USER`: an interactive conversation in the terminal. Shows recent history,
// live messages with ✓ (stored) / ✓✓ (read), edits, deletions, the peer's typing and presence, and
// the connection state; reads lines from stdin (/edit, /delete, /quit, /help).
#include <condition_variable>
#include <deque>
#include <iosfwd>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <variant>

#include "client-demo/chat_api.h"

namespace mqchat::client {

class ChatSession {
 public:
  ChatSession(Connection& conn, const std::string& peer, std::ostream& out, bool json);
  // Runs until /quit or end of input; returns the exit status.
  int run(std::istream& in);

 private:
  struct StatusChange { std::string status; };
  using Event = std::variant<Incoming, StatusChange>;

  void process_events();            // the worker: everything Paho hands us, in order
  void handle(const Incoming& in);
  void handle_status(const std::string& status);
  void show_message(const ChatMessage& m);
  void command(const std::string& line);
  void send_text(const std::string& text, const std::string& client_id);
  void resend_pending();
  void catch_up();                  // after a reconnect: what arrived while we were away
  std::string resolve_id(const std::string& prefix_or_suffix);
  void print(const std::string& line);

  Connection& conn_;
  std::string me_, peer_, room_;
  std::ostream& out_;
  bool json_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Event> queue_;
  bool stopping_ = false;

  std::mutex state_mu_;                            // guards what follows and the output
  std::map<std::string, ChatMessage> seen_;       // by id (ids sort by time)
  std::map<std::string, std::string> pending_;    // client_id -> text, not yet stored
  std::string catch_up_request_;
  long long last_typing_shown_ms_ = 0;
};

}  // namespace mqchat::client
