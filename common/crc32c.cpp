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

__attribute__((target("sse4.2"))) uint32_t crc32c_hardware(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t crc = ~0u;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    crc = __builtin_ia32_crc32di(crc, word);
  }
  auto crc32 = static_cast<uint32_t>(crc);
  for (; n > 0; --n, ++p) crc32 = __builtin_ia32_crc32qi(crc32, *p);
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
