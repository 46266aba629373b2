#pragma once
// Drives many libmosquitto clients on one thread: one ppoll() over all their sockets, then each
// ready client reads every packet that has arrived and writes what it has queued. A client
// publishes from this thread only (libmosquitto writes at once outside callbacks, and queues
// packets sent from inside one; run_once writes those out before it waits again).
#include <mosquitto.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

class IoLoop {
 public:
  void add(mosquitto* m) { clients_.push_back(m); }

  // Waits up to `timeout_us` for any socket, then reads and writes whatever is ready. Keepalives
  // once a second. Returns an error message when a client's connection failed, "" otherwise.
  std::string run_once(int64_t timeout_us);

 private:
  std::vector<mosquitto*> clients_;
  std::vector<pollfd> fds_;
  std::chrono::steady_clock::time_point next_misc_{};  // the next keepalive round
};

}  // namespace bench
