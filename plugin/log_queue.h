#pragma once
// Worker threads must not call into the broker (mosquitto_log_printf may publish to $SYS topics,
// which is not thread safe), so they queue lines here and the broker thread drains them on TICK.
#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mqchat {

enum class LogLevel { Error, Warning, Notice, Info, Debug };

class LogQueue {
 public:
  explicit LogQueue(size_t capacity = 4096) : capacity_(capacity) {}

  void push(LogLevel level, std::string line);
  // Takes everything queued; `dropped` counts lines lost to a full queue since the last drain.
  std::vector<std::pair<LogLevel, std::string>> drain(size_t& dropped);
  // Nothing pushed since the last drain: the TICK, which comes about once per message under load,
  // then has nothing to do (inline, one atomic load).
  bool idle() const { return !pending_.load(std::memory_order_acquire); }

 private:
  std::mutex mu_;
  std::deque<std::pair<LogLevel, std::string>> lines_;
  size_t capacity_;
  size_t dropped_ = 0;
  std::atomic<bool> pending_{false};  // something was pushed since the last drain
};

}  // namespace mqchat
