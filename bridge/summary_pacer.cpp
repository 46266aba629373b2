#include "bridge/summary_pacer.h"

#include <algorithm>

namespace mqchat::bridge {

void SummaryPacer::computed(const std::string& user, Clock::duration cost, Clock::time_point now) {
  const auto wait = std::min<Clock::duration>(cost * kSpacing, kMaxWait);
  if (wait <= window_) {  // the coalescing window already spaces it enough
    not_before_.erase(user);
    return;
  }
  not_before_[user] = Wait{now + wait, false};
}

bool SummaryPacer::admit(const std::string& user, Clock::time_point now) {
  const auto it = not_before_.find(user);
  if (it == not_before_.end()) return true;
  if (it->second.until <= now) {
    not_before_.erase(it);
    return true;
  }
  it->second.held = true;
  return false;
}

std::vector<std::string> SummaryPacer::take_released(Clock::time_point now) {
  std::vector<std::string> out;
  for (auto it = not_before_.begin(); it != not_before_.end();) {
    if (it->second.until > now) {
      ++it;
      continue;
    }
    if (it->second.held) out.push_back(it->first);
    it = not_before_.erase(it);
  }
  return out;
}

std::optional<SummaryPacer::Clock::time_point> SummaryPacer::next_release() const {
  std::optional<Clock::time_point> next;
  for (const auto& [user, wait] : not_before_)
    if (wait.held && (!next || wait.until < *next)) next = wait.until;
  return next;
}

}  // namespace mqchat::bridge
