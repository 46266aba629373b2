#include "bridge/options.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

namespace mqchat::bridge {

Options parse_options(int argc, char** argv) {
  Options o;
  CLI::App app{"mqchat-bridge: history, read receipts, edits, summaries and SQL fan-out over MQTT"};
  std::string password_file;
  long pending_ms = o.pending_max.count(), summary_ms = o.summary_delay.count();
  app.add_option("--mqtt-host", o.mqtt_host, "broker host")->capture_default_str();
  app.add_option("--mqtt-port", o.mqtt_port, "broker port")->capture_default_str()->check(CLI::Range(1, 65535));
  app.add_option("--username", o.username, "service account")->capture_default_str();
  app.add_option("--password-file", password_file, "file whose first line is the service account's password")
      ->required()->check(CLI::ExistingFile);
  app.add_option("--dsn", o.dsn, "libpq connection string")->required();
  app.add_option("--client-id", o.client_id, "MQTT client id, distinct per instance")->capture_default_str();
  app.add_option("--share-group", o.share_group, "shared subscription group")->capture_default_str();
  app.add_option("--session-expiry", o.session_expiry_s, "MQTT session expiry (s)")->capture_default_str();
  app.add_option("--workers", o.workers, "request worker threads")->capture_default_str()->check(CLI::Range(1, 32));
  app.add_option("--max-queued", o.max_queued, "requests waiting at most; beyond, new ones are answered \"busy\"")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--pending-ms", pending_ms, "how long a request waits for its message to be stored")
      ->capture_default_str()->check(CLI::Range(0, 600000));
  app.add_option("--summary-delay-ms", summary_ms, "coalescing window of conversation summaries")
      ->capture_default_str()->check(CLI::Range(0, 60000));
  app.add_option("--metrics-bind", o.metrics_bind, "address of the Prometheus metrics endpoint")
      ->capture_default_str();
  app.add_option("--metrics-port", o.metrics_port, "port of the Prometheus metrics endpoint (0: none)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  app.add_option("--node-id", o.node_id, "cluster: this node's name (needed with a backplane)");
  app.add_option("--backplane-sentinels", o.backplane_sentinels, "cluster: Redis Sentinels host:port[,host:port...]");
  app.add_option("--backplane-master", o.backplane_master, "cluster: Sentinel master name")->capture_default_str();
  app.add_option("--backplane-redis", o.backplane_redis, "cluster: one Redis host:port (no Sentinel)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  std::ifstream in(password_file);
  std::getline(in, o.password);
  if (o.password.empty()) {
    std::cerr << "mqchat-bridge: " << password_file << " holds no password\n";
    std::exit(2);
  }
  if (o.backplane() && o.node_id.empty()) {
    std::cerr << "mqchat-bridge: a backplane needs --node-id\n";
    std::exit(2);
  }
  o.pending_max = std::chrono::milliseconds(pending_ms);
  o.summary_delay = std::chrono::milliseconds(summary_ms);
  return o;
}

}  // namespace mqchat::bridge
