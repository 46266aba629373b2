#include "tests/integration/fixtures.h"

#include <random>
#include <thread>

#include "common/room.h"

namespace mqchat::test {

Pair make_pair_of_users() {
  Pair p{unique_username("alice"), unique_username("bob"), ""};
  create_user(p.alice, kPassword);
  create_user(p.bob, kPassword);
  p.room = *make_room(p.alice, p.bob);
  wait_until_login_works(p.alice, kPassword);
  wait_until_login_works(p.bob, kPassword);
  return p;
}

void PairTest::SetUp() {
  StackTest::SetUp();
  if (IsSkipped()) return;
  pair_ = make_pair_of_users();
}

void PairAndMalloryTest::SetUp() {
  PairTest::SetUp();
  if (IsSkipped()) return;
  mallory_ = unique_username("mallory");
  create_user(mallory_, kPassword);
  wait_until_login_works(mallory_, kPassword);
}

std::string sql_array(const std::vector<std::string>& values, const std::string& type) {
  std::string s = "array[";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ",'" : "'") + values[i] + "'";
  return s + "]::" + type + "[]";
}

std::string random_hex() {
  static std::mt19937_64 rng{std::random_device{}()};
  std::string s;
  for (uint64_t v = rng(), i = 0; i < 8; ++i, v >>= 4) s += "0123456789abcdef"[v & 15];
  return s;
}

std::string messages_topic(const std::string& room) { return "chat/" + room + "/messages"; }

std::string wait_for_value(const std::string& sql, const std::string& expected, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string value;
  while (true) {
    try {
      value = query_value(sql);
    } catch (const std::exception& e) {
      value = std::string("error: ") + e.what();
    }
    if (value == expected || std::chrono::steady_clock::now() > deadline) return value;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace mqchat::test
