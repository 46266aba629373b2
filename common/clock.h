#pragma once
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>

namespace mqchat {

// Microseconds since the Unix epoch (wall clock).
int64_t now_unix_us();

// RFC 3339, UTC, microseconds: 2026-11-24T18:19:38.123456Z (the format SQL's mqchat_ts() gives).
std::string rfc3339_utc(int64_t unix_us);

constexpr size_t kRfc3339Size = 27;  // 2026-11-24T18:19:38.123456Z

// The same text written in place, for one thread's per-message path: the date and time of day
// are formatted once a second.
class Rfc3339Formatter {
 public:
  void format(int64_t unix_us, char* out);  // kRfc3339Size characters, no terminator

 private:
  int64_t cached_secs_ = INT64_MIN;
  char prefix_[19] = {};
};

}  // namespace mqchat
