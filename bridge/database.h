#pragma once
// A Postgres connection that comes back by itself: run() retries a unit of work on a fresh
// connection when the old one broke (Postgres restarted, network blip), with backoff, until the
// owner's stop flag is set — then it gives up (throws Stopping) instead of retrying forever.
#include <pqxx/pqxx>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

namespace mqchat::bridge {

class Database {
 public:
  struct Stopping : std::runtime_error {
    Stopping() : std::runtime_error("stopping") {}
  };

  Database(std::string dsn, std::string name, const std::atomic<bool>& stop);

  // Runs `work` in a transaction and commits; on a broken connection reconnects and retries.
  // Other errors propagate; so does Stopping once the stop flag is set.
  template <typename Work>
  auto run(Work&& work) {
    for (int attempt = 0;; ++attempt) {
      try {
        pqxx::work tx(connection());
        auto result = work(tx);
        tx.commit();
        return result;
      } catch (const pqxx::broken_connection& e) {
        lost(e.what(), attempt);
      }
    }
  }

  // Connects when needed, retrying with backoff; throws Stopping when asked to stop meanwhile.
  pqxx::connection& connection();

 private:
  void lost(const std::string& why, int attempt);
  void pause(int attempt);  // backoff that wakes up early when stopping

  std::string dsn_, name_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace mqchat::bridge
