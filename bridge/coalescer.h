#pragma once
// Coalesces "this user's summary is stale" marks: the first mark opens a window; everything marked
// until it closes is recomputed once. A burst of N messages therefore costs about
// burst_duration / window recomputations per user instead of N. Not thread-safe (guard it).
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace mqchat::bridge {

class Coalescer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Coalescer(std::chrono::milliseconds window) : window_(window) {}

  // Returns true when this mark opened a new window (the flusher should learn the new deadline).
  bool mark(const std::string& key, Clock::time_point now);

  // When the current window closes; nullopt when nothing is pending.
  std::optional<Clock::time_point> due() const;

  // Once due: up to `max` keys in the order they were first marked. The rest stay due.
  std::vector<std::string> take_due(Clock::time_point now, size_t max = SIZE_MAX);

  size_t pending() const { return order_.size(); }
  uint64_t marks() const { return marks_; }      // every mark() call
  uint64_t taken() const { return taken_; }      // every key handed out for recomputation

 private:
  std::chrono::milliseconds window_;
  std::deque<std::string> order_;
  std::unordered_set<std::string> set_;
  std::optional<Clock::time_point> due_;
  uint64_t marks_ = 0, taken_ = 0;
};

}  // namespace mqchat::bridge
