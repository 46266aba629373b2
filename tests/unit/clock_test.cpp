#include "common/clock.h"

#include <gtest/gtest.h>

#include <cstdio>

using mqchat::rfc3339_utc;

TEST(Clock, Rfc3339HasMicrosecondsAndZ) {
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(rfc3339_utc(1732000000123456), "2024-11-19T07:06:40.123456Z");
  EXPECT_EQ(rfc3339_utc(1732000000000007), "2024-11-19T07:06:40.000007Z");  // same second, cached prefix
  EXPECT_EQ(rfc3339_utc(1732000001999999), "2024-11-19T07:06:41.999999Z");  // next second
  EXPECT_EQ(rfc3339_utc(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(Clock, EveryMicrosecondValueIsWrittenAsSixDigits) {
  char expected[8];
  for (int us = 0; us < 1000000; us += 7) {  // every digit in every place, pairs included
    std::snprintf(expected, sizeof expected, "%06d", us);
    ASSERT_EQ(rfc3339_utc(1732000000000000 + us).substr(20, 6), expected) << us;
  }
}
