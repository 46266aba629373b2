#include "plugin/sys_publisher.h"

namespace mqchat {

SysPublisher::Values SysPublisher::round(int64_t now_s) {
  next_s_ = now_s + interval_s_;
  auto values = metrics::sys_values(registry_.collect(), kPrefix);
  Values changed;
  for (size_t i = 0; i < values.size(); ++i) {
    // The registry's series never change after start, so index i is the same topic every round.
    if (i >= last_.size() || last_[i] != values[i]) changed.push_back(values[i]);
  }
  last_ = std::move(values);
  return changed;
}

}  // namespace mqchat
