#include "plugin/dedup_cache.h"

#include <gtest/gtest.h>

using namespace mqchat;

TEST(DedupCache, RemembersWithinTheWindow) {
  DedupCache cache(60, 100);
  EXPECT_EQ(cache.find("alice", "alice_bob", "c1", 1000), nullptr);
  cache.remember("alice", "alice_bob", "c1", "stored-1", 1000);
  ASSERT_NE(cache.find("alice", "alice_bob", "c1", 1059), nullptr);
  EXPECT_EQ(*cache.find("alice", "alice_bob", "c1", 1060), "stored-1");
  EXPECT_EQ(cache.find("bob", "alice_bob", "c1", 1000), nullptr);  // per sender
  EXPECT_EQ(cache.find("alice", "alice_bob", "c1", 1061), nullptr);  // expired
}

TEST(DedupCache, RoomsNeverCollide) {
  DedupCache cache(60, 100);
  cache.remember("alice", "alice_bob", "c1", "to bob", 0);
  EXPECT_EQ(cache.find("alice", "alice_carol", "c1", 0), nullptr);
}

TEST(DedupCache, KeysCannotCollideAcrossTheSeparator) {
  DedupCache cache(60, 100);
  cache.remember("ab", "c", "d", "x", 0);
  EXPECT_EQ(cache.find("a", "bc", "d", 0), nullptr);
  EXPECT_EQ(cache.find("ab", "", "cd", 0), nullptr);
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

TEST(DedupCache, IsBounded) {
  DedupCache cache(600, 3);
  for (int i = 0; i < 10; ++i) cache.remember("alice", "r", std::to_string(i), "p", 0);
  EXPECT_LE(cache.size(), 3u);
  EXPECT_NE(cache.find("alice", "r", "9", 0), nullptr);
  EXPECT_EQ(cache.find("alice", "r", "0", 0), nullptr);
}

TEST(DedupCache, ZeroWindowDisablesIt) {
  DedupCache cache(0, 10);
  cache.remember("alice", "r", "c1", "p", 0);
  EXPECT_EQ(cache.find("alice", "r", "c1", 0), nullptr);
}
