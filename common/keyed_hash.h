#pragma once
// A fast 64-bit hash of short strings, keyed with a random secret, for the broker thread's own
// hash tables (plugin/dedup_cache.h, plugin/user_table.h). Keys there are chosen from outside
// (client ids, usernames): with the secret, nobody can pick keys that collide and make a table
// slow the broker thread down.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/swar.h"

namespace mqchat {

inline uint64_t fold_multiply(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Eight bytes per step, each step a 64x64->128-bit multiply folded back (as wyhash does), seeded
// with the secret and the length. The last step takes the eight bytes that end the string (they may
// overlap the step before), a string under eight bytes two overlapping fours or, under four, its
// first, middle and last byte: every byte counts, without a loop over the remainder.
inline uint64_t keyed_hash(std::string_view s, uint64_t secret) {
  constexpr uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
  const uint64_t multiplier = (k1 ^ secret) | 1;
  uint64_t h = secret ^ (s.size() * k2);
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t last;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) h = fold_multiply(h ^ swar::load8(p + i) ^ k2, multiplier);
    last = swar::load8(p + n - 8);
  } else if (n >= 4) {
    last = swar::load4(p) | uint64_t{swar::load4(p + n - 4)} << 32;
  } else {
    const auto byte = [p](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
    last = n == 0 ? 0 : byte(0) << 16 | byte(n / 2) << 8 | byte(n - 1);
  }
  return fold_multiply(h ^ last ^ k1, multiplier ^ k2);
}

// A secret from the system's random source (RAND_bytes); throws if there is none.
uint64_t random_hash_secret();

}  // namespace mqchat
