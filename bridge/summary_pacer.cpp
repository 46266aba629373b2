#include "bridge/summary_pacer.h"

#include <algorithm>

namespace mqchat::bridge::summary_pacer {

Clock::duration wait_after(Clock::duration cost, std::chrono::milliseconds window) {
  const auto wait = std::min<Clock::duration>(cost * kSpacing, kMaxWait);
  return wait <= window ? Clock::duration::zero() : wait;
}

}  // namespace mqchat::bridge::summary_pacer
