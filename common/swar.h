#pragma once
// Eight bytes at a time ("SIMD within a register") for the scans every chat message goes
// through on the broker thread: UTF-8 checks and JSON strings are nearly always plain ASCII, and
// a byte loop over them cost more than the broker's own work per message.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace mqchat::swar {

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

inline uint64_t load8(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t load4(const void* p) {
  uint32_t v;
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

// Bit 7 of each byte of the result is set where the byte is at least n, exactly for every byte,
// provided none has bit 7 set (then no byte's sum carries into the next).
inline uint64_t ascii_bytes_at_least(uint64_t v, uint8_t n) { return (v + kOnes * uint8_t(0x80 - n)) & kHighBits; }
inline uint64_t ascii_bytes_in(uint64_t v, uint8_t lo, uint8_t hi) {
  return ascii_bytes_at_least(v, lo) & ~ascii_bytes_at_least(v, uint8_t(hi + 1));
}

// Leading bytes that are ASCII other than NUL.
inline size_t leading_ascii(uint64_t v) { return leading_unmarked((v & kHighBits) | bytes_below(v, 1)); }

// Leading bytes that neither end nor need escaping in a JSON string: not '"', '\\', control chars.
inline size_t leading_plain_json(uint64_t v) {
  return leading_unmarked(bytes_below(v, 0x20) | bytes_equal(v, '"') | bytes_equal(v, '\\'));
}

// Whether n bytes at a and b are the same, eight at a time: for the short keys (usernames) the
// broker thread compares on every check, where a call to memcmp costs more than the comparing.
// The last few bytes are compared as the word (or four bytes) that ends there, overlapping bytes
// already compared, rather than one by one.
inline bool equal_bytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8)
      if (load8(a + i) != load8(b + i)) return false;
    return load8(a + n - 8) == load8(b + n - 8);
  }
  if (n >= 4) return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
  for (; n > 0; ++a, ++b, --n)
    if (*a != *b) return false;
  return true;
}

// a == b for short strings (names, channels) compared on every check, without a call to memcmp.
inline bool equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && equal_bytes(a.data(), b.data(), a.size());
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

// Past the leading bytes of [p, end) that are ASCII other than NUL: sixteen bytes a test while
// they all are (nearly every payload), then eight at a time; the rest is the caller's.
inline const char* skip_ascii(const char* p, const char* end) {
  while (end - p >= 16) {
    const uint64_t a = load8(p), b = load8(p + 8);
    if (((a | b) & kHighBits) | bytes_below(a, 1) | bytes_below(b, 1)) break;
    p += 16;
  }
  return skip_plain(p, end, leading_ascii);
}

}  // namespace mqchat::swar
