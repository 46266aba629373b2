#include "plugin/dedup_cache.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <random>
#include <string>

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

TEST(DedupCache, AKeyFoundMissingIsRememberedWithoutASecondLookup) {
  DedupCache cache(60, 100);
  const auto key = cache.key("alice", "alice_bob", "c1");
  EXPECT_FALSE(cache.find(key, 1000));
  cache.remember_missing(key, "stored-1", 1000);
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(cache.find(cache.key("alice", "alice_bob", "c1"), 1001));
  EXPECT_EQ(*cache.find("alice", "alice_bob", "c1", 1001), "stored-1");
  EXPECT_FALSE(cache.find("alice", "alice_bob", "c1", 1061));  // ages out like any other
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


namespace {
// The rules, naively: records in arrival order; the oldest leave when out of the window or over
// the bound; a key finds its one live record.
struct NaiveCache {
  struct Record {
    std::string key, payload;
    int64_t at;
    bool live;
  };
  int64_t window;
  size_t max;
  std::deque<Record> records;
  void expire(int64_t now) {
    while (!records.empty() && (records.front().at + window < now || records.size() > max)) records.pop_front();
  }
  Record* live(const std::string& key) {
    for (auto& r : records)
      if (r.live && r.key == key) return &r;
    return nullptr;
  }
  std::optional<std::string> find(const std::string& key, int64_t now) {
    expire(now);
    if (const Record* r = live(key)) return r->payload;
    return std::nullopt;
  }
  void remember(const std::string& key, const std::string& payload, int64_t now, bool replace) {
    if (Record* r = live(key)) {
      if (!replace) return;
      r->live = false;
    }
    records.push_back({key, payload, now, true});
    expire(now);
  }
};
}  // namespace

// Many keys coming and going through the open-addressing index (deletions move records back
// into holes) and across chunks: every answer equals the naive rules' answer.
TEST(DedupCache, ChurnAgreesWithTheNaiveRules) {
  DedupCache cache(20, 300);
  NaiveCache naive{20, 300, {}};
  std::mt19937 rng(7);
  for (int64_t now = 0; now < 200; now += rng() % 3) {
    for (int i = 0; i < 30; ++i) {
      const std::string id = std::to_string(rng() % 1000);
      const bool replace = rng() % 4 == 0;
      const std::string payload(rng() % 5000, char('a' + rng() % 26));  // some records fill a chunk
      const auto found = cache.find("u", "room", id, now);
      const auto expected = naive.find(id, now);
      ASSERT_EQ(found.has_value(), expected.has_value()) << id << " at " << now;
      if (found) {
        ASSERT_EQ(*found, *expected);
      }
      cache.remember("u", "room", id, payload, now, replace);
      naive.remember(id, payload, now, replace);
      size_t live = 0;
      for (const auto& r : naive.records) live += r.live;
      ASSERT_EQ(cache.size(), live);
    }
  }
}
