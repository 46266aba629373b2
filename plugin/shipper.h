#pragma once
// Moves spooled messages into Postgres: reads from the checkpoint, inserts a batch in one
// transaction (idempotent by message id, so a replay after a crash is harmless), then advances
// the checkpoint and deletes segments that are fully shipped. While Postgres is away it retries
// with backoff and the spool simply grows on disk.
//
// The fast path COPYs plain rows into a temporary staging table and merges them (sender ids come
// from the in-memory user directory, conversations are created once per room); anything it cannot
// take (a record it does not understand, a sender no longer known, a row Postgres refuses) goes the
// slow path, mqchat_ingest(jsonb), which sets refused rows aside in ingest_rejects.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/config.h"
#include "plugin/log_queue.h"
#include "plugin/spool.h"
#include "plugin/user_directory.h"

namespace pqxx {
class connection_base;
}

namespace mqchat {

class Shipper {
 public:
  Shipper(const Config& config, const SpoolWriter& spool, const UserDirectory& directory, LogQueue& log);
  ~Shipper();

  void start();
  // Finishes the batch in flight, then stops; what is left stays in the spool for next time.
  void stop();

  uint64_t shipped() const { return shipped_.load(std::memory_order_relaxed); }

 private:
  void run();
  bool wait_or_stop(std::chrono::milliseconds d);
  void set_up(pqxx::connection_base& conn);  // statements and the staging table of a new connection
  void ship(pqxx::connection_base& conn, const std::vector<std::string>& records);
  bool ship_by_copy(pqxx::connection_base& conn, const std::vector<std::string>& records);
  void ship_one_by_one(pqxx::connection_base& conn, const std::vector<std::string>& records);

  std::string dsn_;
  uint32_t batch_max_;
  std::chrono::milliseconds idle_wait_;
  bool sync_checkpoint_;
  bool copy_wanted_;
  bool copy_ready_ = false;  // this connection has its staging table
  const SpoolWriter& spool_;
  const UserDirectory& directory_;
  std::unordered_set<std::string> known_conversations_;  // shipper thread only
  LogQueue& log_;
  std::atomic<uint64_t> shipped_{0};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace mqchat
