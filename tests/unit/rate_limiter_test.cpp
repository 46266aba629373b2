#include "plugin/rate_limiter.h"

#include <gtest/gtest.h>

using mqchat::RateLimiter;

TEST(RateLimiter, BurstThenSteadyRatePerUser) {
  RateLimiter limiter(10, 5);  // 10/s, 5 at once
  const int64_t t0 = 1'000'000'000;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow("alice", t0)) << i;
  EXPECT_FALSE(limiter.allow("alice", t0));
  EXPECT_TRUE(limiter.allow("bob", t0));              // buckets are per user
  EXPECT_FALSE(limiter.allow("alice", t0 + 50'000));  // half a token so far
  EXPECT_TRUE(limiter.allow("alice", t0 + 100'000));  // one token per 100 ms
  EXPECT_FALSE(limiter.allow("alice", t0 + 100'000));
  // A long pause refills to the burst, not beyond it.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow("alice", t0 + 60'000'000)) << i;
  EXPECT_FALSE(limiter.allow("alice", t0 + 60'000'000));
}

TEST(RateLimiter, ZeroRateMeansNoLimitAndIdleUsersAreForgotten) {
  RateLimiter unlimited(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.allow("alice", 0));
  EXPECT_EQ(unlimited.tracked(), 0u);

  RateLimiter limiter(100, 10);
  for (int u = 0; u < 1000; ++u) limiter.allow("user" + std::to_string(u), 1'000'000);
  EXPECT_EQ(limiter.tracked(), 1000u);
  limiter.allow("late", 10'000'000);  // everyone else refilled long ago
  EXPECT_EQ(limiter.tracked(), 1u);
}
