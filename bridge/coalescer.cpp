#include "bridge/coalescer.h"

#include <algorithm>

namespace mqchat::bridge {

bool Coalescer::mark(const std::string& key, Clock::time_point now) {
  ++marks_;
  if (const auto h = holds_.find(key); h != holds_.end()) {
    if (h->second.until > now) {
      h->second.marked = true;
      return false;
    }
    holds_.erase(h);
  }
  if (!set_.insert(key).second) return false;
  order_.push_back(key);
  if (due_) return false;
  due_ = now + window_;
  return true;
}

void Coalescer::hold(const std::string& key, Clock::time_point until) {
  Hold& h = holds_[key];
  h.until = until;
  if (set_.erase(key)) {  // marked in the current window: owed at the hold's end instead
    order_.erase(std::find(order_.begin(), order_.end(), key));
    if (order_.empty()) due_.reset();
    h.marked = true;
  }
}

std::optional<Coalescer::Clock::time_point> Coalescer::due() const {
  std::optional<Clock::time_point> next = due_;
  for (const auto& [key, h] : holds_)
    if (h.marked && (!next || h.until < *next)) next = h.until;
  return next;
}

std::vector<std::string> Coalescer::take_due(Clock::time_point now, size_t max) {
  std::vector<std::string> out;
  for (auto it = holds_.begin(); it != holds_.end();) {
    if (it->second.until > now || (it->second.marked && out.size() >= max)) {
      ++it;
      continue;
    }
    if (it->second.marked) out.push_back(it->first);
    it = holds_.erase(it);
  }
  if (due_ && now >= *due_) {
    while (!order_.empty() && out.size() < max) {
      set_.erase(order_.front());
      out.push_back(std::move(order_.front()));
      order_.pop_front();
    }
    if (order_.empty()) due_.reset();
  }
  taken_ += out.size();
  return out;
}

}  // namespace mqchat::bridge
