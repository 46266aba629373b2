#include "bridge/summary_publisher.h"

#include <pqxx/pqxx>

#include <optional>

#include "bridge/database.h"
#include "bridge/log.h"
#include "bridge/metrics.h"
#include "bridge/summary_pacer.h"
#include "common/pg_listener.h"
#include "common/room.h"
#include "common/sql_array.h"

namespace mqchat::bridge {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {
constexpr size_t kUsersPerQuery = 500;
constexpr int kOutboxPerRead = 200;
constexpr auto kFanOutSafetyPoll = 2s;  // in case a NOTIFY was missed (e.g. while reconnecting)
// A leader whose broker link has been down this long releases the lock, so a bridge on another
// node (cluster) leads instead; standbys probe every second, so they take over within ~3 s.
constexpr auto kStepDownAfter = 2s;
}  // namespace

SummaryPublisher::SummaryPublisher(const Options& options, MqttLink*& link)
    : options_(options), link_(link), stale_(options.summary_delay) {}

SummaryPublisher::~SummaryPublisher() { stop(); }

void SummaryPublisher::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void SummaryPublisher::start() {
  thread_ = std::thread([this] { run(); });
}

void SummaryPublisher::run() {
  bool said_standby = false, said_no_link = false;
  while (!stop_) {
    // Only a bridge that can publish may lead: without its broker it would hold the lock and
    // publish nothing.
    if (!link_ || !link_->connected()) {
      if (!said_no_link) log("summaries: no broker link; not competing for the lead");
      said_no_link = true;
      std::this_thread::sleep_for(200ms);
      continue;
    }
    said_no_link = false;
    try {
      pqxx::connection conn(options_.dsn);
      pqxx::nontransaction probe(conn);
      const bool leader = probe.exec1("select pg_try_advisory_lock(hashtext('mqchat-bridge-leader'))")[0].as<bool>();
      probe.commit();
      if (!leader) {
        if (!said_standby) log("summaries: another bridge instance leads; standing by");
        said_standby = true;
        for (int i = 0; i < 20 && !stop_; ++i) std::this_thread::sleep_for(50ms);
        continue;
      }
      said_standby = false;
      bridge_metrics.postgres_connects.inc();  // the leader's connection (a standby's probes are not counted)
      log("summaries: leading (summaries and SQL fan-out)");
      lead(conn);  // returns when stepping down: `conn` closes below, which releases the lock
    } catch (const std::exception& e) {
      if (stop_) break;
      bridge_metrics.postgres_errors.inc();
      log("summaries: ", e.what(), "; reconnecting");
      std::this_thread::sleep_for(500ms);
    }
  }
}

void SummaryPublisher::mark_room(const std::string& room) {
  if (const auto r = parse_room(room)) {
    const auto now = Clock::now();
    stale_.mark(std::string(r->first), now);
    stale_.mark(std::string(r->second), now);
  } else if (is_group_room(room)) {
    stale_groups_.insert(room);  // its members are looked up before the next summaries
  }
}

void SummaryPublisher::mark_group_members(pqxx::connection& conn) {
  if (stale_groups_.empty()) return;
  const std::vector<std::string> rooms(stale_groups_.begin(), stale_groups_.end());
  stale_groups_.clear();
  pqxx::read_transaction tx(conn);
  const auto rows = tx.exec_params("select p.username from conversations c "
                                   "join conversation_members cm on cm.conversation_id = c.id "
                                   "join profiles p on p.id = cm.user_id where c.room = any($1::text[])",
                                   array_literal(rooms));
  tx.commit();
  const auto now = Clock::now();
  for (const auto& row : rows) stale_.mark(row[0].as<std::string>(), now);
}

void SummaryPublisher::lead(pqxx::connection& conn) {
  PgListener rooms(conn, "mqchat_rooms", [this](const std::string& room) { mark_room(room); });
  PgListener outbox(conn, "mqchat_outbox", [this](const std::string&) { fanout_due_ = true; });
  // Users whose summary changed outside any room they are still in (removed from a group, left it).
  PgListener users(conn, "mqchat_users", [this](const std::string& user) {
    if (is_valid_username(user)) stale_.mark(user, Clock::now());
  });
  // Whatever happened while no bridge was leading: every summary is recomputed once.
  mark_everyone(conn);
  fanout_due_ = true;
  auto last_fanout = Clock::now();
  std::optional<Clock::time_point> link_down_since;
  while (!stop_) {
    if (link_->connected()) {
      link_down_since.reset();
    } else if (!link_down_since) {
      link_down_since = Clock::now();
    } else if (Clock::now() - *link_down_since >= kStepDownAfter) {
      log("summaries: the broker link is down; stepping down (another bridge may lead)");
      return;
    }
    if (fanout_due_ || Clock::now() - last_fanout > kFanOutSafetyPoll) {
      fanout_due_ = !fan_out_outbox(conn);
      last_fanout = Clock::now();
    }
    mark_group_members(conn);
    publish_due_summaries(conn);
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(kFanOutSafetyPoll);
    if (const auto next = stale_.due())
      wait = std::min(wait, std::max(std::chrono::microseconds(0),
                                     std::chrono::duration_cast<std::chrono::microseconds>(*next - Clock::now())));
    if (fanout_due_) wait = std::min(wait, std::chrono::microseconds(200000));
    wait = std::min(wait, std::chrono::microseconds(250000));  // notice stop_ soon enough
    conn.await_notification(wait.count() / 1000000, wait.count() % 1000000);
  }
}

void SummaryPublisher::mark_everyone(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  const auto now = Clock::now();
  for (const auto& row : tx.exec("select username from profiles p where exists "
                                 "(select 1 from conversations c where p.id in (c.participant_1, c.participant_2)) "
                                 "or exists (select 1 from conversation_members cm where cm.user_id = p.id)"))
    stale_.mark(row[0].as<std::string>(), now);
}

bool SummaryPublisher::fan_out_outbox(pqxx::connection& conn) {
  while (!stop_) {
    // Read, then publish with no transaction open, then delete what went out. Only the leader
    // (advisory lock) does this, so rows are not published twice, except after a crash between
    // publishing and deleting (at-least-once; subscribers de-duplicate by id).
    pqxx::result rows;
    {
      pqxx::read_transaction tx(conn);
      rows = tx.exec_params("select seq, topic, payload from mqchat_outbox_pending($1)", kOutboxPerRead);
      tx.commit();
    }
    if (rows.empty()) return true;
    std::vector<std::string> done;
    bool ok = true;
    for (const auto& row : rows) {
      if (stop_ || !link_->publish({row[1].as<std::string>(), row[2].as<std::string>(), false, {}}, false)) {
        ok = false;
        break;
      }
      done.push_back(row[0].as<std::string>());
    }
    if (!done.empty()) {
      pqxx::work tx(conn);
      tx.exec_params("delete from mqchat_outbox where seq = any($1::bigint[])", array_literal(done));
      tx.commit();
      log("fan-out: published ", done.size(), " change(s) made through SQL");
    }
    if (!ok) return false;
  }
  return false;
}

void SummaryPublisher::publish_due_summaries(pqxx::connection& conn) {
  for (auto users = stale_.take_due(Clock::now(), kUsersPerQuery); !users.empty();
       users = stale_.take_due(Clock::now(), kUsersPerQuery)) {
    const auto started = Clock::now();
    pqxx::read_transaction tx(conn);
    const auto rows = tx.exec_params("select username, summary::text from mqchat_summaries($1::text[])", array_literal(users));
    tx.commit();
    // The query's time, shared out by the size of each user's summary (its rows, roughly): a
    // costly one waits longer before the next (summary_pacer.h).
    const auto cost = Clock::now() - started;
    size_t bytes = 0;
    for (const auto& row : rows) bytes += row[1].size();
    for (const auto& row : rows) {
      const auto user = row[0].as<std::string>();
      if (!link_->publish({user_topic(user, "conversations"), row[1].as<std::string>(), true, {}}, false)) {
        stale_.mark(user, Clock::now());  // again later (or by the next leader)
        continue;
      }
      const auto wait = bytes > 0 ? summary_pacer::wait_after(cost * int64_t(row[1].size()) / int64_t(bytes),
                                                              options_.summary_delay)
                                  : Clock::duration::zero();
      if (wait > Clock::duration::zero()) stale_.hold(user, started + wait);
    }
    if (!link_->connected()) return;  // the lead loop decides whether to step down
  }
}

}  // namespace mqchat::bridge
