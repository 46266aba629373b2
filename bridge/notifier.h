#pragma once
// Webhook notifications for offline users (issue 17). When a stored message reaches a conversation
// member who has no live connection, the bridge POSTs it to a configured URL, so a deployment can
// forward it to push or email.
//
// - Where messages come from: the bridge subscribes to chat/+/messages (every stored message, MQTT
//   or SQL API) through a shared subscription of its own group, so one bridge per broker sees each.
// - Who is offline: a user whose retained users/<u>/presence (kept by the plugin, made cluster-wide
//   by the backplane) is not "online" when the message is seen — no live connection on any listener.
// - Recipients: the conversation's members except the sender, minus those who muted it (sql/033);
//   one SQL query over the membership (kRecipientsSql), so group members come with it.
// - Batched per user: a user's notifications within `batch_window` go in one POST (at most
//   `max_batch`). Signed: X-Mqchat-Timestamp (unix seconds) and X-Mqchat-Signature:
//   sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>.
// - Retried with exponential backoff and jitter on connection errors, timeouts, 5xx and 429; other
//   4xx are final. After `max_attempts` POSTs a batch is given up (counted).
// - Never blocks delivery: the MQTT thread only appends to a bounded list; one thread of its own
//   looks recipients up and POSTs. At most `max_queue` notifications wait; beyond, the oldest are
//   dropped (counted).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <memory>

#include <nlohmann/json.hpp>

#include "bridge/database.h"
#include "bridge/options.h"

namespace mqchat::bridge {

namespace notify {

using Clock = std::chrono::steady_clock;

struct Notification {
  std::string user;  // the recipient
  std::string conversation_id, room, sender, message_id, preview, created_at;
  uint64_t seq = 0;  // set by the queue: the order notifications arrived in
};

// At most `max_chars` code points of `content` (never a cut UTF-8 sequence), "…" appended when cut.
std::string preview(const std::string& content, size_t max_chars);

// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(const std::string& key, const std::string& data);
// The X-Mqchat-Signature value: "sha256=" + hmac_sha256_hex(secret, timestamp + "." + body).
std::string signature(const std::string& secret, const std::string& timestamp, const std::string& body);

// The POST body of one batch: {"id","user","notifications":[{conversation_id, room, sender,
// message_id, preview, created_at}]}. `id` is the same on every retry (receivers de-duplicate by it).
std::string batch_body(const std::string& batch_id, const std::string& user, const std::vector<Notification>& items);

// What one POST's outcome means: 2xx delivered; connection error, timeout (status 0), 5xx and 429
// retried; everything else (other 4xx, 3xx) final.
enum class Outcome { Delivered, Retry, Rejected };
Outcome classify(long http_status);

// Delay before attempt `attempt + 1` (attempt = POSTs made so far, >= 1): initial * 2^(attempt-1)
// capped at max, then scaled by a jitter factor in [0.5, 1] (`unit` in [0, 1] picks it).
std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                  double unit);

struct Batch {
  std::string id, user;
  std::vector<Notification> items;
  Clock::time_point due;
  int attempts = 0;
  bool open = true;  // still collecting (its window has not closed)
};

// The waiting notifications, batched per user, bounded. Not thread-safe (the notifier's thread owns it).
class Queue {
 public:
  Queue(std::chrono::milliseconds window, size_t max_batch, size_t max_items)
      : window_(window), max_batch_(max_batch), max_items_(max_items) {}

  // Into the user's open batch (a new one opens a window of `window`); the oldest waiting
  // notifications go when more than max_items wait.
  void add(Notification n, Clock::time_point now);
  // The first batch due by `now` (its window closed, its retry time reached, or full), taken out.
  std::optional<Batch> take_due(Clock::time_point now);
  // A failed batch back, due at `at` (its notifications keep their age: the oldest are dropped first).
  void retry(Batch b, Clock::time_point at);
  std::optional<Clock::time_point> next_due() const;

  size_t size() const { return items_; }       // notifications waiting (not the one being sent)
  uint64_t dropped() const { return dropped_; }  // notifications dropped because the queue was full

 private:
  void trim();
  std::string new_id();

  std::chrono::milliseconds window_;
  size_t max_batch_, max_items_;
  std::list<Batch> batches_;  // oldest first
  std::unordered_map<std::string, std::list<Batch>::iterator> open_;  // user -> their open batch
  std::map<uint64_t, std::list<Batch>::iterator> by_oldest_;  // seq of each batch's first item
  size_t items_ = 0;
  uint64_t dropped_ = 0, ids_ = 0, seq_ = 0;
  std::string id_prefix_;
};

// The conversation members to notify about a message: $1 conversation ids (uuid[]), returns
// (conversation_id, username, muted) of every member. No row: the conversation is not stored yet.
extern const char* const kRecipientsSql;

}  // namespace notify

class Notifier {
 public:
  explicit Notifier(const Options& options);
  ~Notifier();
  void start();
  void stop();  // joins; what still waits is not sent

  // Called on the MQTT thread: only append or update under a short lock.
  void on_message(const std::string& payload);                              // chat/<room>/messages
  void on_presence(const std::string& user, const std::string& payload);    // users/<u>/presence
  bool online(const std::string& user) const;

 private:
  void run();
  // Looks up the recipients of each message and queues the offline ones.
  void route(std::vector<nlohmann::json> messages, notify::Clock::time_point now);
  void send(notify::Batch batch);
  long post(const std::string& body);  // HTTP status, 0 when no response

  const Options& options_;
  const Options::Notify& cfg_;
  notify::Queue queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> incoming_;  // raw message payloads, bounded by max_queue
  std::vector<nlohmann::json> unresolved_;  // their conversation was not in Postgres yet
  notify::Clock::time_point retry_unresolved_at_{};
  std::unique_ptr<Database> db_;
  std::unordered_map<std::string, bool> online_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  void* curl_ = nullptr;
  std::string last_error_;  // of the last POST without a response  // CURL*, reused: keeps the connection to the receiver alive
};

}  // namespace mqchat::bridge
