#pragma once
// Keeps a user's summary from costing Postgres more the more conversations the user has (issue 14:
// CPU per message within 1.2× from 1 to 1,000 conversations per user). A summary reads O(1) rows per
// conversation, so recomputing one for a user with 1,000 conversations takes tens of ms; at one
// recomputation per coalescing window (150 ms) while messages keep arriving, that user's summary
// alone would take a third of a core. After a summary that took `cost`, the user's next one waits at
// least kSpacing × cost: its recomputations then take at most 1 / (kSpacing + 1) of the time, and a
// summary that took under window / kSpacing (every ordinary one) is not held at all, and none is
// held longer than kMaxWait.
// Not thread-safe (the leader's thread owns it).
#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mqchat::bridge {

class SummaryPacer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kSpacing = 39;  // ≤ 2.5 % of the time on one user's recomputations
  static constexpr std::chrono::seconds kMaxWait{5};  // however slow Postgres was, fresh within 5 s

  explicit SummaryPacer(std::chrono::milliseconds window) : window_(window) {}

  // A summary of `user` was computed at `now`, taking `cost`.
  void computed(const std::string& user, Clock::duration cost, Clock::time_point now);

  // Whether `user`'s summary may be recomputed at `now`; if not, it is kept and handed back by
  // take_released() once its wait is over.
  bool admit(const std::string& user, Clock::time_point now);

  // The held users whose wait is over at `now` (each once); forgets waits that have passed.
  std::vector<std::string> take_released(Clock::time_point now);

  // When the next held user is released; nullopt when none is held.
  std::optional<Clock::time_point> next_release() const;

  size_t waiting() const { return not_before_.size(); }  // users with a wait not yet over

 private:
  struct Wait {
    Clock::time_point until;
    bool held = false;  // a recomputation is owed when the wait ends
  };
  std::chrono::milliseconds window_;
  std::unordered_map<std::string, Wait> not_before_;
};

}  // namespace mqchat::bridge
