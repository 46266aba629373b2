#include "bridge/database.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "bridge/log.h"
#include "bridge/metrics.h"

namespace mqchat::bridge {

using namespace std::chrono_literals;

Database::Database(std::string dsn, std::string name, const std::atomic<bool>& stop)
    : dsn_(std::move(dsn)), name_(std::move(name)), stop_(stop) {}

pqxx::connection& Database::connection() {
  for (int attempt = 0; !conn_ || !conn_->is_open(); ++attempt) {
    if (stop_) throw Stopping();
    try {
      conn_ = std::make_unique<pqxx::connection>(dsn_);
      bridge_metrics.postgres_connects.inc();
      if (attempt > 0) log(name_, ": connected to Postgres again");
    } catch (const pqxx::broken_connection& e) {
      bridge_metrics.postgres_errors.inc();
      conn_.reset();
      if (attempt % 10 == 0) log(name_, ": cannot connect to Postgres (", e.what(), "), retrying");
      pause(attempt);
    }
  }
  return *conn_;
}

void Database::lost(const std::string& why, int attempt) {
  log(name_, ": Postgres connection lost (", why, ")");
  bridge_metrics.postgres_errors.inc();
  conn_.reset();
  if (stop_) throw Stopping();
  pause(attempt);
}

void Database::pause(int attempt) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::min(100 * (attempt + 1), 1000));
  while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
}

}  // namespace mqchat::bridge
