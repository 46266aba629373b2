#pragma once
// Two fresh users and their room for each test, so tests never see each other's messages.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/support/db.h"
#include "tests/support/mqtt_client.h"
#include "tests/support/stack.h"

namespace mqchat::test {

constexpr char kPassword[] = "correct horse";

struct Pair {
  std::string alice, bob, room;
};

// Creates two users (names sort alice < bob) and waits until both can log in.
Pair make_pair_of_users();

std::string messages_topic(const std::string& room);

// Waits until `sql` returns `expected` (as text), up to `timeout`; returns the last value seen.
std::string wait_for_value(const std::string& sql, const std::string& expected, std::chrono::milliseconds timeout);

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override { MQCHAT_REQUIRE_STACK(); }
};

// Each test gets a fresh pair of users and their room.
class PairTest : public StackTest {
 protected:
  void SetUp() override;
  Pair pair_;
};

// ... and a third user, in neither's room.
class PairAndMalloryTest : public PairTest {
 protected:
  void SetUp() override;
  std::string mallory_;
};

// Eight random hex digits: client ids and names no other test run will use.
std::string random_hex();

// `array['a','b']::<type>[]` for values that need no quoting (ids, client ids made by tests).
std::string sql_array(const std::vector<std::string>& values, const std::string& type);

}  // namespace mqchat::test
