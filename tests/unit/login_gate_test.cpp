#include "plugin/login_gate.h"

#include <gtest/gtest.h>

using namespace mqchat;
using V = LoginGate::Verdict;

namespace {
LoginSettings settings() {
  LoginSettings s;
  s.hash_ms_per_second = 200;
  s.trusted_share_percent = 50;
  s.failures_per_minute = 6;
  s.account_failures_per_minute = 30;
  return s;
}
constexpr int64_t kHash = 70000;  // µs, a bcrypt at cost 10
}  // namespace

TEST(LoginGate, TotalHashTimeIsBoundedAcrossAccounts) {
  LoginGate g(settings());
  // A flood of wrong passwords over 1,000 accounts for 10 s, asking as often as it can.
  int64_t hashed_us = 0;
  for (int64_t t = 0; t < 10000000; t += 1000) {
    const std::string account = "u" + std::to_string(t / 1000 % 1000);
    if (g.admit(account, "c:x", false, t) != V::Ok || !g.budget_for_hash(false, t)) continue;
    g.charge(false, kHash, t);
    g.failed(account, "c:x", false, t);
    hashed_us += kHash;
  }
  // The general share (100 ms/s) plus at most the pool's cap (250 ms) at the start.
  EXPECT_LE(hashed_us, 100000 * 10 + 250000 + kHash);
  EXPECT_GT(hashed_us, 100000 * 8);
}

TEST(LoginGate, TheOwnersKnownClientGetsInDuringAFlood) {
  LoginGate g(settings());
  int owner_ok = 0;
  for (int64_t t = 0; t < 5000000; t += 1000) {
    // The attacker hammers alice from ever new client ids...
    const std::string src = "c:attacker-" + std::to_string(t);
    if (g.admit("alice", src, false, t) == V::Ok && g.budget_for_hash(false, t)) {
      g.charge(false, kHash, t);
      g.failed("alice", src, false, t);
    }
    // ... and alice's phone, which logged in before, tries once a second.
    if (t % 1000000 == 500000) {
      if (g.admit("alice", "c:phone", true, t) == V::Ok && g.budget_for_hash(true, t)) {
        g.charge(true, kHash, t);
        g.succeeded("alice", "c:phone", t);
        ++owner_ok;
      }
    }
  }
  EXPECT_EQ(owner_ok, 5);
}

TEST(LoginGate, WrongPasswordsAreThrottledPerSourceAndPerAccount) {
  LoginGate g(settings());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(g.admit("bob", "a:1.2.3.4", false, i), V::Ok);
    g.failed("bob", "a:1.2.3.4", false, i);
  }
  EXPECT_EQ(g.admit("bob", "a:1.2.3.4", false, 10), V::SourceThrottled);
  EXPECT_EQ(g.admit("bob", "a:1.2.3.4", false, 10 + 10000000), V::Ok);  // one per 10 s comes back
  for (int i = 0; i < 10; ++i) g.failed("bob", "a:5.6.7." + std::to_string(i), false, 10000020);
  EXPECT_EQ(g.admit("bob", "a:9.9.9.9", false, 10000030), V::AccountThrottled);  // 10 more from strangers
  EXPECT_EQ(g.admit("bob", "c:his-laptop", true, 10000030), V::Ok);             // his known client is not
  EXPECT_EQ(g.admit("carol", "a:9.9.9.9", false, 10000030), V::Ok);             // other accounts are not
}

TEST(LoginGate, ForgetsRecoveredBuckets) {
  LoginGate g(settings());
  for (int i = 0; i < 1000; ++i) g.failed("u" + std::to_string(i), "c:x", false, 0);
  EXPECT_GE(g.tracked(), 1000u);
  g.admit("x", "c:y", false, 3600ll * 1000000);
  EXPECT_EQ(g.tracked(), 0u);
}

TEST(LoginGate, AHashSlowerThanAPoolStillGetsThroughThenItsDebtIsWaitedOut) {
  LoginGate g(settings());  // 100 ms/s per pool, 250 ms caps
  const int64_t slow = 900000;  // bcrypt at cost 13
  ASSERT_TRUE(g.budget_for_hash(true, 0));
  for (int i = 0; i < 8; ++i) g.charge(true, slow, 1);  // estimate now far above a pool's cap
  EXPECT_FALSE(g.budget_for_hash(true, 2));
  EXPECT_TRUE(g.budget_for_hash(true, 100000000));  // full again: one more is admitted
}

TEST(LoginGate, NoTrustedShareMeansNoTrustedPool) {
  LoginSettings s = settings();
  s.trusted_share_percent = 0;
  LoginGate g(s);
  g.charge(false, 10000000, 0);  // the general pool deep in debt
  EXPECT_FALSE(g.budget_for_hash(true, 1));
}

TEST(LoginGate, AFewLoginsArrivingTogetherAreServedAtOnce) {
  LoginGate g(settings());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(g.budget_for_hash(false, 0)) << i;
    g.charge(false, kHash, 0);
  }
  EXPECT_FALSE(g.budget_for_hash(false, 0));  // the fourth waits
}
