#include "plugin/login_gate.h"

#include <algorithm>

#include "plugin/metrics.h"

namespace mqchat {

namespace {
constexpr double kSourceBurst = 5, kAccountBurst = 10;
std::string pair_key(const std::string& account, const std::string& source) { return account + '\n' + source; }
}  // namespace

LoginGate::LoginGate(LoginSettings s) : s_(s) {
  const double per_us = s_.hash_ms_per_second * 1000.0 / 1e6;  // µs of hashing earned per µs
  trusted_per_us_ = per_us * s_.trusted_share_percent / 100.0;
  general_per_us_ = per_us - trusted_per_us_;
  // Each pool holds one second of its share but at least 250 ms (three bcrypts at cost 10), so a
  // few logins arriving together after a quiet spell are served at once, never more.
  trusted_cap_ = trusted_per_us_ > 0 ? std::max(trusted_per_us_ * 1e6, 250000.0) : 0.0;
  general_cap_ = std::max(general_per_us_ * 1e6, 250000.0);
  trusted_budget_ = {trusted_cap_, 0};
  general_budget_ = {general_cap_, 0};
}

void LoginGate::refill(Bucket& b, double per_us, double cap, int64_t now_us) {
  if (now_us > b.at_us) {
    b.tokens = std::min(cap, b.tokens + double(now_us - b.at_us) * per_us);
    b.at_us = now_us;
  }
}

void LoginGate::sweep(int64_t now_us) {
  const double source_per_us = s_.failures_per_minute / 60e6, account_per_us = s_.account_failures_per_minute / 60e6;
  for (auto* m : {&sources_, &accounts_}) {
    const double per_us = m == &sources_ ? source_per_us : account_per_us;
    const double cap = m == &sources_ ? kSourceBurst : kAccountBurst;
    for (auto it = m->begin(); it != m->end();) {
      refill(it->second, per_us, cap, now_us);
      if (it->second.tokens >= cap) it = m->erase(it);
      else ++it;
    }
  }
  next_sweep_us_ = now_us + 10000000;
}

LoginGate::Verdict LoginGate::admit(const std::string& account, const std::string& source, bool trusted,
                                    int64_t now_us) {
  if (now_us >= next_sweep_us_) sweep(now_us);
  if (auto it = sources_.find(pair_key(account, source)); it != sources_.end()) {
    refill(it->second, s_.failures_per_minute / 60e6, kSourceBurst, now_us);
    if (it->second.tokens < 1) {
      plugin_metrics.login_throttled_source.inc();
      return Verdict::SourceThrottled;
    }
  }
  if (!trusted) {
    if (auto it = accounts_.find(account); it != accounts_.end()) {
      refill(it->second, s_.account_failures_per_minute / 60e6, kAccountBurst, now_us);
      if (it->second.tokens < 1) {
        plugin_metrics.login_throttled_account.inc();
        return Verdict::AccountThrottled;
      }
    }
  }
  return Verdict::Ok;
}

bool LoginGate::budget_for_hash(bool trusted, int64_t now_us) {
  refill(trusted_budget_, trusted_per_us_, trusted_cap_, now_us);
  refill(general_budget_, general_per_us_, general_cap_, now_us);
  // A full pool always admits one hash, however slow (the debt is then waited out).
  const auto enough = [this](const Bucket& b, double cap) { return b.tokens >= std::min(double(estimate_us_), cap); };
  const bool ok =
      enough(general_budget_, general_cap_) || (trusted && trusted_cap_ > 0 && enough(trusted_budget_, trusted_cap_));
  if (!ok) plugin_metrics.login_busy.inc();
  return ok;
}

void LoginGate::charge(bool trusted, int64_t cost_us, int64_t now_us) {
  refill(trusted_budget_, trusted_per_us_, trusted_cap_, now_us);
  refill(general_budget_, general_per_us_, general_cap_, now_us);
  // Trusted logins spend their own share first; the general pool may go into debt, which the
  // next attempts then wait out.
  double cost = double(cost_us);
  if (trusted) {
    const double from_trusted = std::min(cost, std::max(0.0, trusted_budget_.tokens));
    trusted_budget_.tokens -= from_trusted;
    cost -= from_trusted;
  }
  general_budget_.tokens -= cost;
  if (cost_us > 1000) estimate_us_ = (estimate_us_ * 7 + cost_us) / 8;  // a real hash, not a lookup
}

void LoginGate::failed(const std::string& account, const std::string& source, bool trusted, int64_t now_us) {
  auto [s, fresh_s] = sources_.try_emplace(pair_key(account, source), Bucket{kSourceBurst, now_us});
  if (!fresh_s) refill(s->second, s_.failures_per_minute / 60e6, kSourceBurst, now_us);
  s->second.tokens -= 1;
  if (trusted) return;
  auto [a, fresh_a] = accounts_.try_emplace(account, Bucket{kAccountBurst, now_us});
  if (!fresh_a) refill(a->second, s_.account_failures_per_minute / 60e6, kAccountBurst, now_us);
  a->second.tokens -= 1;
}

void LoginGate::succeeded(const std::string& account, const std::string& source, int64_t) {
  sources_.erase(pair_key(account, source));
}

}  // namespace mqchat
