#include "plugin/sys_publisher.h"

namespace mqchat {

size_t SysPublisher::tick(int64_t now_us, const Publish& publish) {
  if (interval_s_ == 0 || now_us < next_us_) return 0;
  next_us_ = now_us + int64_t(interval_s_) * 1000000;
  auto values = metrics::sys_values(registry_.collect(), kPrefix);
  size_t published = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    // The registry's series never change after start, so index i is the same topic every round.
    if (i < last_.size() && last_[i] == values[i]) continue;
    publish(values[i].first, values[i].second);
    ++published;
  }
  last_ = std::move(values);
  return published;
}

}  // namespace mqchat
