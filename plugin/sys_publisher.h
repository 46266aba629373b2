#pragma once
// The plugin's metrics as retained $SYS/broker/mqchat/... topics, the way Mosquitto publishes its
// own $SYS tree: every interval, each value that changed since the last round (all of them the
// first time). Driven by the TICK callback on the broker thread; `publish` queues in memory
// (mosquitto_broker_publish_copy), so a round is a snapshot of atomics plus a few small strings.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/metrics.h"

namespace mqchat {

class SysPublisher {
 public:
  using Publish = std::function<void(const std::string& topic, const std::string& value)>;
  static constexpr const char* kPrefix = "$SYS/broker/mqchat/";

  // interval_s 0: never publishes.
  SysPublisher(const metrics::Registry& registry, uint32_t interval_s) : registry_(registry), interval_s_(interval_s) {}

  // Publishes a round when one is due; returns how many topics it published.
  size_t tick(int64_t now_us, const Publish& publish);

 private:
  const metrics::Registry& registry_;
  uint32_t interval_s_;
  int64_t next_us_ = 0;
  std::vector<std::pair<std::string, std::string>> last_;
};

}  // namespace mqchat
