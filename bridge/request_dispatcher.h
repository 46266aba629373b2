#pragma once
// Takes requests off the MQTT thread and runs them on worker threads, each with its own database
// connection. Requests of one room run one at a time, in arrival order (an edit never overtakes
// the read before it); a request whose message is not stored yet parks its room and retries
// every few ms until `pending_max`, while other rooms go on.
//
// Intake never blocks Paho's thread (blocking it would also stall the PUBACKs of our own
// publishes): when `max_queued` requests wait, a new one is answered "busy" instead (the client
// retries), through a small bounded queue of refusals the workers serve first. Should even that
// be full, the request is dropped, counted and logged — never silently.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "bridge/database.h"
#include "bridge/mqtt_link.h"
#include "bridge/options.h"
#include "bridge/request.h"
#include "bridge/room_queue.h"

namespace mqchat::bridge {

class RequestDispatcher {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxRefusals = 1000;

  RequestDispatcher(const Options& options, MqttLink*& link);
  ~RequestDispatcher();

  void submit(IncomingRequest in);  // from Paho's thread: never blocks
  void start();
  // Shutdown, while the MQTT link is still up: new requests are answered "busy", queued ones are
  // served until `drain` has passed, what is left then is answered "busy"; the workers are joined.
  void stop(std::chrono::milliseconds drain);

  uint64_t refused_busy() const { return refused_busy_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Item {
    ParsedRequest parsed;  // a refusal is answered by a worker too: never publish on Paho's thread
    Clock::time_point give_up_at;
    Clock::time_point received;  // for the latency metric
  };
  void serve(const Request& request, const Item& item, bool& retry, Database& db);
  void answer_busy(const ParsedRequest& parsed);  // with mu_ held: queue a "busy" refusal
  void publish_reply(const Publication& p, const std::string& room, const std::string& requester);
  void work(int index);

  const Options& options_;
  MqttLink*& link_;
  std::mutex mu_;
  std::condition_variable ready_cv_, exited_cv_;
  RoomQueue<Item> queue_;
  std::deque<RequestError> refusals_;
  bool closing_ = false;                  // under mu_
  Clock::time_point drain_until_{};       // under mu_, once closing_
  size_t exited_ = 0;                     // under mu_: workers that left their loop
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> refused_busy_{0}, dropped_{0};
  std::vector<std::thread> workers_;
};

}  // namespace mqchat::bridge
