#include "common/keyed_hash.h"

#include <gtest/gtest.h>

#include <string>

using namespace mqchat;

TEST(KeyedHash, EveryByteOfEveryLengthCounts) {
  // The remainder is read as overlapping words (or fours, or three bytes): a change of any one byte
  // at any place, and the length alone, must change the hash.
  const uint64_t secret = 0x0123456789abcdefull;
  for (size_t n = 0; n <= 40; ++n) {
    const std::string s(n, 'a');
    const uint64_t h = keyed_hash(s, secret);
    EXPECT_EQ(h, keyed_hash(std::string(n, 'a'), secret)) << n;
    EXPECT_NE(h, keyed_hash(std::string(n + 1, 'a'), secret)) << n;
    for (size_t at = 0; at < n; ++at) {
      std::string t = s;
      t[at] = 'b';
      EXPECT_NE(h, keyed_hash(t, secret)) << n << " " << at;
    }
  }
  EXPECT_NE(keyed_hash("alice", secret), keyed_hash("alice", secret ^ 1));  // the secret keys it
}

TEST(SwarEqual, EveryByteOfEveryLengthIsCompared) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string a(n, 'x');
    EXPECT_TRUE(swar::equal_bytes(a.data(), std::string(n, 'x').data(), n)) << n;
    for (size_t at = 0; at < n; ++at) {
      std::string b = a;
      b[at] = 'y';
      EXPECT_FALSE(swar::equal_bytes(a.data(), b.data(), n)) << n << " " << at;
    }
  }
  EXPECT_TRUE(swar::equal("messages", "messages"));
  EXPECT_FALSE(swar::equal("messages", "message"));
}
