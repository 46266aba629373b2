#include "tests/support/db.h"

#include <atomic>
#include <chrono>
#include <random>

#include "tests/support/stack.h"

namespace mqchat::test {

std::unique_ptr<pqxx::connection> connect_db() { return std::make_unique<pqxx::connection>(Stack::dsn()); }

std::string unique_username(const std::string& prefix) {
  static std::atomic<unsigned> counter{0};
  static const unsigned run = std::random_device{}() % 1000000;
  return prefix + "-" + std::to_string(run) + "-" + std::to_string(counter++);
}

std::string create_user(const std::string& username, const std::string& password) {
  auto conn = connect_db();
  pqxx::work tx(*conn);
  const auto row = tx.exec_params1(
      "insert into profiles(username, password_hash) values ($1, crypt($2, gen_salt('bf', 4))) returning id",
      username, password);
  tx.commit();
  return row[0].as<std::string>();
}

std::string query_value(const std::string& sql) {
  auto conn = connect_db();
  pqxx::nontransaction tx(*conn);
  const auto row = tx.exec1(sql);
  return row[0].is_null() ? "" : row[0].as<std::string>();
}

long count_messages_in_room(const std::string& room) {
  auto conn = connect_db();
  pqxx::nontransaction tx(*conn);
  return tx.exec_params1("select count(*) from messages m join conversations c on c.id = m.conversation_id "
                         "where c.room = $1",
                         room)[0]
      .as<long>();
}

}  // namespace mqchat::test
