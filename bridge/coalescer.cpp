#include "bridge/coalescer.h"

namespace mqchat::bridge {

bool Coalescer::mark(const std::string& key, Clock::time_point now) {
  ++marks_;
  if (!set_.insert(key).second) return false;
  order_.push_back(key);
  if (due_) return false;
  due_ = now + window_;
  return true;
}

std::optional<Coalescer::Clock::time_point> Coalescer::due() const { return due_; }

std::vector<std::string> Coalescer::take_due(Clock::time_point now, size_t max) {
  std::vector<std::string> out;
  if (!due_ || now < *due_) return out;
  while (!order_.empty() && out.size() < max) {
    set_.erase(order_.front());
    out.push_back(std::move(order_.front()));
    order_.pop_front();
  }
  taken_ += out.size();
  if (order_.empty()) due_.reset();
  return out;
}

}  // namespace mqchat::bridge
