#pragma once
// The plugin's configuration: config/mqchat.yaml plus `plugin_opt_<dotted.key> value` overrides.
// Every mistake is a ConfigError whose message names the key.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/message.h"

namespace mqchat {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class FsyncPolicy { Always, Interval, Never };

// `mode`: exclusive = the plugin decides every login and topic (deny by default); coexist = it
// decides only for its own users and topics and defers the rest to the broker's other security;
// auto = coexist when the broker has other security configured (plugin/security_mode.h).
enum class SecurityModeSetting { Auto, Coexist, Exclusive };

struct ServiceAccount {
  std::string login;          // "svc:<name>"
  std::string password_hash;  // crypt(3) hash, or
  std::string password;       // a plain secret read from password_file
};

// Per-user limits against floods; 0 turns one off.
struct UserLimits {
  uint32_t messages_per_second = 20;  // sustained publishes on chat/ topics, over all connections
  uint32_t message_burst = 100;       // how many may come at once before the rate applies
  uint32_t max_connections = 10;      // simultaneous connections of one user
};

// Login with a JSON Web Token as the MQTT password (off when `algorithm` is empty): signed with
// `key` (the shared secret for HS*, a PEM public key for RS*/ES*), `sub` = the profile's id.
struct JwtSettings {
  std::string algorithm;  // HS256 | HS384 | HS512 | RS256 | RS384 | RS512 | ES256 | ES384 | ES512
  std::string key;
  uint32_t leeway_s = 30;  // clock skew allowed on exp / nbf
};

// Who owns a client id (issue 12): the first user to connect with it, until it goes unused for
// `expiry_days`. Ids starting with a reserved prefix belong to service accounts only.
struct SessionSettings {
  std::vector<std::string> reserved_prefixes = {"mqchat-bridge"};
  uint32_t max_ids_per_user = 32;    // a user's least recently used id is released beyond this
  uint32_t max_ids = 200000;         // in memory and in the ownership file
  uint32_t expiry_days = 30;
};

// Logins: password hashing (bcrypt) runs on the broker thread, so it has a total budget.
struct LoginSettings {
  uint32_t hash_ms_per_second = 250;  // broker-thread time for password hashes, all accounts together
  uint32_t trusted_share_percent = 50;  // kept for (account, client id / address) that logged in before
  uint32_t failures_per_minute = 6;     // wrong passwords per (account, source), after a burst of 5
  uint32_t account_failures_per_minute = 30;  // per account from sources that never logged in
};

// Metrics (docs/OPERATIONS.md): Prometheus text on http://<bind>:<port>/metrics (port 0 = off)
// and retained $SYS/broker/mqchat/... topics every sys_interval_s (0 = off).
struct MetricsSettings {
  std::string bind = "127.0.0.1";
  uint32_t port = 9883;
  uint32_t sys_interval_s = 10;  // Mosquitto's own sys_interval default
};

struct Config {
  SecurityModeSetting mode = SecurityModeSetting::Auto;
  std::string database_dsn;

  std::string spool_dir;
  FsyncPolicy fsync = FsyncPolicy::Interval;
  uint32_t fsync_interval_ms = 10;
  uint64_t segment_bytes = 64ull << 20;

  uint32_t batch_max = 2000;
  uint32_t batch_latency_ms = 10;
  uint32_t ship_connections = 2;  // shipper.connections: batches in flight at once while there is a backlog
  bool ship_by_copy = true;  // shipper.method: copy (COPY + merge) or json (one mqchat_ingest call)

  MessageLimits limits;
  UserLimits user_limits;
  uint32_t error_reports_per_second = 2;  // users/<me>/errors reports per user (then dropped)
  uint32_t error_report_burst = 20;
  SessionSettings sessions;
  LoginSettings logins;

  uint32_t dedup_window_s = 600;
  uint32_t dedup_max_entries = 100000;

  uint32_t directory_refresh_ms = 30000;  // full reload period; changes arrive by LISTEN at once

  std::map<std::string, ServiceAccount> service_accounts;  // by login

  JwtSettings jwt;
  MetricsSettings metrics;
};

using Overrides = std::vector<std::pair<std::string, std::string>>;

// Relative paths in the file resolve against the file's directory.
Config load_config(const std::string& path, const Overrides& overrides = {});
Config load_config_text(const std::string& yaml_text, const std::string& base_dir,
                        const Overrides& overrides = {});

}  // namespace mqchat
