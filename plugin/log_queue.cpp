#include "plugin/log_queue.h"

namespace mqchat {

void LogQueue::push(LogLevel level, std::string line) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.store(true, std::memory_order_release);
  if (lines_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  lines_.emplace_back(level, std::move(line));
}

std::vector<std::pair<LogLevel, std::string>> LogQueue::drain(size_t& dropped) {
  dropped = 0;
  // Drained on every TICK, which comes about once per message under load: usually nothing is queued.
  if (!pending_.load(std::memory_order_acquire)) return {};
  std::lock_guard<std::mutex> lock(mu_);
  pending_.store(false, std::memory_order_relaxed);
  std::vector<std::pair<LogLevel, std::string>> out(std::make_move_iterator(lines_.begin()),
                                                    std::make_move_iterator(lines_.end()));
  lines_.clear();
  dropped = dropped_;
  dropped_ = 0;
  return out;
}

}  // namespace mqchat
