#include "bridge/metrics.h"

namespace mqchat::bridge {

BridgeMetrics bridge_metrics;

BridgeMetrics::BridgeMetrics()
    : queued(registry.gauge("mqchat_bridge_queued_requests", "Requests waiting for a worker", "bridge/queued")),
      dropped(registry.counter("mqchat_bridge_dropped_requests_total",
                               "Requests dropped under overload (not even answered busy)", "bridge/dropped")),
      postgres_errors(registry.counter("mqchat_bridge_postgres_errors_total",
                                       "Postgres errors: connections lost or refused, failed requests",
                                       "bridge/postgres/errors")),
      postgres_connects(registry.counter("mqchat_bridge_postgres_connects_total",
                                         "Postgres connections opened (one per worker and the leader; more: "
                                         "reconnects)",
                                         "bridge/postgres/connects")),
      notify_queued(registry.counter("mqchat_bridge_notifications_total",
                                     "Webhook notifications for offline users, by what became of them",
                                     "bridge/notifications", {{"result", "queued"}})),
      notify_delivered(registry.counter("mqchat_bridge_notifications_total", "", "bridge/notifications",
                                        {{"result", "delivered"}})),
      notify_dropped(registry.counter("mqchat_bridge_notifications_total", "", "bridge/notifications",
                                      {{"result", "dropped"}})),
      notify_rejected(registry.counter("mqchat_bridge_notifications_total", "", "bridge/notifications",
                                       {{"result", "rejected"}})),
      notify_gave_up(registry.counter("mqchat_bridge_notifications_total", "", "bridge/notifications",
                                      {{"result", "gave_up"}})),
      notify_retries(registry.counter("mqchat_bridge_notify_retries_total",
                                      "Webhook POSTs that failed (5xx, 429, timeout, no connection) and are retried",
                                      "bridge/notify/retries")),
      notify_waiting(registry.gauge("mqchat_bridge_notify_waiting", "Webhook notifications waiting to be sent",
                                    "bridge/notify/waiting")) {
  for (size_t k = 0; k < kRequestKinds; ++k) {
    const std::string kind(kind_name(RequestKind(k)));
    for (size_t r = 0; r < kResults.size(); ++r)
      requests_[k][r] = &registry.counter("mqchat_bridge_requests_total", "Requests by kind and outcome",
                                          "bridge/requests", {{"kind", kind}, {"result", kResults[r]}});
  }
  invalid_ = &registry.counter("mqchat_bridge_requests_total", "", "bridge/requests",
                               {{"kind", "invalid"}, {"result", "refused"}});
  for (size_t k = 0; k < kRequestKinds; ++k)
    latency_[k] = &registry.histogram("mqchat_bridge_request_duration_seconds",
                                      "From a request's arrival at the bridge to its reply being published",
                                      "bridge/request_duration_seconds",
                                      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
                                      {{"kind", std::string(kind_name(RequestKind(k)))}});
}

void BridgeMetrics::request(RequestKind kind, Result result) noexcept {
  requests_[size_t(kind)][size_t(result)]->inc();
}

void BridgeMetrics::invalid_request() noexcept { invalid_->inc(); }

void BridgeMetrics::served(RequestKind kind, double seconds) noexcept { latency_[size_t(kind)]->observe(seconds); }

}  // namespace mqchat::bridge
