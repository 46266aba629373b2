#pragma once
// One line per event on stderr (./mqchat sends it to .run/bridge.log), with a UTC timestamp.
#include <iostream>
#include <mutex>
#include <sstream>

#include "common/clock.h"

namespace mqchat::bridge {

template <typename... Parts>
void log(const Parts&... parts) {
  static std::mutex mu;
  std::ostringstream line;
  line << rfc3339_utc(now_unix_us()) << " ";
  (line << ... << parts);
  std::lock_guard<std::mutex> lock(mu);
  std::cerr << line.str() << std::endl;
}

}  // namespace mqchat::bridge
