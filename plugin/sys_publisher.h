#pragma once
// The plugin's metrics as retained $SYS/broker/mqchat/... topics, the way Mosquitto publishes its
// own $SYS tree: every interval, each value that changed since the last round (all of them the
// first time). Driven by the TICK callback on the broker thread, which runs once per main-loop
// iteration (for every few messages on a busy broker): due() is one comparison, and a round is a
// snapshot of atomics plus a few small strings, published with mosquitto_broker_publish_copy
// (in-memory queueing).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/metrics.h"

namespace mqchat {

class SysPublisher {
 public:
  static constexpr const char* kPrefix = "$SYS/broker/mqchat/";
  using Values = std::vector<std::pair<std::string, std::string>>;

  // interval_s 0: never due.
  SysPublisher(const metrics::Registry& registry, uint32_t interval_s) : registry_(registry), interval_s_(interval_s) {}

  bool due(int64_t now_s) const { return interval_s_ != 0 && now_s >= next_s_; }
  // The (topic, value) pairs to publish now; schedules the next round.
  Values round(int64_t now_s);

 private:
  const metrics::Registry& registry_;
  uint32_t interval_s_;
  int64_t next_s_ = 0;
  Values last_;
};

}  // namespace mqchat
