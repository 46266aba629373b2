#include "common/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace mqchat {

int64_t now_unix_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339_utc(int64_t unix_us) {
  const time_t secs = static_cast<time_t>(unix_us / 1000000);
  const int micros = static_cast<int>(unix_us % 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

}  // namespace mqchat
