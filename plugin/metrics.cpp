#include "plugin/metrics.h"

#include <cstring>

#include "common/clock.h"

namespace mqchat {

PluginMetrics plugin_metrics;

namespace {
using metrics::Labels;

template <size_t N>
size_t index_of(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i + 1 < N; ++i)
    if (names[i] == name) return i;
  return N - 1;  // "other"
}
}  // namespace

PluginMetrics::PluginMetrics()
    : accepted(registry.counter("mqchat_messages_accepted_total",
                                "Chat messages accepted: written to the spool before the broker acknowledged them",
                                "messages/accepted")),
      duplicates(registry.counter("mqchat_messages_duplicate_total",
                                  "Retried chat messages (same client_id, or a QoS 2 resend) answered with the first "
                                  "one's stored form, not stored again",
                                  "messages/duplicate")),
      spool_bytes(registry.gauge("mqchat_spool_bytes", "Bytes in spool segment files on disk", "spool/bytes")),
      spool_segments(registry.gauge("mqchat_spool_segments", "Spool segment files on disk", "spool/segments")),
      spool_write_errors(registry.counter("mqchat_spool_write_errors_total",
                                          "Spool appends that failed (the publisher was disconnected to retry)",
                                          "spool/write_errors")),
      shipped(registry.counter("mqchat_shipper_messages_total", "Spooled messages committed to Postgres",
                               "shipper/messages")),
      ship_rejected(registry.counter("mqchat_shipper_rejected_total",
                                     "Spooled messages Postgres refused, set aside in ingest_rejects",
                                     "shipper/rejected")),
      batch_size(registry.histogram("mqchat_shipper_batch_size", "Messages per shipped batch (one transaction)",
                                    "shipper/batch_size", {1, 10, 50, 100, 500, 1000, 2000, 5000})),
      oldest_unshipped_ms(registry.gauge("mqchat_shipper_oldest_unshipped_timestamp_ms",
                                         "Unix time (ms) of the oldest spooled message not yet in Postgres; 0 when "
                                         "the shipper has caught up",
                                         "")),
      logins_ok(registry.counter("mqchat_logins_total", "Logins by outcome of the credential check",
                                 "logins", {{"result", "ok"}})),
      logins_refused(registry.counter("mqchat_logins_total", "", "logins", {{"result", "refused"}})),
      login_throttled_source(registry.counter("mqchat_login_throttled_total",
                                              "Logins refused without a password check (a subset of "
                                              "mqchat_logins_total{result=\"refused\"})",
                                              "logins/throttled", {{"reason", "source"}})),
      login_throttled_account(registry.counter("mqchat_login_throttled_total", "", "logins/throttled",
                                               {{"reason", "account"}})),
      login_busy(registry.counter("mqchat_login_throttled_total", "", "logins/throttled", {{"reason", "busy"}})) {
  registry.computed_gauge(
      "mqchat_shipper_lag_seconds", "Age of the oldest spooled message not yet in Postgres (0 when caught up)",
      "shipper/lag_seconds", [this] {
        const int64_t oldest = oldest_unshipped_ms.value();
        const int64_t now = now_unix_us() / 1000;
        return oldest > 0 && now > oldest ? double(now - oldest) / 1000.0 : 0.0;
      });
  for (size_t i = 0; i < kRefusalCodes.size(); ++i)
    refused_[i] = &registry.counter("mqchat_messages_refused_total",
                                    "Publishes refused, by the code reported on users/<me>/errors",
                                    "messages/refused", {{"reason", std::string(kRefusalCodes[i])}});
  for (size_t i = 0; i < kConnectionCodes.size(); ++i)
    connections_refused_[i] =
        &registry.counter("mqchat_connections_refused_total",
                          "Connections refused after good credentials (client id ownership, per-user limit)",
                          "connections/refused", {{"reason", std::string(kConnectionCodes[i])}});
  for (size_t i = 0; i < kDeliveryKinds.size(); ++i)
    delivered_[i] = &registry.counter("mqchat_deliveries_total",
                                      "Messages that passed the READ check towards an mqchat user, by topic kind",
                                      "deliveries", {{"kind", std::string(kDeliveryKinds[i])}});
  const char* components[] = {"shipper", "directory"};
  for (int c = 0; c < 2; ++c) {
    postgres_errors_[c] = &registry.counter("mqchat_postgres_errors_total",
                                            "Postgres errors (connection lost or refused, failed statements)",
                                            "postgres/errors", {{"component", components[c]}});
    postgres_connects_[c] = &registry.counter("mqchat_postgres_connects_total",
                                              "Postgres connections opened (more than one: reconnects)",
                                              "postgres/connects", {{"component", components[c]}});
  }
  for (size_t i = 0; i < kListeners.size(); ++i)
    connections_[i] = &registry.gauge("mqchat_connections", "Authenticated connections by listener protocol",
                                      "connections", {{"listener", std::string(kListeners[i])}});
  connections_all_ = &registry.gauge("mqchat_connections_all", "Authenticated connections on all listeners",
                                     "connections/all");
}

void PluginMetrics::refused(bool connection, std::string_view code) noexcept {
  if (connection) connections_refused_[index_of(kConnectionCodes, code)]->inc();
  else refused_[index_of(kRefusalCodes, code)]->inc();
}

// Once per delivery on the broker thread: prefix and suffix compares only (the memcmps of
// constant length compile to a few integer compares).
void PluginMetrics::delivered(std::string_view topic) noexcept {
  size_t kind = 4;
  const size_t n = topic.size();
  if (n >= 5 && std::memcmp(topic.data(), "chat/", 5) == 0) {
    const auto ends_with = [topic, n](const char* suffix, size_t k) {
      return n > k && std::memcmp(topic.data() + n - k, suffix, k) == 0;
    };
    kind = ends_with("/messages", 9) ? 0 : ends_with("/typing", 7) ? 1 : ends_with("/events", 7) ? 2 : 4;
  } else if (n >= 6 && std::memcmp(topic.data(), "users/", 6) == 0) {
    kind = 3;
  }
  delivered_[kind]->inc();
}

void PluginMetrics::connected(const void* client, int protocol) {
  const int listener = protocol >= 0 && protocol < int(kListeners.size()) ? protocol : 0;
  const auto [it, fresh] = listener_of_.emplace(client, listener);
  if (!fresh) {
    if (it->second == listener) return;
    connections_[it->second]->add(-1);
    connections_all_->add(-1);
    it->second = listener;
  }
  connections_[listener]->add(1);
  connections_all_->add(1);
}

void PluginMetrics::disconnected(const void* client) {
  const auto it = listener_of_.find(client);
  if (it == listener_of_.end()) return;
  connections_[it->second]->add(-1);
  connections_all_->add(-1);
  listener_of_.erase(it);
}

int64_t spooled_at_ms(std::string_view record) {
  constexpr std::string_view kPrefix = R"({"id":")";
  if (record.substr(0, kPrefix.size()) != kPrefix || record.size() < kPrefix.size() + 13) return 0;
  // UUIDv7: the first 48 bits (8 hex digits, '-', 4 hex digits) are Unix ms.
  int64_t ms = 0;
  for (size_t i = kPrefix.size(), taken = 0; taken < 12; ++i) {
    const char c = record[i];
    if (c == '-' && taken == 8) continue;
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else return 0;
    ms = ms * 16 + v;
    ++taken;
  }
  return ms;
}

}  // namespace mqchat
