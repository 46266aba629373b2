#include "client-demo/chat_session.h"

#include <chrono>
#include <iostream>
#include <sstream>
#include <thread>

#include "client-demo/render.h"
#include "common/room.h"

namespace mqchat::client {

namespace {
long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
const char* kHelp =
    "commands: /edit ID TEXT   /delete ID   /quit   (ID: the #suffix shown after a message)";
}  // namespace

ChatSession::ChatSession(Connection& conn, const std::string& peer, std::ostream& out, bool json)
    : conn_(conn), me_(conn.user()), peer_(peer), out_(out), json_(json) {}

void ChatSession::print(const std::string& line) { out_ << line << std::endl; }

int ChatSession::run(std::istream& in) {
  ChatApi api(conn_);
  room_ = api.room_with(peer_);
  for (const char* channel : {"messages", "events"})
    if (conn_.subscribe("chat/" + room_ + "/" + channel) >= 0x80)
      throw RequestError("not allowed to read chat/" + room_ + " (does " + peer_ + " exist?)", "not_authorized");
  conn_.subscribe("chat/" + room_ + "/typing", 1, /*no_local=*/true);  // so only the peer's typing arrives
  conn_.subscribe(user_topic(peer_, "presence"));

  const auto recent = api.history(room_, 20);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!json_) print("── chat with " + peer_ + " (" + std::string(kHelp) + ")");
    if (recent.messages.empty() && !json_) print("No messages yet. Say hello!");
    for (const auto& m : recent.messages) show_message(m);
  }
  if (!recent.messages.empty()) conn_.publish("chat/" + room_ + "/read", read_request(recent.messages.back().id));

  // From here on Paho's thread only queues; the worker prints and publishes.
  conn_.on_status([this](const std::string& s) {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_.push_back(StatusChange{s});
    queue_cv_.notify_one();
  });
  conn_.on_message([this](const Incoming& m) {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_.push_back(m);
    queue_cv_.notify_one();
  });
  std::thread worker([this] { process_events(); });

  std::string line;
  while (std::getline(in, line)) {
    if (line == "/quit") break;
    if (line.empty()) continue;
    if (line[0] == '/') {
      command(line);
    } else {
      const std::string client_id = random_id(16);
      {
        std::lock_guard<std::mutex> lock(state_mu_);
        pending_[client_id] = line;
      }
      send_text(line, client_id);
    }
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_one();
  }
  worker.join();
  std::lock_guard<std::mutex> lock(state_mu_);
  if (!pending_.empty()) print("⚠ " + std::to_string(pending_.size()) + " message(s) were not confirmed as stored");
  return pending_.empty() ? 0 : 1;
}

void ChatSession::send_text(const std::string& text, const std::string& client_id) {
  const int rc = conn_.connected() ? conn_.publish("chat/" + room_ + "/messages", send_payload(text, "text", {}, client_id))
                                   : -1;
  if (rc == -1 || rc == 0x80) {
    std::lock_guard<std::mutex> lock(state_mu_);
    print("⚠ not sent yet (offline) — will retry when reconnected: " + preview(text, 40));
  }
  // Success shows when the stored copy comes back (✓); a refusal arrives on users/<me>/errors.
}

void ChatSession::resend_pending() {
  std::map<std::string, std::string> pending;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    pending = pending_;
  }
  // Same client_id: if the first attempt did reach the broker, the plugin drops the repeat.
  for (const auto& [client_id, text] : pending) send_text(text, client_id);
}

void ChatSession::catch_up() {
  std::string after;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!seen_.empty()) after = seen_.rbegin()->first;
    catch_up_request_ = random_id(12);
  }
  conn_.publish("chat/" + room_ + "/history", history_request(catch_up_request_, 200, "", after));
}

void ChatSession::process_events() {
  for (;;) {
    Event ev;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      ev = std::move(queue_.front());
      queue_.pop_front();
    }
    if (auto* in = std::get_if<Incoming>(&ev)) handle(*in);
    else handle_status(std::get<StatusChange>(ev).status);
  }
}

void ChatSession::handle_status(const std::string& status) {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (json_) print(nlohmann::json{{"status", status}}.dump());
    else print("[" + status + "]");
  }
  if (status == "connected") {
    resend_pending();
    catch_up();
  }
}

void ChatSession::show_message(const ChatMessage& m) {
  seen_[m.id] = m;
  if (m.sender == me_) pending_.erase(m.client_id);
  if (json_) print(nlohmann::json{{"message", m.raw}}.dump());
  else print(message_line(m, me_));
}

void ChatSession::handle(const Incoming& in) {
  const std::string base = "chat/" + room_ + "/";
  std::lock_guard<std::mutex> lock(state_mu_);
  if (in.topic == base + "messages") {
    auto m = parse_chat_message(in.payload);
    if (!m || seen_.count(m->id)) return;  // a redelivery after reconnect: shown already
    show_message(*m);
    if (m->sender == peer_) conn_.publish("chat/" + room_ + "/read", read_request(m->id));  // we are looking at it
  } else if (in.topic == base + "events") {
    const auto e = parse_event(in.payload);
    if (!e) return;
    if (e->kind == ChatEvent::Kind::Read) {
      if (e->reader == me_) return;  // our own receipt
      const std::string up_to = e->up_to.empty() ? e->message_id : e->up_to;
      for (auto& [id, m] : seen_)
        if (id <= up_to && m.sender == me_) m.read = true;
    } else if (auto it = seen_.find(e->id); it != seen_.end()) {
      if (e->kind == ChatEvent::Kind::Edited) {
        it->second.content = e->content;
        it->second.edited = true;
      } else if (e->kind == ChatEvent::Kind::Deleted) {
        it->second.deleted = true;
        it->second.content.reset();
      }
    }
    if (json_) print(nlohmann::json{{"event", e->raw}}.dump());
    else print(event_line(*e));
  } else if (in.topic == base + "typing") {
    if (now_ms() - last_typing_shown_ms_ < 3000) return;  // one line per burst of keystrokes
    last_typing_shown_ms_ = now_ms();
    if (json_) print(nlohmann::json{{"typing", peer_}}.dump());
    else print("… " + peer_ + " is typing");
  } else if (in.topic == user_topic(peer_, "presence")) {
    const auto j = nlohmann::json::parse(in.payload, nullptr, false);
    if (!j.is_object()) return;
    const std::string status = j.value("status", "");
    if (json_) print(nlohmann::json{{"presence", j}}.dump());
    else print(status == "online" ? "● " + peer_ + " is online" : "○ " + peer_ + " is offline since " +
                                                                     short_time(j.value("since", "")));
  } else if (in.topic == user_topic(me_, "errors")) {
    const auto e = parse_error(in.payload);
    if (!e) return;
    if (!e->client_id.empty()) pending_.erase(e->client_id);  // refused for good: do not retry
    if (json_) print(nlohmann::json{{"error", nlohmann::json::parse(in.payload)}}.dump());
    else print("✗ error: " + (e->reason.empty() ? e->code : e->reason));
  } else if (in.topic == user_topic(me_, "history")) {
    const auto page = parse_history_page(in.payload);
    if (!page || page->request_id != catch_up_request_) return;
    for (const auto& m : page->messages)
      if (!seen_.count(m.id)) show_message(m);
  }
}

std::string ChatSession::resolve_id(const std::string& given) {
  std::string found;
  for (const auto& [id, m] : seen_) {
    if (id == given) return id;
    if (id.size() >= given.size() && id.compare(id.size() - given.size(), given.size(), given) == 0) {
      if (!found.empty()) return "";  // ambiguous
      found = id;
    }
  }
  return found;
}

void ChatSession::command(const std::string& line) {
  std::istringstream words(line);
  std::string cmd, id;
  words >> cmd >> id;
  if (!id.empty() && id[0] == '#') id.erase(0, 1);
  std::string text;
  std::getline(words >> std::ws, text);

  std::string full_id;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (cmd == "/help") {
      print(kHelp);
      return;
    }
    if (cmd != "/edit" && cmd != "/delete") {
      print("unknown command " + cmd + "; " + kHelp);
      return;
    }
    full_id = resolve_id(id);
    if (id.empty() || full_id.empty()) {
      print("✗ no single message matches #" + id + " (use the suffix shown after a message)");
      return;
    }
    if (seen_[full_id].sender != me_) {
      print("✗ you can only change your own messages");
      return;
    }
    if (cmd == "/edit" && text.empty()) {
      print("usage: /edit ID NEW TEXT");
      return;
    }
  }
  const std::string request_id = random_id(12);
  if (cmd == "/edit") conn_.publish("chat/" + room_ + "/edit", edit_request(full_id, text, request_id));
  else conn_.publish("chat/" + room_ + "/delete", delete_request(full_id, request_id));
}

}  // namespace mqchat::client
