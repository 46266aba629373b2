#include "plugin/group_directory.h"

#include <pqxx/pqxx>

#include "plugin/metrics.h"

namespace mqchat {

namespace {

constexpr auto kNotifyChannel = "mqchat_groups";

class ChangeListener : public pqxx::notification_receiver {
 public:
  ChangeListener(pqxx::connection_base& conn, bool& changed) : notification_receiver(conn, kNotifyChannel), changed_(changed) {}
  void operator()(const std::string&, int) override { changed_ = true; }

 private:
  bool& changed_;
};

std::string with_connect_timeout(const std::string& dsn) {
  if (dsn.find("connect_timeout") != std::string::npos || dsn.find("://") != std::string::npos) return dsn;
  return dsn + " connect_timeout=3";
}

}  // namespace

GroupDirectory::GroupDirectory(std::string dsn, uint32_t refresh_ms, LogQueue& log)
    : dsn_(with_connect_timeout(dsn)), refresh_(refresh_ms), log_(log), members_(std::make_shared<GroupMembers>()) {}

GroupDirectory::~GroupDirectory() { stop(); }

void GroupDirectory::start() {
  try {
    pqxx::connection conn(dsn_);
    plugin_metrics.postgres_connect(PluginMetrics::kDirectory).inc();
    load_from_database(conn);
  } catch (const std::exception& e) {
    plugin_metrics.postgres_error(PluginMetrics::kDirectory).inc();
    log_.push(LogLevel::Warning, "mqchat: group directory: database unavailable at start (" + std::string(e.what()) +
                                     "); group rooms are refused until it is reachable");
  }
  worker_ = std::thread([this] { run(); });
}

void GroupDirectory::stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool GroupDirectory::wait_or_stop(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(stop_mu_);
  return stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

std::shared_ptr<const GroupMembers> GroupDirectory::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return members_;
}

bool GroupDirectory::is_member(std::string_view room, std::string_view user) const {
  return snapshot()->is_member(room, user);
}

void GroupDirectory::install(std::shared_ptr<const GroupMembers> members) {
  std::lock_guard<std::mutex> lock(mu_);
  members_ = std::move(members);
}

void GroupDirectory::load_from_database(pqxx::connection_base& conn) {
  auto members = std::make_shared<GroupMembers>();
  {
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec("select c.room, p.username from conversation_members cm "
                                   "join conversations c on c.id = cm.conversation_id "
                                   "join profiles p on p.id = cm.user_id"))
      members->add(row[0].as<std::string>(), row[1].as<std::string>());
  }
  install(std::move(members));
}

void GroupDirectory::run() {
  auto backoff = std::chrono::milliseconds(200);
  while (!wait_or_stop(std::chrono::milliseconds(0))) {
    try {
      pqxx::connection conn(dsn_);
      plugin_metrics.postgres_connect(PluginMetrics::kDirectory).inc();
      bool changed = false;
      ChangeListener listener(conn, changed);
      load_from_database(conn);  // whatever changed while not listening
      backoff = std::chrono::milliseconds(200);
      auto last_load = std::chrono::steady_clock::now();
      while (!wait_or_stop(std::chrono::milliseconds(0))) {
        conn.await_notification(0, 200000);  // a NOTIFY wakes it at once; every 200 ms it checks stop()
        if (changed || std::chrono::steady_clock::now() - last_load >= refresh_) {
          changed = false;
          load_from_database(conn);
          last_load = std::chrono::steady_clock::now();
        }
      }
    } catch (const std::exception& e) {
      plugin_metrics.postgres_error(PluginMetrics::kDirectory).inc();
      log_.push(LogLevel::Warning, std::string("mqchat: group directory: ") + e.what() + "; retrying");
      if (wait_or_stop(backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace mqchat
