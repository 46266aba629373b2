#pragma once
// Per-user token buckets: `burst` publishes at once, then `rate` per second, however many
// connections the user spreads them over. Broker thread only (or one thread, whichever).
#include <cstdint>
#include <string_view>

#include "plugin/string_table.h"

namespace mqchat {

class RateLimiter {
 public:
  RateLimiter(double per_second, uint32_t burst) : per_second_(per_second), burst_(burst) {}

  // True if `user` may publish now (and takes a token); always true when the rate is 0.
  bool allow(std::string_view user, int64_t now_us);
  size_t tracked() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    int64_t updated_us;
  };
  void forget_full_buckets(int64_t now_us);

  double per_second_;
  uint32_t burst_;
  StringTable<Bucket> buckets_;  // found by a view of the name: no std::string per publish
  int64_t next_sweep_us_ = 0;
};

}  // namespace mqchat
