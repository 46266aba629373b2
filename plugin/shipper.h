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
//
// With a backlog (a drain after an outage, or more traffic than one connection stores), a full batch
// is split by conversation over shipper.connections connections, each with a thread of its own,
// so Postgres stores several parts at once, the conversations spread evenly by their records
// (lane_planner.h). A conversation's records in flight all go through one connection, in spool
// order: its messages become visible in id order, as history paging after an id expects, and a
// reply's target is stored before it or in the same transaction. The checkpoint only ever
// covers batches whose parts are all committed, so a crash replays at most the ones in flight. A
// partial batch waits until nothing is in flight and goes in one transaction, as with one connection.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/config.h"
#include "plugin/lane_planner.h"
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
  // Finishes the parts in flight, then stops; what is left stays in the spool for next time.
  void stop();

  uint64_t shipped() const { return shipped_.load(std::memory_order_relaxed); }

 private:
  struct Batch {  // a range of the spool
    SpoolPosition end;        // just past its last record
    int64_t oldest_ms = 0;    // when its first record was spooled
    size_t unshipped = 0;     // its parts not yet committed
  };
  struct Part {  // what one transaction ships: a batch's records of some of its conversations
    std::shared_ptr<Batch> batch;
    std::vector<std::string> records;
    std::vector<std::string> conversations;  // as planner_ placed them (none for a part batch)
  };
  struct Connection;  // one connection and what it knows; owned by one worker thread

  void read_spool();  // the reader thread: batches out, the checkpoint forward
  void work(size_t lane);  // a worker thread: ships its lane's parts, oldest first, until stopped
  // Ships `records` on `c`, retrying with backoff (reconnecting) until done; false when stopped first.
  bool ship_until_done(Connection& c, const std::vector<std::string>& records);
  // Wait on `cv_` (lock held) until `ready` or stop / until `d` passed or stop; true when stopping.
  template <class Ready>
  bool wait_until(std::unique_lock<std::mutex>& lock, Ready ready);
  bool sleep_unless_stopped(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds d);
  void set_up(Connection& c);  // statements and the staging table of a new connection
  void ship(Connection& c, const std::vector<std::string>& records);
  bool ship_by_copy(Connection& c, const std::vector<std::string>& records);
  void ship_one_by_one(pqxx::connection_base& conn, const std::vector<std::string>& records);

  std::string dsn_;
  uint32_t batch_max_;
  uint32_t connections_;
  std::chrono::milliseconds idle_wait_;
  bool sync_checkpoint_;
  bool copy_wanted_;
  const SpoolWriter& spool_;
  const UserDirectory& directory_;
  LogQueue& log_;
  std::atomic<uint64_t> shipped_{0};

  std::mutex mu_;  // guards what follows
  std::condition_variable cv_;
  bool stopping_ = false;
  uint32_t busy_ = 0;  // workers in the middle of a batch
  std::deque<std::shared_ptr<Batch>> in_flight_;  // handed out, oldest first, until checkpointed
  std::vector<std::deque<Part>> lanes_;            // per worker: parts handed out, not yet taken
  LanePlanner planner_;                            // which worker ships each conversation of a full batch
  std::thread reader_;
  std::vector<std::thread> workers_;
};

}  // namespace mqchat
