// SummaryPacer: how long a user with a costly summary waits before the next recomputation.
#include "bridge/summary_pacer.h"

#include <gtest/gtest.h>

using mqchat::bridge::SummaryPacer;
using namespace std::chrono_literals;

namespace {
const auto t0 = SummaryPacer::Clock::now();
}

TEST(SummaryPacer, OrdinarySummariesAreNeverHeld) {
  SummaryPacer p(150ms);
  p.computed("alice", 3ms, t0);  // 39 × 3 ms is within the 150 ms window
  EXPECT_TRUE(p.admit("alice", t0 + 1ms));
  EXPECT_EQ(p.waiting(), 0u);
  EXPECT_TRUE(p.admit("bob", t0));  // never computed
}

TEST(SummaryPacer, ACostlySummaryWaitsThirtyNineTimesItsCost) {
  SummaryPacer p(150ms);
  p.computed("many", 50ms, t0);  // a user with ~1,000 conversations
  EXPECT_FALSE(p.admit("many", t0 + 100ms));
  EXPECT_FALSE(p.admit("many", t0 + 1949ms));
  ASSERT_TRUE(p.next_release());
  EXPECT_EQ(*p.next_release(), t0 + 1950ms);
  EXPECT_TRUE(p.take_released(t0 + 1949ms).empty());
  const auto released = p.take_released(t0 + 1950ms);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0], "many");  // owed: it was refused while waiting
  EXPECT_TRUE(p.take_released(t0 + 3s).empty());  // handed back once
  EXPECT_TRUE(p.admit("many", t0 + 1951ms));
  EXPECT_EQ(p.waiting(), 0u);
}

TEST(SummaryPacer, AWaitNobodyAskedDuringOwesNothing) {
  SummaryPacer p(150ms);
  p.computed("many", 50ms, t0);
  EXPECT_FALSE(p.next_release());  // nothing owed yet: no wake-up needed
  EXPECT_TRUE(p.take_released(t0 + 2s).empty());
  EXPECT_EQ(p.waiting(), 0u);  // forgotten once over
  EXPECT_TRUE(p.admit("many", t0 + 2s));
}

TEST(SummaryPacer, NoWaitIsLongerThanTheCap) {
  SummaryPacer p(150ms);
  p.computed("slow", 10s, t0);  // Postgres overloaded
  EXPECT_FALSE(p.admit("slow", t0 + SummaryPacer::kMaxWait - 1ms));
  EXPECT_TRUE(p.admit("slow", t0 + SummaryPacer::kMaxWait));
}

TEST(SummaryPacer, ACheapRecomputationEndsTheWait) {
  SummaryPacer p(150ms);
  p.computed("u", 50ms, t0);
  p.computed("u", 1ms, t0 + 10ms);  // e.g. the user left most conversations
  EXPECT_TRUE(p.admit("u", t0 + 11ms));
}

TEST(SummaryPacer, UsersWaitIndependently) {
  SummaryPacer p(150ms);
  p.computed("a", 20ms, t0);   // 780 ms
  p.computed("b", 100ms, t0);  // 3.9 s
  EXPECT_FALSE(p.admit("a", t0 + 1ms));
  EXPECT_FALSE(p.admit("b", t0 + 1ms));
  EXPECT_EQ(*p.next_release(), t0 + 780ms);
  EXPECT_EQ(p.take_released(t0 + 800ms), std::vector<std::string>{"a"});
  EXPECT_EQ(*p.next_release(), t0 + 3900ms);
  EXPECT_EQ(p.take_released(t0 + 4s), std::vector<std::string>{"b"});
  EXPECT_FALSE(p.next_release());
}
