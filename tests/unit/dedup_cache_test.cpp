#include "plugin/dedup_cache.h"

#include <gtest/gtest.h>

using namespace mqchat;

TEST(DedupCache, RemembersWithinTheWindow) {
  DedupCache cache(60, 100);
  EXPECT_EQ(cache.find("alice", "c1", 1000), nullptr);
  cache.remember("alice", "c1", "stored-1", 1000);
  ASSERT_NE(cache.find("alice", "c1", 1059), nullptr);
  EXPECT_EQ(*cache.find("alice", "c1", 1060), "stored-1");
  EXPECT_EQ(cache.find("bob", "c1", 1000), nullptr);  // per sender
  EXPECT_EQ(cache.find("alice", "c1", 1061), nullptr);  // expired
}

TEST(DedupCache, KeysCannotCollideAcrossTheSeparator) {
  DedupCache cache(60, 100);
  cache.remember("ab", "c", "x", 0);
  EXPECT_EQ(cache.find("a", "bc", 0), nullptr);
}

TEST(DedupCache, IsBounded) {
  DedupCache cache(600, 3);
  for (int i = 0; i < 10; ++i) cache.remember("alice", std::to_string(i), "p", 0);
  EXPECT_LE(cache.size(), 3u);
  EXPECT_NE(cache.find("alice", "9", 0), nullptr);
  EXPECT_EQ(cache.find("alice", "0", 0), nullptr);
}

TEST(DedupCache, ZeroWindowDisablesIt) {
  DedupCache cache(0, 10);
  cache.remember("alice", "c1", "p", 0);
  EXPECT_EQ(cache.find("alice", "c1", 0), nullptr);
}
