#include "common/crc32c.h"

#include <array>
#include <cstring>

namespace mqchat {

namespace {
constexpr uint32_t kPolynomial = 0x82F63B78u;  // reflected Castagnoli

constexpr std::array<uint32_t, 256> kTable = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[i] = c;
  }
  return t;
}();
}  // namespace

uint32_t crc32c_portable(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t crc = ~0u;
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)
bool crc32c_hardware_available() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

// Four eight-byte steps per turn of the loop (a loop of one step spent three instructions on
// itself for every crc32 instruction), then at most one of 16 and 8 bytes and one crc32 each of
// 4, 2 and 1 for the tail: every spooled message is checksummed on the broker thread.
__attribute__((target("sse4.2"))) uint32_t crc32c_hardware(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  const auto load8 = [](const unsigned char* at) {
    uint64_t word;
    std::memcpy(&word, at, sizeof word);
    return word;
  };
  uint64_t crc = ~0u;
  for (; n >= 32; n -= 32, p += 32) {
    crc = __builtin_ia32_crc32di(crc, load8(p));
    crc = __builtin_ia32_crc32di(crc, load8(p + 8));
    crc = __builtin_ia32_crc32di(crc, load8(p + 16));
    crc = __builtin_ia32_crc32di(crc, load8(p + 24));
  }
  if (n & 16) {
    crc = __builtin_ia32_crc32di(crc, load8(p));
    crc = __builtin_ia32_crc32di(crc, load8(p + 8));
    p += 16;
  }
  if (n & 8) {
    crc = __builtin_ia32_crc32di(crc, load8(p));
    p += 8;
  }
  auto crc32 = static_cast<uint32_t>(crc);
  if (n & 4) {
    uint32_t word;
    std::memcpy(&word, p, sizeof word);
    crc32 = __builtin_ia32_crc32si(crc32, word);
    p += 4;
  }
  if (n & 2) {
    uint16_t half;
    std::memcpy(&half, p, sizeof half);
    crc32 = __builtin_ia32_crc32hi(crc32, half);
    p += 2;
  }
  if (n & 1) crc32 = __builtin_ia32_crc32qi(crc32, *p);
  return ~crc32;
}
#else
bool crc32c_hardware_available() { return false; }
uint32_t crc32c_hardware(const void* data, size_t n) { return crc32c_portable(data, n); }
#endif

uint32_t crc32c(const void* data, size_t n) {
  return crc32c_hardware_available() ? crc32c_hardware(data, n) : crc32c_portable(data, n);
}

}  // namespace mqchat
