#pragma once
// Request/reply on top of a Connection: the one-shot operations of docs/PROTOCOL.md, each
// waiting for its answer (the stored message, the history page, the event) or its error report.
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "client-demo/connection.h"
#include "client-demo/protocol.h"

namespace mqchat::client {

// The server said no (validation, not a participant, unknown message…) or did not answer.
class RequestError : public std::runtime_error {
 public:
  RequestError(const std::string& reason, std::string code = "")
      : std::runtime_error(reason), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

class ChatApi {
 public:
  // Subscribes to users/<me>/# (replies, errors, summaries). `timeout` bounds every wait.
  explicit ChatApi(Connection& conn, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  const std::string& user() const { return conn_.user(); }
  // The room with `peer`; throws RequestError for an invalid name or oneself.
  std::string room_with(const std::string& peer) const;
  // Subscribes to chat/<room>/# (messages, events, typing) once.
  void watch_room(const std::string& room);

  // A reply (`reply_to` set) comes back through the bridge, with a quote of its target.
  ChatMessage send(const std::string& room, const std::string& content, const std::string& type = "text",
                   const nlohmann::json& metadata = nlohmann::json::object(), const std::string& reply_to = "");
  HistoryPage history(const std::string& room, int limit, const std::string& before = "",
                      const std::string& after = "");
  // The retained summary (empty when the user has no conversation yet).
  std::vector<ConversationSummary> conversations();
  // Marks everything the peer sent up to `up_to` as read; returns the read event.
  ChatEvent mark_read(const std::string& room, const std::string& up_to);
  ChatEvent edit(const std::string& room, const std::string& id, const std::string& content);
  ChatEvent remove(const std::string& room, const std::string& id);
  // The room of one of my conversations holding message `id`, by asking each room's history.
  std::string find_room_of(const std::string& id);

  // A request answered privately: publishes `body` (plus a request_id) on `topic` and returns the
  // reply on users/<me>/<reply_leaf> (search, archived, settings); an error report throws.
  nlohmann::json ask(const std::string& topic, nlohmann::json body, const std::string& reply_leaf);
  // Adds (or removes) a reaction; returns the room's event, or null when nothing changed.
  nlohmann::json react(const std::string& room, const std::string& id, const std::string& emoji, bool remove);

 private:
  ChatEvent await_event(const std::string& room, ChatEvent::Kind kind, const std::string& id,
                        const std::string& request_id);
  [[noreturn]] void fail_with_error_or_timeout(const std::string& what, const std::string& request_id,
                                               const std::string& client_id);

  Connection& conn_;
  std::chrono::milliseconds timeout_;
  std::vector<std::string> watched_;
};

// The UUID right after `id` in byte order (for "page up to and including id" queries).
std::string next_uuid(const std::string& id);

}  // namespace mqchat::client
