#include "plugin/shipper.h"

#include <pqxx/pqxx>

namespace mqchat {

namespace {

constexpr auto kIngest = "mqchat_ingest";

std::string json_array(const std::vector<std::string>& records) {
  size_t size = 2;
  for (const auto& r : records) size += r.size() + 1;
  std::string out;
  out.reserve(size);
  out.push_back('[');
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) out.push_back(',');
    out.append(records[i]);
  }
  out.push_back(']');
  return out;
}

// Rows Postgres refuses on their content (class 22 data exception, 23 constraint violation)
// would block the spool forever if retried; they are set aside instead, one by one.
bool is_data_error(const pqxx::sql_error& e) {
  const std::string state = e.sqlstate();
  return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0;
}

}  // namespace

Shipper::Shipper(const Config& config, const SpoolWriter& spool, LogQueue& log)
    : dsn_(config.database_dsn),
      batch_max_(config.batch_max),
      idle_wait_(config.batch_latency_ms),
      sync_checkpoint_(config.fsync != FsyncPolicy::Never),
      spool_(spool),
      log_(log) {}

Shipper::~Shipper() { stop(); }

void Shipper::start() { worker_ = std::thread([this] { run(); }); }

void Shipper::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool Shipper::wait_or_stop(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  return stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

void Shipper::ship(pqxx::connection_base& conn, const std::vector<std::string>& records) {
  try {
    pqxx::work tx(conn);
    tx.exec_prepared(kIngest, json_array(records));
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    if (!is_data_error(e)) throw;
    ship_one_by_one(conn, records);
  }
}

void Shipper::ship_one_by_one(pqxx::connection_base& conn, const std::vector<std::string>& records) {
  for (const auto& record : records) {
    try {
      pqxx::work tx(conn);
      tx.exec_prepared(kIngest, "[" + record + "]");
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      if (!is_data_error(e)) throw;
      pqxx::work tx(conn);
      tx.exec_params("insert into ingest_rejects(record, error) values ($1, $2)", record, e.what());
      tx.commit();
      log_.push(LogLevel::Error, "mqchat: shipper: Postgres refused a spooled message; kept in ingest_rejects: " +
                                     std::string(e.what()));
    }
  }
}

void Shipper::run() {
  const std::string dir = spool_.dir();
  SpoolReader reader(dir);
  SpoolPosition shipped_to = load_checkpoint(dir);
  std::unique_ptr<pqxx::connection> conn;
  auto backoff = std::chrono::milliseconds(100);
  std::vector<std::string> records;
  bool stop_requested = false;

  while (!stop_requested) {
    records.clear();
    SpoolPosition next = shipped_to;
    bool corrupt = false;
    reader.read(next, spool_.end(), batch_max_, records, &corrupt);
    if (corrupt) log_.push(LogLevel::Error, "mqchat: shipper: a damaged spool record was skipped in " + dir);

    if (!records.empty()) {
      try {
        if (!conn) {
          conn = std::make_unique<pqxx::connection>(dsn_);
          conn->prepare(kIngest, "select mqchat_ingest($1::jsonb)");
          log_.push(LogLevel::Notice, "mqchat: shipper connected to Postgres");
        }
        ship(*conn, records);
        shipped_.fetch_add(records.size(), std::memory_order_relaxed);
        backoff = std::chrono::milliseconds(100);
      } catch (const std::exception& e) {
        log_.push(LogLevel::Warning, std::string("mqchat: shipper: ") + e.what() + " — retrying in " +
                                         std::to_string(backoff.count()) + " ms; messages stay in the spool");
        conn.reset();
        stop_requested = wait_or_stop(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
    }

    if (next != shipped_to) {
      try {
        // Segments first: on a full disk the checkpoint file needs the space they free. Safe in
        // this order, since everything in them is committed to Postgres and a stale checkpoint
        // pointing into a removed segment makes the reader move on to the next one there is.
        if (next.segment != shipped_to.segment) remove_segments_before(dir, next.segment);
        save_checkpoint(dir, next, sync_checkpoint_);
        shipped_to = next;
      } catch (const std::exception& e) {
        log_.push(LogLevel::Error, std::string("mqchat: shipper: ") + e.what());
        stop_requested = wait_or_stop(backoff);
        continue;
      }
    }
    // A full batch means more is waiting: go straight on. Otherwise let a little more arrive.
    stop_requested = records.size() < batch_max_ ? wait_or_stop(idle_wait_) : wait_or_stop(std::chrono::milliseconds(0));
  }
}

}  // namespace mqchat
