#pragma once
// A Postgres connection that comes back by itself: run() retries a unit of work on a fresh
// connection when the old one broke (Postgres restarted, network blip), with backoff.
#include <pqxx/pqxx>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace mqchat::bridge {

class Database {
 public:
  Database(std::string dsn, std::string name);

  // Runs `work` in a transaction and commits; on a broken connection reconnects and retries until
  // `stop` is set. Other errors propagate.
  template <typename Work>
  auto run(Work&& work, const std::atomic<bool>& stop) {
    for (int attempt = 0;; ++attempt) {
      try {
        pqxx::work tx(connection());
        auto result = work(tx);
        tx.commit();
        return result;
      } catch (const pqxx::broken_connection& e) {
        lost(e.what(), attempt, stop);
      }
    }
  }

  pqxx::connection& connection();  // connects (with retries) when needed

 private:
  void lost(const std::string& why, int attempt, const std::atomic<bool>& stop);

  std::string dsn_, name_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace mqchat::bridge
