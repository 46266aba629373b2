#include "plugin/rate_limiter.h"

#include <algorithm>

namespace mqchat {

bool RateLimiter::allow(std::string_view user, int64_t now_us) {
  if (per_second_ <= 0) return true;
  if (now_us >= next_sweep_us_) forget_full_buckets(now_us);
  Bucket* bucket = buckets_.find(user);  // inline: a user who publishes has a bucket nearly always
  const bool fresh = !bucket;
  if (fresh) bucket = buckets_.try_emplace(user, Bucket{double(burst_), now_us}).first;
  Bucket& b = *bucket;
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
  StringTable<Bucket> kept;
  for (const auto& [user, bucket] : buckets_)
    if (double(now_us - bucket.updated_us) < refill_us) kept.try_emplace(user, bucket);
  buckets_ = std::move(kept);
  next_sweep_us_ = now_us + std::max<int64_t>(int64_t(refill_us), 1000000);
}

}  // namespace mqchat
