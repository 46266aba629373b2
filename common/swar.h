#pragma once
// Eight bytes at a time ("SIMD within a register") for the scans every chat message goes
// through on the broker thread: UTF-8 checks and JSON strings are nearly always plain ASCII, and
// a byte loop over them cost more than the broker's own work per message.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mqchat::swar {

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

inline uint64_t load8(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Bit 7 of each byte of the result is set where the byte is below n (n <= 128). Exact for the
// lowest such byte, which is all the scans use (a borrow can only mark bytes above it).
inline uint64_t bytes_below(uint64_t v, uint8_t n) { return (v - kOnes * n) & ~v & kHighBits; }
inline uint64_t bytes_equal(uint64_t v, uint8_t c) { return bytes_below(v ^ (kOnes * c), 1); }

// How many of the eight bytes, from the first, pass before the first marked one (8 if none).
inline size_t leading_unmarked(uint64_t marks) {
  return marks ? static_cast<size_t>(__builtin_ctzll(marks)) / 8 : 8;
}

// Leading bytes that are ASCII other than NUL.
inline size_t leading_ascii(uint64_t v) { return leading_unmarked((v & kHighBits) | bytes_below(v, 1)); }

// Leading bytes that neither end nor need escaping in a JSON string: not '"', '\\', control chars.
inline size_t leading_plain_json(uint64_t v) {
  return leading_unmarked(bytes_below(v, 0x20) | bytes_equal(v, '"') | bytes_equal(v, '\\'));
}

// The length of the prefix of [p, end) for which `leading` says "plain", eight bytes at a time;
// the remainder (fewer than eight bytes, or from the first byte that is not plain) is the
// caller's to look at byte by byte.
template <typename Leading>
inline const char* skip_plain(const char* p, const char* end, Leading leading) {
  while (end - p >= 8) {
    const size_t n = leading(load8(p));
    p += n;
    if (n < 8) break;
  }
  return p;
}

}  // namespace mqchat::swar
