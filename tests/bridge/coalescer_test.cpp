// Coalescer: a burst of marks becomes one recomputation per window; a held key waits for its hold.
#include "bridge/coalescer.h"

#include <gtest/gtest.h>

namespace mqchat::bridge {
namespace {

using namespace std::chrono_literals;
const auto t0 = Coalescer::Clock::now();

TEST(BridgeCoalescer, ABurstBecomesOneRecomputationPerWindow) {
  Coalescer c(100ms);
  EXPECT_TRUE(c.mark("bob", t0));
  for (int i = 0; i < 10000; ++i) c.mark(i % 2 ? "bob" : "alice", t0 + std::chrono::microseconds(i));
  EXPECT_TRUE(c.take_due(t0 + 50ms).empty());  // window still open
  const auto due = c.take_due(t0 + 100ms);
  EXPECT_EQ(due, (std::vector<std::string>{"bob", "alice"}));
  EXPECT_EQ(c.marks(), 10001u);
  EXPECT_EQ(c.taken(), 2u);
  EXPECT_FALSE(c.due());
  c.mark("carol", t0 + 200ms);
  EXPECT_EQ(c.take_due(t0 + 300ms, 1).size(), 1u);
}

TEST(BridgeCoalescer, AKeyMarkedDuringItsHoldIsDueWhenTheHoldEnds) {
  Coalescer c(150ms);
  c.hold("many", t0 + 2s);
  EXPECT_FALSE(c.mark("many", t0 + 10ms));  // opens no window
  c.mark("many", t0 + 1s);
  EXPECT_EQ(c.pending(), 0u);
  ASSERT_TRUE(c.due());
  EXPECT_EQ(*c.due(), t0 + 2s);
  EXPECT_TRUE(c.take_due(t0 + 1999ms).empty());
  EXPECT_EQ(c.take_due(t0 + 2s), std::vector<std::string>{"many"});  // at once, not a window later
  EXPECT_TRUE(c.take_due(t0 + 3s).empty());  // handed out once
  EXPECT_FALSE(c.due());
  EXPECT_EQ(c.held(), 0u);
  EXPECT_TRUE(c.mark("many", t0 + 3s));  // the hold is over: an ordinary window again
  EXPECT_EQ(*c.due(), t0 + 3s + 150ms);
}

TEST(BridgeCoalescer, AHoldNobodyMarkedDuringOwesNothing) {
  Coalescer c(150ms);
  c.hold("many", t0 + 2s);
  EXPECT_FALSE(c.due());  // nothing owed: no wake-up needed
  EXPECT_TRUE(c.take_due(t0 + 3s).empty());
  EXPECT_EQ(c.held(), 0u);  // forgotten once over
}

TEST(BridgeCoalescer, HoldingAKeyMarkedInTheWindowMovesItToTheHoldsEnd) {
  Coalescer c(150ms);
  c.mark("a", t0);
  c.mark("many", t0);
  c.hold("many", t0 + 1s);
  EXPECT_EQ(c.take_due(t0 + 150ms), std::vector<std::string>{"a"});
  EXPECT_EQ(*c.due(), t0 + 1s);
  EXPECT_EQ(c.take_due(t0 + 1s), std::vector<std::string>{"many"});
  c.mark("b", t0 + 2s);
  c.hold("b", t0 + 3s);  // the only key of its window: the window goes with it
  EXPECT_EQ(*c.due(), t0 + 3s);
}

TEST(BridgeCoalescer, KeysAreHeldIndependentlyAndTakenInBatches) {
  Coalescer c(150ms);
  c.hold("a", t0 + 780ms);
  c.hold("b", t0 + 3900ms);
  c.mark("a", t0 + 1ms);
  c.mark("b", t0 + 1ms);
  c.mark("c", t0 + 1ms);
  EXPECT_EQ(*c.due(), t0 + 151ms);
  EXPECT_EQ(c.take_due(t0 + 151ms), std::vector<std::string>{"c"});
  EXPECT_EQ(*c.due(), t0 + 780ms);
  EXPECT_EQ(c.take_due(t0 + 800ms), std::vector<std::string>{"a"});
  EXPECT_EQ(*c.due(), t0 + 3900ms);
  c.hold("d", t0 + 1s);
  c.mark("d", t0 + 2ms);
  const auto first = c.take_due(t0 + 4s, 1);  // both due: one now, the other on the next call
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(c.due());
  EXPECT_LE(*c.due(), t0 + 4s);
  const auto second = c.take_due(t0 + 4s, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(first[0], second[0]);
  EXPECT_FALSE(c.due());
}

}  // namespace
}  // namespace mqchat::bridge
