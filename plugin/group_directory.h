#pragma once
// Group membership in memory (issue 17), so the ACL checks of chat/<group-room>/… never touch the
// database: which users are members of which group room. A worker thread with its own connection
// LISTENs on mqchat_groups (sql/034_groups.sql notifies on every membership change) and reloads
// the whole table into a new snapshot (plugin/snapshot.h); it reloads every refresh period too.
// The broker thread reads the newest snapshot without a lock, so a
// removal takes effect on the next check once the snapshot is installed — within a second of the
// commit — including deliveries on subscriptions made before it (MOSQ_ACL_READ is checked on every
// delivery). Until the first load succeeds (Postgres down at start) every group check fails closed.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "plugin/access_policy.h"
#include "plugin/log_queue.h"
#include "plugin/snapshot.h"
#include "plugin/table_follower.h"

namespace pqxx {
class connection_base;
}

namespace mqchat {

// One version of every group's members. Transparent comparators: lookups by string_view allocate nothing.
class GroupMembers {
 public:
  void add(std::string room, std::string user) { rooms_[std::move(room)].insert(std::move(user)); }
  bool is_member(std::string_view room, std::string_view user) const {
    const auto it = rooms_.find(room);
    return it != rooms_.end() && it->second.count(user) > 0;
  }
  size_t groups() const { return rooms_.size(); }

 private:
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> rooms_;
};

class GroupDirectory : public GroupMembership {
 public:
  GroupDirectory(std::string dsn, uint32_t refresh_ms, LogQueue& log);
  ~GroupDirectory() override;

  void start();  // loads once (if the database answers), then keeps current in the background
  void stop();

  std::shared_ptr<const GroupMembers> snapshot() const;
  bool is_member(std::string_view room, std::string_view user) const override;  // the broker thread

  // Tests and the loader: replaces the snapshot.
  void install(std::shared_ptr<const GroupMembers> members);

 private:
  void load_from_database(pqxx::connection_base& conn);

  std::string dsn_;
  std::chrono::milliseconds refresh_;
  LogQueue& log_;

  Snapshot<GroupMembers> members_;

  TableFollower follower_;  // last: stopped first, before what its loads write to goes away
};

}  // namespace mqchat
