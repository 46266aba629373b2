#include "common/uuid.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <vector>

using namespace mqchat;

TEST(Uuid, ParsesAndPrints) {
  const std::string text = "6d716368-6174-4d51-8000-000000000001";
  auto id = parse_uuid(text);
  ASSERT_TRUE(id);
  EXPECT_EQ(to_string(*id), text);
  EXPECT_EQ(to_string(*parse_uuid("6D716368-6174-4D51-8000-000000000001")), text);
  EXPECT_FALSE(parse_uuid("6d716368-6174-4d51-8000-00000000000"));
  EXPECT_FALSE(parse_uuid("6d716368x6174-4d51-8000-000000000001"));
  EXPECT_FALSE(parse_uuid("6d716368-6174-4d51-8000-00000000000g"));
}

TEST(Uuid, EveryByteValueIsPrintedAsTwoLowercaseDigitsInItsPlace) {
  for (int b = 0; b < 256; ++b) {
    for (size_t at = 0; at < 16; ++at) {
      Uuid id{};
      id[at] = static_cast<uint8_t>(b);
      std::string expected;
      char pair[3];
      for (size_t i = 0; i < 16; ++i) {
        std::snprintf(pair, sizeof pair, "%02x", id[i]);
        expected += pair;
        if (i == 3 || i == 5 || i == 7 || i == 9) expected += '-';
      }
      ASSERT_EQ(to_string(id), expected) << b << " at " << at;
    }
  }
}

TEST(Uuid, V5MatchesTheRfcExample) {
  // uuid_generate_v5(uuid_ns_dns(), 'www.example.com') in Postgres' uuid-ossp.
  const auto dns = *parse_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  EXPECT_EQ(to_string(uuid_v5(dns, "www.example.com")), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
}

TEST(Uuid, ConversationIdIsStableAndDistinct) {
  EXPECT_EQ(conversation_id("alice_bob"), conversation_id("alice_bob"));
  EXPECT_NE(conversation_id("alice_bob"), conversation_id("alice_carol"));
}

TEST(Uuid, V7IsVersionedTimeOrderedAndStrictlyIncreasing) {
  Uuidv7Generator gen;
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 10000; ++i) {
    const auto id = gen.next(1700000000000ull);  // same millisecond: the counter must order them
    const auto text = to_string(id);
    EXPECT_EQ(id[6] >> 4, 7);
    EXPECT_EQ(id[8] >> 6, 2);
    EXPECT_GT(text, previous);
    previous = text;
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), 10000u);
  const auto id = gen.next(1700000000000ull);
  EXPECT_EQ(to_string(id).substr(0, 8), "018bcfe5");  // 1700000000000 = 0x018bcfe56800 (or a later ms)
}

TEST(Uuid, V7RandomBitsDifferBetweenGeneratorsAndStayUniqueAcrossReseeds) {
  Uuidv7Generator a, b;
  const auto x = a.next(1700000000000ull), y = b.next(1700000000000ull);
  EXPECT_NE(std::vector<uint8_t>(x.begin() + 8, x.end()), std::vector<uint8_t>(y.begin() + 8, y.end()));
  std::set<std::vector<uint8_t>> tails;  // the 62 random bits alone, over three reseeds
  for (int i = 0; i < 200000; ++i) {
    const auto id = a.next(1700000000000ull + i / 1000);
    tails.emplace(id.begin() + 8, id.end());
  }
  EXPECT_EQ(tails.size(), 200000u);
}
