#pragma once
// What the bridge counts: requests by kind and outcome, how long they took from arrival to reply,
// the queue, Postgres. One process-wide registry, served as Prometheus text by main.cpp
// (--metrics-port). Updates are relaxed atomics. Names and meanings: docs/OPERATIONS.md.
#include <array>

#include "bridge/request.h"
#include "common/metrics.h"

namespace mqchat::bridge {

class BridgeMetrics {
 public:
  enum class Result { Ok, Refused, Busy, Failed };  // Refused: answered with an error (not_found, forbidden, ...)
  BridgeMetrics();

  metrics::Registry registry;
  void request(RequestKind kind, Result result) noexcept;
  void invalid_request() noexcept;  // could not be parsed: refused before it had a kind
  void served(RequestKind kind, double seconds) noexcept;  // arrival to reply, Refused/Ok/Failed

  metrics::Gauge& queued;     // requests waiting for a worker
  metrics::Counter& dropped;  // overload: not even a "busy" answer could be queued
  metrics::Counter& postgres_errors;
  metrics::Counter& postgres_connects;

  // Webhook notifications (bridge/notifier.h), counted per notification (one message for one user).
  metrics::Counter& notify_queued;     // an offline member's notification entered the queue
  metrics::Counter& notify_delivered;  // its batch was accepted (2xx)
  metrics::Counter& notify_dropped;    // the queue was full: dropped (the oldest go first)
  metrics::Counter& notify_rejected;   // the receiver refused its batch for good (4xx but 429)
  metrics::Counter& notify_gave_up;    // its batch failed max_attempts times
  metrics::Counter& notify_retries;    // POSTs that failed and will be retried (5xx, 429, no answer)
  metrics::Gauge& notify_waiting;      // notifications waiting (queued, in open batches or for a retry)

 private:
  static constexpr std::array<const char*, 4> kResults = {"ok", "refused", "busy", "failed"};
  std::array<std::array<metrics::Counter*, kResults.size()>, kRequestKinds> requests_{};
  metrics::Counter* invalid_ = nullptr;
  std::array<metrics::Histogram*, kRequestKinds> latency_{};
};

extern BridgeMetrics bridge_metrics;

}  // namespace mqchat::bridge
