#include "plugin/group_directory.h"

#include <pqxx/pqxx>

#include "plugin/metrics.h"

namespace mqchat {

GroupDirectory::GroupDirectory(std::string dsn, uint32_t refresh_ms, LogQueue& log)
    : dsn_(with_connect_timeout(dsn)), refresh_(refresh_ms), log_(log), members_(std::make_shared<GroupMembers>()),
      follower_(dsn_, "mqchat_groups", refresh_, "group directory", log,
                [this](pqxx::connection_base& conn) { load_from_database(conn); }) {}

GroupDirectory::~GroupDirectory() { stop(); }

void GroupDirectory::start() {
  if (const auto error = follower_.load_once())
    log_.push(LogLevel::Warning, "mqchat: group directory: database unavailable at start (" + *error +
                                     "); group rooms are refused until it is reachable");
  follower_.start();
}

void GroupDirectory::stop() { follower_.stop(); }

std::shared_ptr<const GroupMembers> GroupDirectory::snapshot() const { return members_.get(); }

bool GroupDirectory::is_member(std::string_view room, std::string_view user) const {
  return members_.broker_view().is_member(room, user);
}

void GroupDirectory::install(std::shared_ptr<const GroupMembers> members) { members_.install(std::move(members)); }

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

}  // namespace mqchat
