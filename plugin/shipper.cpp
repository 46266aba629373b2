#include "plugin/shipper.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "plugin/ingest_row.h"
#include "plugin/metrics.h"

namespace mqchat {

namespace {

constexpr auto kIngest = "mqchat_ingest";
constexpr auto kEnsure = "mqchat_ensure_conversations";
constexpr auto kMerge = "mqchat_ingest_staged";
constexpr size_t kMaxKnownConversations = 1000000;

// A text[] literal; the values here are room names and RFC 3339 stamps, quoted all the same.
std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out + "}";
}

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

Shipper::Shipper(const Config& config, const SpoolWriter& spool, const UserDirectory& directory, LogQueue& log)
    : dsn_(config.database_dsn),
      batch_max_(config.batch_max),
      idle_wait_(config.batch_latency_ms),
      sync_checkpoint_(config.fsync != FsyncPolicy::Never),
      copy_wanted_(config.ship_by_copy),
      spool_(spool),
      directory_(directory),
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

void Shipper::set_up(pqxx::connection_base& conn) {
  conn.prepare(kIngest, "select mqchat_ingest($1::jsonb)");
  copy_ready_ = false;
  if (copy_wanted_) {
    try {
      pqxx::nontransaction tx(conn);
      tx.exec("create temporary table if not exists mqchat_ingest_stage (like mqchat_ingest_stage_shape) "
              "on commit delete rows");
      conn.prepare(kEnsure, "select mqchat_ensure_conversations($1::text[], $2::timestamptz[])");
      conn.prepare(kMerge, "select mqchat_ingest_staged()");
      copy_ready_ = true;
    } catch (const pqxx::sql_error& e) {
      log_.push(LogLevel::Warning, std::string("mqchat: shipper: no COPY path (is migration 020 applied?): ") +
                                       e.what() + "; shipping through mqchat_ingest");
    }
  }
  log_.push(LogLevel::Notice, std::string("mqchat: shipper connected to Postgres") +
                                  (copy_ready_ ? " (COPY)" : " (mqchat_ingest)"));
}

bool Shipper::ship_by_copy(pqxx::connection_base& conn, const std::vector<std::string>& records) {
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
    if (!known_conversations_.count(row->conversation_id) &&
        std::find(new_ids.begin(), new_ids.end(), row->conversation_id) == new_ids.end()) {
      new_ids.push_back(row->conversation_id);
      new_rooms.push_back(row->room);
      new_rooms_first_at.push_back(row->created_at);  // records are in time order: the first is the earliest
    }
    rows.push_back(std::move(*row));
  }
  try {
    pqxx::work tx(conn);
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
    known_conversations_.clear();  // e.g. a conversation deleted behind our back
    return false;
  }
  if (known_conversations_.size() + new_ids.size() > kMaxKnownConversations) known_conversations_.clear();
  known_conversations_.insert(new_ids.begin(), new_ids.end());
  return true;
}

void Shipper::ship(pqxx::connection_base& conn, const std::vector<std::string>& records) {
  if (copy_ready_ && ship_by_copy(conn, records)) return;
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
      plugin_metrics.ship_rejected.inc();
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
    plugin_metrics.oldest_unshipped_ms.set(records.empty() ? 0 : spooled_at_ms(records.front()));

    if (!records.empty()) {
      try {
        if (!conn) {
          conn = std::make_unique<pqxx::connection>(dsn_);
          plugin_metrics.postgres_connect(PluginMetrics::kShipper).inc();
          set_up(*conn);
        }
        ship(*conn, records);
        shipped_.fetch_add(records.size(), std::memory_order_relaxed);
        plugin_metrics.shipped.inc(records.size());
        plugin_metrics.batch_size.observe(double(records.size()));
        backoff = std::chrono::milliseconds(100);
      } catch (const std::exception& e) {
        plugin_metrics.postgres_error(PluginMetrics::kShipper).inc();
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
