#pragma once
// Takes requests off the MQTT thread and runs them on worker threads, each with its own database
// connection. Requests of one room run one at a time, in arrival order (an edit never overtakes
// the read before it); a request whose message is not stored yet parks its room and retries
// every few ms until `pending_max`, while other rooms go on. Intake blocks when `max_queued` are
// waiting: back-pressure instead of unbounded memory.
#include <atomic>
#include <condition_variable>
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
  RequestDispatcher(const Options& options, MqttLink*& link);
  ~RequestDispatcher();

  void submit(IncomingRequest in);  // from Paho's thread
  void start();

 private:
  struct Item {
    ParsedRequest parsed;  // a refusal is answered by a worker too: never publish on Paho's thread
    RoomQueue<Item>::Clock::time_point give_up_at;
  };
  void serve(const Request& request, RoomQueue<Item>::Clock::time_point give_up_at, bool& retry, Database& db);
  void work(int index);

  const Options& options_;
  MqttLink*& link_;
  std::mutex mu_;
  std::condition_variable ready_cv_, space_cv_;
  RoomQueue<Item> queue_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace mqchat::bridge
