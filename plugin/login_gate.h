#pragma once
// Who may spend the broker thread's time on a password hash, and when. Mosquitto 2.0's basic
// auth is synchronous on the broker thread and a bcrypt at cost 10 takes ~70 ms, so:
// - a TOTAL budget of hash time per second, split into a share kept for sources that logged in
//   to this account before ("trusted") and the rest for everyone (unknown usernames included, so
//   they cost and wait exactly like wrong passwords);
// - wrong passwords are throttled per (account, source) — a source is the client's address, or
//   its client id when the address is loopback (behind the HAProxy front, every address is) —
//   and per account for untrusted sources only, so a flood from elsewhere never locks out the
//   owner's own client.
// Pure logic on a clock the caller passes; broker thread only.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/config.h"

namespace mqchat {

class LoginGate {
 public:
  enum class Verdict { Ok, SourceThrottled, AccountThrottled, Busy };

  explicit LoginGate(LoginSettings s);

  // Before any check of the password: may this attempt go on?
  Verdict admit(const std::string& account, const std::string& source, bool trusted, int64_t now_us);
  // Before a hash: is there budget for one (of the estimated cost)?
  bool budget_for_hash(bool trusted, int64_t now_us);
  // After a hash: what it actually cost.
  void charge(bool trusted, int64_t cost_us, int64_t now_us);
  void failed(const std::string& account, const std::string& source, bool trusted, int64_t now_us);
  void succeeded(const std::string& account, const std::string& source, int64_t now_us);

  int64_t estimated_hash_us() const { return estimate_us_; }
  size_t tracked() const { return sources_.size() + accounts_.size(); }

 private:
  struct Bucket {
    double tokens;
    int64_t at_us;
  };
  static void refill(Bucket& b, double per_us, double cap, int64_t now_us);
  void sweep(int64_t now_us);

  LoginSettings s_;
  // Budgets in µs of hash time.
  Bucket trusted_budget_, general_budget_;
  double trusted_per_us_, general_per_us_, trusted_cap_, general_cap_;
  int64_t estimate_us_ = 80000;
  // Failure buckets (tokens = wrong passwords still allowed); absent = full.
  std::unordered_map<std::string, Bucket> sources_, accounts_;
  int64_t next_sweep_us_ = 0;
};

}  // namespace mqchat
