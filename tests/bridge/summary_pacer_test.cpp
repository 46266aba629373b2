// summary_pacer::wait_after: how long a user with a costly summary waits before the next one.
#include "bridge/summary_pacer.h"

#include <gtest/gtest.h>

namespace sp = mqchat::bridge::summary_pacer;
using namespace std::chrono_literals;

TEST(SummaryPacer, OrdinarySummariesAreNeverHeld) {
  EXPECT_EQ(sp::wait_after(3ms, 150ms), sp::Clock::duration::zero());  // 39 × 3 ms is within the window
  EXPECT_EQ(sp::wait_after(0ms, 150ms), sp::Clock::duration::zero());
}

TEST(SummaryPacer, ACostlySummaryWaitsThirtyNineTimesItsCost) {
  EXPECT_EQ(sp::wait_after(50ms, 150ms), 1950ms);  // a user with ~1,000 conversations
  EXPECT_EQ(sp::wait_after(4ms, 150ms), 156ms);    // just over the window
}

TEST(SummaryPacer, NoWaitIsLongerThanTheCap) {
  EXPECT_EQ(sp::wait_after(10s, 150ms), sp::kMaxWait);  // Postgres overloaded
}

TEST(SummaryPacer, ALongerWindowHoldsFewer) {
  EXPECT_EQ(sp::wait_after(10ms, 500ms), sp::Clock::duration::zero());
  EXPECT_EQ(sp::wait_after(10ms, 150ms), 390ms);
}
