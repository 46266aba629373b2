#include "plugin/user_directory.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "plugin/metrics.h"

namespace mqchat {

namespace {

void write_cache(const std::string& path, const UserTable& users) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return;
    ::chmod(tmp.c_str(), 0600);  // holds password hashes
    for (const auto& [name, rec] : users) out << name << '\t' << rec.id << '\t' << rec.password_hash << '\n';
    if (!out) return;
  }
  std::rename(tmp.c_str(), path.c_str());
}

std::shared_ptr<UserTable> read_cache(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  auto users = std::make_shared<UserTable>();
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string name, id, hash;
    if (std::getline(fields, name, '\t') && std::getline(fields, id, '\t') && std::getline(fields, hash))
      users->set(std::move(name), UserRecord{std::move(id), std::move(hash)});
  }
  return users;
}

}  // namespace

UserDirectory::UserDirectory(std::string dsn, std::string cache_file, uint32_t refresh_ms, LogQueue& log)
    : dsn_(with_connect_timeout(dsn)), cache_file_(std::move(cache_file)), refresh_(refresh_ms), log_(log),
      users_(std::make_shared<UserTable>()),
      follower_(dsn_, "mqchat_profiles", refresh_, "user directory", log,
                [this](pqxx::connection_base& conn) { load_from_database(conn); }) {}

UserDirectory::~UserDirectory() { stop(); }

void UserDirectory::start() {
  if (const auto error = follower_.load_once()) {
    if (auto cached = read_cache(cache_file_)) {
      log_.push(LogLevel::Warning, "mqchat: database unavailable at start (" + *error +
                                       "); using the cached user directory (" + std::to_string(cached->size()) +
                                       " users)");
      install(std::move(cached));
    } else {
      log_.push(LogLevel::Warning, "mqchat: database unavailable at start and no cached user directory: " + *error +
                                       "; logins fail until it is reachable");
    }
  }
  follower_.start();
}

void UserDirectory::stop() { follower_.stop(); }

std::shared_ptr<const UserTable> UserDirectory::snapshot() const { return users_.get(); }

bool UserDirectory::exists(std::string_view username) const {
  return snapshot()->contains(username);
}

void UserDirectory::install(std::shared_ptr<const UserTable> users) { users_.install(std::move(users)); }

void UserDirectory::load_from_database(pqxx::connection_base& conn) {
  auto users = std::make_shared<UserTable>();
  {
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec("select username, id::text, coalesce(password_hash, '') from profiles"))
      users->set(row[0].as<std::string>(), UserRecord{row[1].as<std::string>(), row[2].as<std::string>()});
  }
  write_cache(cache_file_, *users);
  install(std::move(users));
}

}  // namespace mqchat
