#include "plugin/table_follower.h"

#include <pqxx/pqxx>

#include "common/pg_listener.h"
#include "plugin/metrics.h"
#include "plugin/thread_name.h"

namespace mqchat {

std::string with_connect_timeout(const std::string& dsn) {
  if (dsn.find("connect_timeout") != std::string::npos || dsn.find("://") != std::string::npos) return dsn;
  return dsn + " connect_timeout=3";
}

TableFollower::TableFollower(std::string dsn, std::string channel, std::chrono::milliseconds refresh, std::string what,
                             LogQueue& log, Load load)
    : dsn_(with_connect_timeout(dsn)), channel_(std::move(channel)), what_(std::move(what)), refresh_(refresh),
      log_(log), load_(std::move(load)) {}

TableFollower::~TableFollower() { stop(); }

std::optional<std::string> TableFollower::load_once() {
  try {
    pqxx::connection conn(dsn_);
    plugin_metrics.postgres_connect(PluginMetrics::kDirectory).inc();
    load_(conn);
    return std::nullopt;
  } catch (const std::exception& e) {
    plugin_metrics.postgres_error(PluginMetrics::kDirectory).inc();
    return e.what();
  }
}

void TableFollower::start() { worker_ = std::thread([this] { run(); }); }

void TableFollower::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool TableFollower::wait_or_stop(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  return stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

void TableFollower::run() {
  name_this_thread(channel_);  // mqchat_profiles, mqchat_groups
  auto backoff = std::chrono::milliseconds(200);
  while (!wait_or_stop(std::chrono::milliseconds(0))) {
    try {
      pqxx::connection conn(dsn_);
      plugin_metrics.postgres_connect(PluginMetrics::kDirectory).inc();
      bool changed = false;
      PgListener listener(conn, channel_, [&changed](const std::string&) { changed = true; });
      load_(conn);  // catch up on whatever changed while not listening
      backoff = std::chrono::milliseconds(200);
      auto last_load = std::chrono::steady_clock::now();
      while (!wait_or_stop(std::chrono::milliseconds(0))) {
        conn.await_notification(0, 200000);  // a NOTIFY wakes it at once; every 200 ms it checks stop()
        if (changed || std::chrono::steady_clock::now() - last_load >= refresh_) {
          changed = false;
          load_(conn);
          last_load = std::chrono::steady_clock::now();
        }
      }
    } catch (const std::exception& e) {
      plugin_metrics.postgres_error(PluginMetrics::kDirectory).inc();
      log_.push(LogLevel::Warning, "mqchat: " + what_ + ": " + e.what() + "; retrying");
      if (wait_or_stop(backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace mqchat
