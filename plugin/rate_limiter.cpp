#include "plugin/rate_limiter.h"

#include <algorithm>

namespace mqchat {

bool RateLimiter::allow(std::string_view user, int64_t now_us) {
  if (per_second_ <= 0) return true;
  if (now_us >= next_sweep_us_) forget_full_buckets(now_us);
  auto [it, fresh] = buckets_.try_emplace(std::string(user), Bucket{double(burst_), now_us});
  Bucket& b = it->second;
  if (!fresh && now_us > b.updated_us) {
    b.tokens = std::min<double>(burst_, b.tokens + double(now_us - b.updated_us) * per_second_ / 1e6);
    b.updated_us = now_us;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

// A bucket that has refilled completely is the same as no bucket: drop it, so memory follows
// the users who are active, not everyone who ever published.
void RateLimiter::forget_full_buckets(int64_t now_us) {
  const double refill_us = 1e6 * burst_ / per_second_;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (double(now_us - it->second.updated_us) >= refill_us) it = buckets_.erase(it);
    else ++it;
  }
  next_sweep_us_ = now_us + std::max<int64_t>(int64_t(refill_us), 1000000);
}

}  // namespace mqchat
