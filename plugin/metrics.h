#pragma once
// What the plugin counts, in one process-wide registry (the plugin is loaded once per broker).
// Every update is one relaxed atomic: the broker thread's callbacks count without locks or
// allocation. Read by the $SYS publisher (broker thread, plugin/sys_publisher.*) and the
// Prometheus HTTP exporter (its own thread). Names, labels and meanings: docs/OPERATIONS.md.
#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "common/metrics.h"

namespace mqchat {

class PluginMetrics {
 public:
  PluginMetrics();

  metrics::Registry registry;

  // Messages (chat/<room>/messages): accepted = written to the spool, so acknowledged.
  metrics::Counter& accepted;
  metrics::Counter& duplicates;  // retries answered with the first message's stored form
  // A refused publish (every code reported on users/<me>/errors); an empty topic means a refused
  // connection (client_id_taken, client_id_reserved, too_many_connections).
  void refused(bool connection, std::string_view code) noexcept;
  // A message that passed the READ check towards an mqchat user's connection.
  void delivered(std::string_view topic) noexcept;

  metrics::Gauge& spool_bytes;     // bytes in segment files on disk
  metrics::Gauge& spool_segments;  // segment files on disk
  metrics::Counter& spool_write_errors;

  metrics::Counter& shipped;  // messages committed to Postgres
  metrics::Counter& ship_rejected;  // set aside in ingest_rejects
  metrics::Histogram& batch_size;
  metrics::Gauge& oldest_unshipped_ms;  // Unix ms of the oldest spooled message not yet shipped; 0 = none

  enum Component { kShipper, kDirectory };
  metrics::Counter& postgres_error(Component c) noexcept { return *postgres_errors_[c]; }
  metrics::Counter& postgres_connect(Component c) noexcept { return *postgres_connects_[c]; }

  metrics::Counter& logins_ok;       // credentials accepted
  metrics::Counter& logins_refused;  // credentials refused, including the throttled below
  metrics::Counter& login_throttled_source;   // too many wrong passwords from this client
  metrics::Counter& login_throttled_account;  // too many from new clients for this account
  metrics::Counter& login_busy;               // the hash-time budget was spent

  // Authenticated connections by listener protocol (mosquitto_client_protocol). Broker thread.
  void connected(const void* client, int protocol);
  void disconnected(const void* client);

 private:
  static constexpr std::array<std::string_view, 20> kRefusalCodes = {
      "blank",          "too_long",      "invalid_utf8",       "bad_json",     "bad_content",
      "bad_type",       "bad_client_id", "bad_metadata",       "metadata_too_large", "payload_too_large",
      "not_participant", "bad_room",     "unknown_user",       "read_only",    "bad_topic",
      "forbidden",      "bad_response_topic", "rate_limited",  "unavailable",  "other"};
  static constexpr std::array<std::string_view, 4> kConnectionCodes = {"client_id_taken", "client_id_reserved",
                                                                       "too_many_connections", "other"};
  static constexpr std::array<std::string_view, 5> kDeliveryKinds = {"messages", "typing", "events", "users", "other"};
  static constexpr std::array<std::string_view, 3> kListeners = {"mqtt", "mqttsn", "websockets"};

  std::array<metrics::Counter*, kRefusalCodes.size()> refused_{};
  std::array<metrics::Counter*, kConnectionCodes.size()> connections_refused_{};
  std::array<metrics::Counter*, kDeliveryKinds.size()> delivered_{};
  std::array<metrics::Counter*, 2> postgres_errors_{}, postgres_connects_{};
  std::array<metrics::Gauge*, kListeners.size()> connections_{};
  metrics::Gauge* connections_all_ = nullptr;
  std::unordered_map<const void*, int> listener_of_;  // broker thread only
};

extern PluginMetrics plugin_metrics;

// The Unix ms of a spooled record's UUIDv7 id (`{"id":"<uuid>",...`), or 0 when it has none.
int64_t spooled_at_ms(std::string_view record);

}  // namespace mqchat
