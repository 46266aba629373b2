#include "common/uuid.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mqchat {

const Uuid kConversationNamespace = *parse_uuid("6d716368-6174-4d51-8000-000000000001");

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void random_bytes(uint8_t* out, int n) {
  if (RAND_bytes(out, n) != 1) throw std::runtime_error("RAND_bytes failed");
}
}  // namespace

void format_uuid(const Uuid& id, char* out) {
#if defined(__SSE2__)
  // Every message gets an id: all 32 digits at once. The bytes' high and low nibbles interleaved,
  // each nibble made a digit ('0' + n, and 39 more for a-f), copied out around the four dashes.
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(id.data()));
  const __m128i low4 = _mm_set1_epi8(0x0F);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), low4), low = _mm_and_si128(bytes, low4);
  const auto digits = [](__m128i n) {
    const __m128i letter = _mm_cmpgt_epi8(n, _mm_set1_epi8(9));
    return _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')), _mm_and_si128(letter, _mm_set1_epi8('a' - '0' - 10)));
  };
  char hex[32];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(hex), digits(_mm_unpacklo_epi8(high, low)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(hex + 16), digits(_mm_unpackhi_epi8(high, low)));
  std::memcpy(out, hex, 8);
  out[8] = '-';
  std::memcpy(out + 9, hex + 8, 4);
  out[13] = '-';
  std::memcpy(out + 14, hex + 12, 4);
  out[18] = '-';
  std::memcpy(out + 19, hex + 16, 4);
  out[23] = '-';
  std::memcpy(out + 24, hex + 20, 12);
#else
  // Two hex digits per byte from one table; the dashes after bytes 4, 6, 8 and 10.
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr std::array<char[2], 256> kPairs = [] {
    std::array<char[2], 256> t{};
    for (int b = 0; b < 256; ++b) {
      t[b][0] = kHex[b >> 4];
      t[b][1] = kHex[b & 0xF];
    }
    return t;
  }();
  static constexpr uint16_t kDashAfter = (1u << 3) | (1u << 5) | (1u << 7) | (1u << 9);
  for (size_t i = 0; i < id.size(); ++i) {
    std::memcpy(out, kPairs[id[i]], 2);
    out += 2;
    if (kDashAfter >> i & 1) *out++ = '-';
  }
#endif
}

std::string to_string(const Uuid& id) {
  std::string s(kUuidTextSize, '0');
  format_uuid(id, s.data());
  return s;
}

std::optional<Uuid> parse_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid id{};
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return id;
}

Uuid uuid_v5(const Uuid& ns, std::string_view name) {
  std::string input(ns.begin(), ns.end());
  input.append(name);
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const uint8_t*>(input.data()), input.size(), digest);
  Uuid id;
  std::copy(digest, digest + 16, id.begin());
  id[6] = (id[6] & 0x0F) | 0x50;
  id[8] = (id[8] & 0x3F) | 0x80;
  return id;
}

Uuid Uuidv7Generator::next() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return next(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
}

uint64_t Uuidv7Generator::random64() {
  if (until_reseed_-- == 0) {
    do random_bytes(reinterpret_cast<uint8_t*>(state_), sizeof state_);
    while ((state_[0] | state_[1] | state_[2] | state_[3]) == 0);  // the one state xoshiro cannot leave
    until_reseed_ = kReseedEvery;
  }
  const auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

Uuid Uuidv7Generator::next(uint64_t unix_ms) {
  Uuid id;
  const uint64_t r1 = random64(), r2 = random64();
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::memcpy(&id[8], &r1, 8);  // what the loop below writes, as one store
#else
  for (int i = 0; i < 8; ++i) id[8 + i] = static_cast<uint8_t>(r1 >> (8 * i));
#endif
  id[6] = static_cast<uint8_t>(r2);
  id[7] = static_cast<uint8_t>(r2 >> 8);
  if (unix_ms > last_ms_) {
    last_ms_ = unix_ms;
    counter_ = (uint32_t{id[6]} << 8 | id[7]) & 0x7FF;  // random start, room to count up
  } else if (++counter_ > 0xFFF) {
    ++last_ms_;  // counter exhausted (or clock went back): borrow the next millisecond
    counter_ = 0;
  }
  const uint64_t ms = last_ms_;
  const uint32_t counter = counter_;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ms_big_endian = __builtin_bswap64(ms << 16);  // the 48 bits, most significant byte first
  std::memcpy(&id[0], &ms_big_endian, 6);
#else
  for (int i = 0; i < 6; ++i) id[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
#endif
  id[6] = static_cast<uint8_t>(0x70 | (counter >> 8));
  id[7] = static_cast<uint8_t>(counter);
  id[8] = (id[8] & 0x3F) | 0x80;
  return id;
}

}  // namespace mqchat
