#include "bridge/database.h"

#include <algorithm>
#include <thread>

#include "bridge/log.h"

namespace mqchat::bridge {

Database::Database(std::string dsn, std::string name) : dsn_(std::move(dsn)), name_(std::move(name)) {}

pqxx::connection& Database::connection() {
  for (int attempt = 0; !conn_ || !conn_->is_open(); ++attempt) {
    try {
      conn_ = std::make_unique<pqxx::connection>(dsn_);
      if (attempt > 0) log(name_, ": connected to Postgres again");
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();
      if (attempt % 10 == 0) log(name_, ": cannot connect to Postgres (", e.what(), "), retrying");
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * (attempt + 1), 1000)));
    }
  }
  return *conn_;
}

void Database::lost(const std::string& why, int attempt, const std::atomic<bool>& stop) {
  log(name_, ": Postgres connection lost (", why, ")");
  conn_.reset();
  if (stop) throw pqxx::broken_connection("stopping");
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 * (attempt + 1), 1000)));
}

}  // namespace mqchat::bridge
