#pragma once
// Bytes as lower-case hex: digests, random ids, login verifiers.
#include <cstddef>
#include <cstdint>
#include <string>

namespace mqchat {

inline std::string to_hex(const void* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto* p = static_cast<const uint8_t*>(data);
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

}  // namespace mqchat
