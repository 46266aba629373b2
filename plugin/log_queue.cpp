#include "plugin/log_queue.h"

namespace mqchat {

void LogQueue::push(LogLevel level, std::string line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lines_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  lines_.emplace_back(level, std::move(line));
}

std::vector<std::pair<LogLevel, std::string>> LogQueue::drain(size_t& dropped) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<LogLevel, std::string>> out(std::make_move_iterator(lines_.begin()),
                                                    std::make_move_iterator(lines_.end()));
  lines_.clear();
  dropped = dropped_;
  dropped_ = 0;
  return out;
}

}  // namespace mqchat
