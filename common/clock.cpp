#include "common/clock.h"

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace mqchat {

int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Rfc3339Formatter::format(int64_t unix_us, char* out) {
  int64_t secs = unix_us / 1000000;
  int micros = static_cast<int>(unix_us % 1000000);
  if (micros < 0) {  // before 1970: floor, not truncate
    micros += 1000000;
    --secs;
  }
  // Every message is stamped: the "YYYY-MM-DDTHH:MM:SS" part is formatted once a second, only
  // the microseconds each time (snprintf was a tenth of the broker's work).
  if (secs != cached_secs_) {
    const time_t t = static_cast<time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::memcpy(prefix_, text, sizeof prefix_);
    cached_secs_ = secs;
  }
  std::memcpy(out, prefix_, sizeof prefix_);
  // Two digits at a time from a table: every message is stamped.
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  out[19] = '.';
  std::memcpy(out + 20, kPairs + 2 * (micros / 10000), 2);
  std::memcpy(out + 22, kPairs + 2 * (micros / 100 % 100), 2);
  std::memcpy(out + 24, kPairs + 2 * (micros % 100), 2);
  out[26] = 'Z';
}

std::string rfc3339_utc(int64_t unix_us) {
  thread_local Rfc3339Formatter formatter;
  std::string out(kRfc3339Size, ' ');
  formatter.format(unix_us, out.data());
  return out;
}

}  // namespace mqchat
