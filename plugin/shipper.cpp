#include "plugin/shipper.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "common/sql_array.h"
#include "plugin/ingest_row.h"
#include "plugin/metrics.h"
#include "plugin/thread_name.h"

namespace mqchat {

namespace {

constexpr auto kIngest = "mqchat_ingest";
constexpr auto kEnsure = "mqchat_ensure_conversations";
constexpr auto kMerge = "mqchat_ingest_staged";
constexpr size_t kMaxKnownConversations = 1000000;

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

struct Shipper::Connection {
  std::unique_ptr<pqxx::connection> conn;
  bool copy_ready = false;  // has its staging table
  std::unordered_set<std::string> known_conversations;
};

Shipper::Shipper(const Config& config, const SpoolWriter& spool, const UserDirectory& directory, LogQueue& log)
    : dsn_(config.database_dsn),
      batch_max_(config.batch_max),
      connections_(config.ship_connections),
      idle_wait_(config.batch_latency_ms),
      sync_checkpoint_(config.fsync != FsyncPolicy::Never),
      copy_wanted_(config.ship_by_copy),
      spool_(spool),
      directory_(directory),
      log_(log),
      planner_(connections_) {}

Shipper::~Shipper() { stop(); }

void Shipper::start() {
  lanes_.resize(connections_);
  reader_ = std::thread([this] { read_spool(); });
  for (size_t lane = 0; lane < connections_; ++lane) workers_.emplace_back([this, lane] { work(lane); });
}

void Shipper::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  workers_.clear();
  if (reader_.joinable()) reader_.join();
}

template <class Ready>
bool Shipper::wait_until(std::unique_lock<std::mutex>& lock, Ready ready) {
  cv_.wait(lock, [&] { return stopping_ || ready(); });
  return stopping_;
}

bool Shipper::sleep_unless_stopped(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds d) {
  return cv_.wait_for(lock, d, [this] { return stopping_; });
}

void Shipper::set_up(Connection& c) {
  auto& conn = *c.conn;
  conn.prepare(kIngest, "select mqchat_ingest($1::jsonb)");
  c.copy_ready = false;
  if (copy_wanted_) {
    try {
      pqxx::nontransaction tx(conn);
      tx.exec("create temporary table if not exists mqchat_ingest_stage (like mqchat_ingest_stage_shape) "
              "on commit delete rows");
      conn.prepare(kEnsure, "select mqchat_ensure_conversations($1::text[], $2::timestamptz[])");
      conn.prepare(kMerge, "select mqchat_ingest_staged()");
      c.copy_ready = true;
    } catch (const pqxx::sql_error& e) {
      log_.push(LogLevel::Warning, std::string("mqchat: shipper: no COPY path (is migration 020 applied?): ") +
                                       e.what() + "; shipping through mqchat_ingest");
    }
  }
  log_.push(LogLevel::Notice, std::string("mqchat: shipper connected to Postgres") +
                                  (c.copy_ready ? " (COPY)" : " (mqchat_ingest)"));
}

bool Shipper::ship_by_copy(Connection& c, const std::vector<std::string>& records) {
  std::vector<IngestRow> rows;
  std::vector<const std::string*> sender_ids;
  rows.reserve(records.size());
  sender_ids.reserve(records.size());
  const auto users = directory_.snapshot();
  std::vector<std::string> new_rooms, new_rooms_first_at, new_ids;
  for (const auto& record : records) {
    auto row = parse_ingest_row(record);
    if (!row) return false;
    const UserRecord* const user = users->find(row->sender);
    if (!user) return false;
    sender_ids.push_back(&user->id);
    if (!c.known_conversations.count(row->conversation_id) &&
        std::find(new_ids.begin(), new_ids.end(), row->conversation_id) == new_ids.end()) {
      new_ids.push_back(row->conversation_id);
      new_rooms.push_back(row->room);
      new_rooms_first_at.push_back(row->created_at);  // records are in time order: the first is the earliest
    }
    rows.push_back(std::move(*row));
  }
  try {
    pqxx::work tx(*c.conn);
    if (!new_rooms.empty()) tx.exec_prepared(kEnsure, array_literal(new_rooms), array_literal(new_rooms_first_at));
    {
      pqxx::stream_to copy(tx, "mqchat_ingest_stage",
                           std::vector<std::string>{"id", "conversation_id", "sender_id", "content", "message_type",
                                                    "metadata", "client_id", "created_at", "reply_to"});
      for (size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        copy << std::make_tuple(r.id, r.conversation_id, *sender_ids[i], r.content, r.type, r.metadata,
                                r.client_id ? r.client_id->c_str() : static_cast<const char*>(nullptr), r.created_at,
                                r.reply_to ? r.reply_to->c_str() : static_cast<const char*>(nullptr));
      }
      copy.complete();
    }
    tx.exec_prepared(kMerge);
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    if (!is_data_error(e)) throw;
    c.known_conversations.clear();  // e.g. a conversation deleted behind our back
    return false;
  }
  if (c.known_conversations.size() + new_ids.size() > kMaxKnownConversations) c.known_conversations.clear();
  c.known_conversations.insert(new_ids.begin(), new_ids.end());
  return true;
}

void Shipper::ship(Connection& c, const std::vector<std::string>& records) {
  if (c.copy_ready && ship_by_copy(c, records)) return;
  try {
    pqxx::work tx(*c.conn);
    tx.exec_prepared(kIngest, json_array(records));
    tx.commit();
  } catch (const pqxx::sql_error& e) {
    if (!is_data_error(e)) throw;
    ship_one_by_one(*c.conn, records);
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
      plugin_metrics.ship_rejected.inc();
      log_.push(LogLevel::Error, "mqchat: shipper: Postgres refused a spooled message; kept in ingest_rejects: " +
                                     std::string(e.what()));
    }
  }
}

bool Shipper::ship_until_done(Connection& c, const std::vector<std::string>& records) {
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    try {
      if (!c.conn) {
        c.conn = std::make_unique<pqxx::connection>(dsn_);
        plugin_metrics.postgres_connect(PluginMetrics::kShipper).inc();
        set_up(c);
      }
      ship(c, records);
      shipped_.fetch_add(records.size(), std::memory_order_relaxed);
      plugin_metrics.shipped.inc(records.size());
      plugin_metrics.batch_size.observe(double(records.size()));
      return true;
    } catch (const std::exception& e) {
      // Postgres away or restarting, a lost connection, a deadlock between two merges: all retried.
      plugin_metrics.postgres_error(PluginMetrics::kShipper).inc();
      log_.push(LogLevel::Warning, std::string("mqchat: shipper: ") + e.what() + " — retrying in " +
                                       std::to_string(backoff.count()) + " ms; messages stay in the spool");
      c.conn.reset();
      std::unique_lock<std::mutex> lock(mu_);
      if (sleep_unless_stopped(lock, backoff)) return false;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  }
}

void Shipper::work(size_t lane) {
  name_this_thread("mqchat-ship-" + std::to_string(lane));
  Connection c;
  std::unique_lock<std::mutex> lock(mu_);
  auto& parts = lanes_[lane];
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !parts.empty(); });
    if (stopping_) return;
    const Part part = std::move(parts.front());
    parts.pop_front();
    ++busy_;
    lock.unlock();
    const bool shipped = ship_until_done(c, part.records);
    lock.lock();
    --busy_;
    if (shipped) --part.batch->unshipped;
    planner_.done(lane, part.conversations);
    cv_.notify_all();
  }
}

void Shipper::read_spool() {
  name_this_thread("mqchat-spool");
  const std::string dir = spool_.dir();
  SpoolReader reader(dir);
  SpoolPosition shipped_to = load_checkpoint(dir);  // on disk
  SpoolPosition committed = shipped_to;             // everything before it is in Postgres
  SpoolPosition read_to = shipped_to;               // everything before it is handed out
  std::vector<std::string> records;
  std::vector<std::string_view> conversation_ids;  // of a full batch's records, for planner_
  const auto all_done = [this] {
    return std::all_of(in_flight_.begin(), in_flight_.end(), [](const auto& b) { return b->unshipped == 0; });
  };

  std::unique_lock<std::mutex> lock(mu_);
  const auto checkpoint = [&] {
    while (!in_flight_.empty() && in_flight_.front()->unshipped == 0) {
      committed = in_flight_.front()->end;
      in_flight_.pop_front();
    }
    if (committed == shipped_to) return true;
    lock.unlock();
    bool saved = true;
    try {
      // Segments first: on a full disk the checkpoint file needs the space they free. Safe in
      // this order, since everything in them is committed to Postgres and a stale checkpoint
      // pointing into a removed segment makes the reader move on to the next one there is.
      if (committed.segment != shipped_to.segment) remove_segments_before(dir, committed.segment);
      save_checkpoint(dir, committed, sync_checkpoint_);
      shipped_to = committed;
    } catch (const std::exception& e) {
      log_.push(LogLevel::Error, std::string("mqchat: shipper: ") + e.what());
      saved = false;
    }
    lock.lock();
    return saved;
  };

  while (!stopping_) {
    if (!checkpoint()) {
      sleep_unless_stopped(lock, std::chrono::milliseconds(100));
      continue;
    }
    if (in_flight_.size() >= connections_) {  // enough handed out: wait for the oldest
      wait_until(lock, [this] { return in_flight_.front()->unshipped == 0; });
      continue;
    }

    lock.unlock();
    records.clear();
    SpoolPosition next = read_to;
    bool corrupt = false;
    reader.read(next, spool_.end(), batch_max_, records, &corrupt);
    if (corrupt) log_.push(LogLevel::Error, "mqchat: shipper: a damaged spool record was skipped in " + dir);
    const bool full = records.size() >= batch_max_;
    const int64_t oldest_ms = records.empty() ? 0 : spooled_at_ms(records.front());
    conversation_ids.clear();
    if (full)
      for (const auto& r : records) conversation_ids.push_back(record_conversation_id(r));
    lock.lock();
    plugin_metrics.oldest_unshipped_ms.set(in_flight_.empty() ? oldest_ms : in_flight_.front()->oldest_ms);

    if (!full && wait_until(lock, all_done)) break;
    if (next != read_to) {  // a skipped damaged tail moves the checkpoint too, with no records
      auto batch = std::make_shared<Batch>();
      batch->end = read_to = next;
      batch->oldest_ms = oldest_ms;
      if (full) {
        LanePlan plan = planner_.plan(conversation_ids);  // before the records move: the ids point into them
        std::vector<std::vector<std::string>> parts(connections_);
        for (size_t i = 0; i < records.size(); ++i) parts[plan.lane_of_record[i]].push_back(std::move(records[i]));
        for (size_t lane = 0; lane < parts.size(); ++lane) {
          if (parts[lane].empty()) continue;
          ++batch->unshipped;
          lanes_[lane].push_back(Part{batch, std::move(parts[lane]), std::move(plan.conversations[lane])});
        }
      } else if (!records.empty()) {
        ++batch->unshipped;
        lanes_[0].push_back(Part{batch, std::move(records), {}});
      }
      in_flight_.push_back(std::move(batch));
      cv_.notify_all();
    }
    if (full) continue;  // more is waiting: go straight on
    // A part batch: as one connection would, ship it, then let a little more arrive.
    if (wait_until(lock, all_done) || sleep_unless_stopped(lock, idle_wait_)) break;
  }

  // Stopping: the workers finish the parts they hold; what they committed is checkpointed.
  cv_.wait(lock, [this] { return busy_ == 0; });
  checkpoint();
}

}  // namespace mqchat
