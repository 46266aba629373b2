#include "common/clock.h"

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace mqchat {

int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339_utc(int64_t unix_us) {
  int64_t secs = unix_us / 1000000;
  int micros = static_cast<int>(unix_us % 1000000);
  if (micros < 0) {  // before 1970: floor, not truncate
    micros += 1000000;
    --secs;
  }
  // Every message is stamped: the "YYYY-MM-DDTHH:MM:SS" part is formatted once a second per
  // thread, only the microseconds each time (snprintf was a tenth of the broker's work).
  thread_local int64_t cached_secs = INT64_MIN;
  thread_local char prefix[64];
  if (secs != cached_secs) {
    const time_t t = static_cast<time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  std::string out(prefix);
  char fraction[9] = {'.', 0, 0, 0, 0, 0, 0, 'Z', 0};
  for (int i = 6; i >= 1; --i, micros /= 10) fraction[i] = static_cast<char>('0' + micros % 10);
  return out.append(fraction, 8);
}

}  // namespace mqchat
