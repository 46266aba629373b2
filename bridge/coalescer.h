#pragma once
// Coalesces "this user's summary is stale" marks: the first mark opens a window; everything marked
// until it closes is recomputed once. A burst of N messages therefore costs about
// burst_duration / window recomputations per user instead of N. A key can also be held until a
// later time (a costly summary waits longer, summary_pacer.h): marks meanwhile make it due when the
// hold ends, not before. Not thread-safe (guard it).
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mqchat::bridge {

class Coalescer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Coalescer(std::chrono::milliseconds window) : window_(window) {}

  // Returns true when this mark opened a new window (the flusher should learn the new deadline).
  bool mark(const std::string& key, Clock::time_point now);

  // `key` is not handed out before `until`; a pending mark, or one made meanwhile, is kept for then.
  void hold(const std::string& key, Clock::time_point until);

  // When the next keys are due (the window's end, or a marked key's hold ending); nullopt when none.
  std::optional<Clock::time_point> due() const;

  // Up to `max` due keys: marked keys whose hold has ended, then, once the window has closed, the
  // others in the order they were first marked. The rest stay due.
  std::vector<std::string> take_due(Clock::time_point now, size_t max = SIZE_MAX);

  size_t pending() const { return order_.size(); }  // marked in the current window
  size_t held() const { return holds_.size(); }     // holds not yet over or not yet collected
  uint64_t marks() const { return marks_; }      // every mark() call
  uint64_t taken() const { return taken_; }      // every key handed out for recomputation

 private:
  struct Hold {
    Clock::time_point until;
    bool marked = false;  // due when the hold ends
  };
  std::chrono::milliseconds window_;
  std::deque<std::string> order_;
  std::unordered_set<std::string> set_;
  std::optional<Clock::time_point> due_;
  std::unordered_map<std::string, Hold> holds_;
  uint64_t marks_ = 0, taken_ = 0;
};

}  // namespace mqchat::bridge
