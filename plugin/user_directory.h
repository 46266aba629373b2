#pragma once
// Every profile's id and password hash, in memory, so authentication and ACL checks never touch
// the database. A worker thread keeps it current: it LISTENs for profile changes (a trigger
// notifies `mqchat_profiles`) and reloads, and reloads fully every refresh period anyway. The
// last good copy is kept in a file so the broker can still log people in when it starts while
// Postgres is down.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "plugin/log_queue.h"
#include "plugin/snapshot.h"
#include "plugin/table_follower.h"
#include "plugin/user_table.h"

namespace pqxx {
class connection_base;
}

namespace mqchat {

class UserDirectory {
 public:
  UserDirectory(std::string dsn, std::string cache_file, uint32_t refresh_ms, LogQueue& log);
  ~UserDirectory();

  // Loads once (database, else the cache file), then keeps refreshing in the background.
  void start();
  void stop();

  std::shared_ptr<const UserTable> snapshot() const;
  bool exists(std::string_view username) const;
  // The broker thread alone (every ACL check asks): see plugin/snapshot.h. Valid until the next call.
  const UserTable& broker_view() const { return users_.broker_view(); }

 private:
  void load_from_database(pqxx::connection_base& conn);
  void install(std::shared_ptr<const UserTable> users);

  std::string dsn_, cache_file_;
  std::chrono::milliseconds refresh_;
  LogQueue& log_;

  Snapshot<UserTable> users_;

  TableFollower follower_;  // last: stopped first, before what its loads write to goes away
};

}  // namespace mqchat
