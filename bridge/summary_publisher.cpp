#include "bridge/summary_publisher.h"

#include <pqxx/pqxx>

#include "bridge/log.h"
#include "common/room.h"

namespace mqchat::bridge {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {
constexpr size_t kUsersPerQuery = 500;
constexpr int kSqlMessagesPerClaim = 200;
constexpr auto kFanOutSafetyPoll = 2s;  // in case a NOTIFY was missed (e.g. while reconnecting)

// A Postgres array literal of plain tokens (usernames, uuids: no quotes or backslashes in them).
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) out += (out.size() > 1 ? ",\"" : "\"") + item + "\"";
  return out + "}";
}

class Listener : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection& c, const std::string& channel, std::function<void(const std::string&)> on)
      : pqxx::notification_receiver(c, channel), on_(std::move(on)) {}
  void operator()(const std::string& payload, int) override { on_(payload); }

 private:
  std::function<void(const std::string&)> on_;
};
}  // namespace

SummaryPublisher::SummaryPublisher(const Options& options, MqttLink*& link)
    : options_(options), link_(link), stale_(options.summary_delay) {}

SummaryPublisher::~SummaryPublisher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void SummaryPublisher::start() {
  thread_ = std::thread([this] { run(); });
}

void SummaryPublisher::run() {
  bool said_standby = false;
  while (!stop_) {
    try {
      pqxx::connection conn(options_.dsn);
      pqxx::nontransaction probe(conn);
      const bool leader = probe.exec1("select pg_try_advisory_lock(hashtext('mqchat-bridge-leader'))")[0].as<bool>();
      probe.commit();
      if (!leader) {
        if (!said_standby) log("summaries: another bridge instance leads; standing by");
        said_standby = true;
        std::this_thread::sleep_for(1s);
        continue;
      }
      said_standby = false;
      log("summaries: leading (summaries and SQL fan-out)");
      lead(conn);
    } catch (const std::exception& e) {
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
  }
}

void SummaryPublisher::lead(pqxx::connection& conn) {
  Listener rooms(conn, "mqchat_rooms", [this](const std::string& room) { mark_room(room); });
  Listener sql(conn, "mqchat_sql_messages", [this](const std::string&) { fanout_due_ = true; });
  // Whatever happened while no bridge was leading: every summary is recomputed once.
  mark_everyone(conn);
  fanout_due_ = true;
  auto last_fanout = Clock::now();
  while (!stop_) {
    if (fanout_due_ || Clock::now() - last_fanout > kFanOutSafetyPoll) {
      fanout_due_ = !fan_out_sql_messages(conn);
      last_fanout = Clock::now();
    }
    publish_due_summaries(conn);
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(kFanOutSafetyPoll);
    if (const auto due = stale_.due())
      wait = std::max(std::chrono::microseconds(0), std::chrono::duration_cast<std::chrono::microseconds>(*due - Clock::now()));
    if (fanout_due_) wait = std::min(wait, std::chrono::microseconds(200000));
    conn.await_notification(wait.count() / 1000000, wait.count() % 1000000);
  }
}

void SummaryPublisher::mark_everyone(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  const auto now = Clock::now();
  for (const auto& row : tx.exec("select username from profiles p where exists "
                                 "(select 1 from conversations c where p.id in (c.participant_1, c.participant_2))"))
    stale_.mark(row[0].as<std::string>(), now);
}

bool SummaryPublisher::fan_out_sql_messages(pqxx::connection& conn) {
  for (;;) {
    pqxx::work tx(conn);
    const auto rows = tx.exec_params("select message_id::text, room, message::text from mqchat_claim_sql_messages($1)",
                                     kSqlMessagesPerClaim);
    if (rows.empty()) return true;
    std::vector<std::string> ids;
    for (const auto& row : rows) {
      // Rows stay claimed (locked) until commit: if we die here, the next leader publishes them.
      if (!link_->publish({chat_topic(row[1].as<std::string>(), ChatChannel::Messages), row[2].as<std::string>(),
                           false, {}}))
        return false;
      ids.push_back(row[0].as<std::string>());
    }
    tx.exec_params("delete from sql_fanout_queue where message_id = any($1::uuid[])", array_literal(ids));
    tx.commit();
    log("fan-out: published ", ids.size(), " message(s) sent through SQL");
  }
}

void SummaryPublisher::publish_due_summaries(pqxx::connection& conn) {
  for (auto users = stale_.take_due(Clock::now(), kUsersPerQuery); !users.empty();
       users = stale_.take_due(Clock::now(), kUsersPerQuery)) {
    pqxx::read_transaction tx(conn);
    const auto rows = tx.exec_params("select username, summary::text from mqchat_summaries($1::text[])", array_literal(users));
    tx.commit();
    for (const auto& row : rows)
      link_->publish({user_topic(row[0].as<std::string>(), "conversations"), row[1].as<std::string>(), true, {}});
  }
}

}  // namespace mqchat::bridge
