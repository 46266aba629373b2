#pragma once
// Command line of mqchat-bridge. `./mqchat up` passes host, port, password file and DSN.
#include <chrono>
#include <cstdint>
#include <string>

namespace mqchat::bridge {

struct Options {
  std::string mqtt_host = "127.0.0.1";
  int mqtt_port = 1883;
  std::string username = "svc:bridge";
  std::string password;  // read from --password-file
  std::string dsn;

  // Fixed per instance, so the broker keeps the session (and queues requests) while it is down.
  std::string client_id = "mqchat-bridge-1";
  std::string share_group = "mqchat-bridge";  // $share/<group>/chat/+/<request>
  int session_expiry_s = 3600;

  int workers = 2;                                 // request workers; rooms are served one request at a time
  size_t max_queued = 10000;                       // beyond this, new requests are answered "busy"
  std::chrono::milliseconds pending_max{3000};     // an edit/read/delete waits this long for its message
  std::chrono::milliseconds summary_delay{150};    // coalescing window of summary recomputations

  std::string metrics_bind = "127.0.0.1";  // Prometheus text at http://<bind>:<port>/metrics
  int metrics_port = 9884;                 // 0 = none
  // Cluster backplane (bridge/backplane.h): off unless a Redis address is given.
  std::string node_id;                 // this node's name in the cluster
  std::string backplane_sentinels;     // "host:port,..." of Redis Sentinels
  std::string backplane_master = "mqchat";  // the Sentinel master name
  std::string backplane_redis;         // or one Redis "host:port" without Sentinel
  bool backplane() const { return !backplane_sentinels.empty() || !backplane_redis.empty(); }

  // Webhook notifications for offline users (bridge/notifier.h): off unless a URL is given.
  // --notify-config FILE (YAML, config/notify.yaml) sets these; --notify-* flags override it.
  struct Notify {
    std::string url;                              // http(s)://... receiving the POSTs
    std::string secret;                           // HMAC-SHA256 key (read from secret_file)
    std::chrono::milliseconds batch_window{2000}; // one POST per user per window
    size_t max_batch = 100;                       // notifications in one POST at most
    size_t max_queue = 10000;                     // notifications held at most; beyond, the oldest go
    int max_attempts = 6;                         // POSTs per batch before giving up
    std::chrono::milliseconds backoff_initial{500}, backoff_max{30000};
    std::chrono::milliseconds timeout{5000};      // per POST, connecting included
    size_t preview_chars = 120;                   // message content kept in a notification
    bool enabled() const { return !url.empty(); }
  } notify;
};

// Parses argv; prints help or an error and exits on bad input.
Options parse_options(int argc, char** argv);

}  // namespace mqchat::bridge
