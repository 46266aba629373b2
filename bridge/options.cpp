#include "bridge/options.h"

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <iostream>

namespace mqchat::bridge {

namespace {
[[noreturn]] void fail(const std::string& why) {
  std::cerr << "mqchat-bridge: " << why << "\n";
  std::exit(2);
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot read " + path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The notify settings of a YAML file (config/notify.yaml): every key optional, unknown keys refused.
// Returns the secret file named there (resolved against the file's directory), if any.
std::string load_notify_config(const std::string& path, Options::Notify& n) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    fail(path + ": " + e.what());
  }
  const YAML::Node doc = root["notify"] ? root["notify"] : root;
  std::string secret_file;
  const auto dir = std::filesystem::path(path).parent_path();
  for (const auto& kv : doc) {
    const auto key = kv.first.as<std::string>();
    const auto& v = kv.second;
    auto ms = [&](long lo, long hi) {
      const long x = v.as<long>();
      if (x < lo || x > hi) fail(path + ": notify." + key + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return std::chrono::milliseconds(x);
    };
    auto count = [&](long lo, long hi) { return size_t(ms(lo, hi).count()); };
    try {
      if (key == "url") n.url = v.as<std::string>();
      else if (key == "secret") n.secret = v.as<std::string>();
      else if (key == "secret_file") secret_file = (dir / v.as<std::string>()).string();
      else if (key == "batch_window_ms") n.batch_window = ms(0, 600000);
      else if (key == "max_batch") n.max_batch = count(1, 10000);
      else if (key == "max_queue") n.max_queue = count(1, 10000000);
      else if (key == "max_attempts") n.max_attempts = int(count(1, 100));
      else if (key == "backoff_initial_ms") n.backoff_initial = ms(1, 3600000);
      else if (key == "backoff_max_ms") n.backoff_max = ms(1, 3600000);
      else if (key == "timeout_ms") n.timeout = ms(100, 600000);
      else if (key == "preview_chars") n.preview_chars = count(0, 4000);
      else fail(path + ": unknown key notify." + key);
    } catch (const YAML::Exception& e) {
      fail(path + ": notify." + key + ": " + e.what());
    }
  }
  return secret_file;
}
}  // namespace

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
  std::string notify_config, notify_url, notify_secret_file;
  long notify_batch_ms = -1, notify_max_queue = 0, notify_max_attempts = 0, notify_timeout_ms = 0;
  app.add_option("--notify-config", notify_config, "YAML file of webhook notification settings (config/notify.yaml)")
      ->check(CLI::ExistingFile);
  app.add_option("--notify-url", notify_url, "webhook for offline users' notifications (overrides the file)");
  app.add_option("--notify-secret-file", notify_secret_file, "file whose first line is the webhook's HMAC key")
      ->check(CLI::ExistingFile);
  app.add_option("--notify-batch-ms", notify_batch_ms, "notifications of one user within this go in one POST")
      ->check(CLI::Range(0, 600000));
  app.add_option("--notify-max-queue", notify_max_queue, "notifications held at most (then the oldest are dropped)")
      ->check(CLI::Range(1, 10000000));
  app.add_option("--notify-max-attempts", notify_max_attempts, "POSTs per batch before giving up")
      ->check(CLI::Range(1, 100));
  app.add_option("--notify-timeout-ms", notify_timeout_ms, "timeout of one POST")->check(CLI::Range(100, 600000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  o.password = first_line(password_file);
  if (o.password.empty()) fail(password_file + " holds no password");
  auto& n = o.notify;
  std::string secret_file;
  if (!notify_config.empty()) secret_file = load_notify_config(notify_config, n);
  if (!notify_url.empty()) n.url = notify_url;
  if (!notify_secret_file.empty()) secret_file = notify_secret_file;
  if (n.enabled() && !secret_file.empty()) n.secret = first_line(secret_file);  // read only when needed
  if (notify_batch_ms >= 0) n.batch_window = std::chrono::milliseconds(notify_batch_ms);
  if (notify_max_queue) n.max_queue = size_t(notify_max_queue);
  if (notify_max_attempts) n.max_attempts = int(notify_max_attempts);
  if (notify_timeout_ms) n.timeout = std::chrono::milliseconds(notify_timeout_ms);
  if (n.enabled()) {
    if (n.url.rfind("http://", 0) != 0 && n.url.rfind("https://", 0) != 0) fail("notify url must be http(s)://...");
    if (n.secret.empty()) fail("notifications need a secret (notify.secret_file or --notify-secret-file)");
    if (n.backoff_max < n.backoff_initial) n.backoff_max = n.backoff_initial;
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
