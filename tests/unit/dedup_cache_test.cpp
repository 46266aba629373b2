#include "plugin/dedup_cache.h"

#include <gtest/gtest.h>

using namespace mqchat;

TEST(DedupCache, RemembersWithinTheWindow) {
  DedupCache cache(60, 100);
  EXPECT_FALSE(cache.find("alice", "alice_bob", "c1", 1000));
  cache.remember("alice", "alice_bob", "c1", "stored-1", 1000);
  ASSERT_TRUE(cache.find("alice", "alice_bob", "c1", 1059));
  EXPECT_EQ(*cache.find("alice", "alice_bob", "c1", 1060), "stored-1");
  EXPECT_FALSE(cache.find("bob", "alice_bob", "c1", 1000));  // per sender
  EXPECT_FALSE(cache.find("alice", "alice_bob", "c1", 1061));  // expired
}

TEST(DedupCache, RoomsNeverCollide) {
  DedupCache cache(60, 100);
  cache.remember("alice", "alice_bob", "c1", "to bob", 0);
  EXPECT_FALSE(cache.find("alice", "alice_carol", "c1", 0));
}

TEST(DedupCache, KeysCannotCollideAcrossTheSeparator) {
  DedupCache cache(60, 100);
  cache.remember("ab", "c", "d", "x", 0);
  EXPECT_FALSE(cache.find("a", "bc", "d", 0));
  EXPECT_FALSE(cache.find("ab", "", "cd", 0));
}

TEST(DedupCache, FirstStaysUnlessReplaced) {
  DedupCache cache(60, 100);
  cache.remember("c", "7", "h", "first", 0);
  cache.remember("c", "7", "h", "second", 1);
  EXPECT_EQ(*cache.find("c", "7", "h", 1), "first");
  cache.remember("c", "7", "h", "third", 2, /*replace=*/true);
  EXPECT_EQ(*cache.find("c", "7", "h", 2), "third");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(DedupCache, AReplacedEntryAgeingOutLeavesItsReplacementFindable) {
  DedupCache cache(60, 100);
  cache.remember("c", "7", "h", "first", 0);
  cache.remember("c", "7", "h", "second", 50, /*replace=*/true);
  ASSERT_TRUE(cache.find("c", "7", "h", 61));  // "first" has aged out by now
  EXPECT_EQ(*cache.find("c", "7", "h", 61), "second");
  EXPECT_FALSE(cache.find("c", "7", "h", 111));
}

TEST(DedupCache, IsBoundedEvenWhenEveryKeyIsReplaced) {
  DedupCache cache(600, 4);
  for (int i = 0; i < 20; ++i) cache.remember("c", "7", std::to_string(i % 2), "p" + std::to_string(i), 0, true);
  EXPECT_EQ(*cache.find("c", "7", "1", 0), "p19");
  EXPECT_EQ(*cache.find("c", "7", "0", 0), "p18");
  EXPECT_EQ(cache.size(), 2u);
}

TEST(DedupCache, IsBounded) {
  DedupCache cache(600, 3);
  for (int i = 0; i < 10; ++i) cache.remember("alice", "r", std::to_string(i), "p", 0);
  EXPECT_LE(cache.size(), 3u);
  EXPECT_TRUE(cache.find("alice", "r", "9", 0));
  EXPECT_FALSE(cache.find("alice", "r", "0", 0));
}

TEST(DedupCache, ZeroWindowDisablesIt) {
  DedupCache cache(0, 10);
  cache.remember("alice", "r", "c1", "p", 0);
  EXPECT_FALSE(cache.find("alice", "r", "c1", 0));
}
