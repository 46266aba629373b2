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
  for (size_t offset = 0; offset < 8; ++offset)
    for (size_t n : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 65u, 1000u, 4096u})
      EXPECT_EQ(crc32c_hardware(data.data() + offset, n), crc32c_portable(data.data() + offset, n))
          << "offset " << offset << " length " << n;
}
