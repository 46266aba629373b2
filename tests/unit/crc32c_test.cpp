#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace mqchat;

TEST(Crc32c, MatchesTheStandardCheckValue) {
  const std::string check = "123456789";  // RFC 3720 / iSCSI check value
  EXPECT_EQ(crc32c(check.data(), check.size()), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(check.data(), check.size()), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(Crc32c, HardwareAndTableAgreeOnEveryLengthAndAlignment) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE 4.2 on this CPU: only the table is used";
  std::mt19937 rng(7);
  std::string data(4096 + 16, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    // Every length up to three turns of the 32-byte loop (each combination of the 16, 8, 4, 2 and
    // 1-byte tail steps after 0-3 turns), then a few long ones.
    for (size_t n = 0; n <= 100; ++n)
      EXPECT_EQ(crc32c_hardware(data.data() + offset, n), crc32c_portable(data.data() + offset, n))
          << "offset " << offset << " length " << n;
    for (size_t n : {255u, 256u, 257u, 1000u, 4095u, 4096u})
      EXPECT_EQ(crc32c_hardware(data.data() + offset, n), crc32c_portable(data.data() + offset, n))
          << "offset " << offset << " length " << n;
  }
}
