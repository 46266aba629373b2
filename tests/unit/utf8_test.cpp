#include "common/utf8.h"

#include <gtest/gtest.h>

using namespace mqchat;

TEST(Utf8, CountsCodePointsNotBytes) {
  EXPECT_EQ(utf8_length("hello"), 5u);
  EXPECT_EQ(utf8_length("héllo"), 5u);
  EXPECT_EQ(utf8_length("日本語"), 3u);
  EXPECT_EQ(utf8_length("😀"), 1u);
  EXPECT_EQ(utf8_length(""), 0u);
}

TEST(Utf8, RejectsMalformedSequences) {
  for (std::string bad : {std::string("\xff"), std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"),
                          std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("\xe6\x97"),
                          std::string("a\0b", 3), std::string("\x80")})
    EXPECT_FALSE(utf8_length(bad)) << testing::PrintToString(bad);
}

TEST(Utf8, BlankDetection) {
  EXPECT_FALSE(has_visible_char(""));
  EXPECT_FALSE(has_visible_char(" \t\r\n\v\f"));
  EXPECT_FALSE(has_visible_char("\u3000\u00a0\u2003"));
  EXPECT_TRUE(has_visible_char("  x "));
  EXPECT_TRUE(has_visible_char("日"));
}

// The scans take eight bytes at a time: whatever lies at any position in or after a run of
// ASCII must be found as it is byte by byte.
TEST(Utf8, EveryPositionIsCheckedAroundTheEightAndSixteenByteSteps) {
  for (size_t at = 0; at < 48; ++at) {
    const std::string ascii(at, 'a');
    EXPECT_EQ(utf8_length(ascii + "bcdefghijklmnop"), at + 15) << at;
    EXPECT_FALSE(utf8_length(ascii + std::string(1, '\0') + "0123456789")) << "NUL at " << at;
    EXPECT_FALSE(utf8_length(ascii + "\xC3" + "0123456789")) << "cut sequence at " << at;
    EXPECT_FALSE(utf8_length(ascii + "\xED\xA0\x80" + "0123456789")) << "surrogate at " << at;
    EXPECT_EQ(utf8_length(ascii + "\xC3\xA9" + "0123456789"), at + 11) << "é at " << at;
    EXPECT_EQ(utf8_length(ascii + "\xF0\x9F\x98\x80" + "01234567"), at + 9) << "emoji at " << at;
  }
}
