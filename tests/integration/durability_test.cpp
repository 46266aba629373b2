// "No message lost": every message the broker acknowledged ends up in Postgres exactly once,
// through a kill -9 of the broker and through a Postgres outage.
#include <atomic>
#include <thread>

#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {

struct BurstResult {
  std::vector<std::string> acked;  // client_ids the broker acknowledged
  int attempted = 0;
};

// Publishes QoS 1 messages one after another until `stop` or `max` is reached or the broker goes
// away; records which were acknowledged.
BurstResult burst(const Pair& p, const std::string& tag, int max, std::atomic<bool>& stop, std::atomic<int>& acked_count) {
  BurstResult result;
  TestClient alice(p.alice, kPassword);
  alice.connect();
  for (int i = 0; i < max && !stop; ++i) {
    const std::string client_id = tag + "-" + std::to_string(i);
    ++result.attempted;
    const int rc = alice.publish(messages_topic(p.room), R"({"content":"burst )" + std::to_string(i) +
                                                             R"(","client_id":")" + client_id + "\"}");
    if (rc != 0) break;  // the broker is gone: this one was not acknowledged
    result.acked.push_back(client_id);
    ++acked_count;
  }
  return result;
}

// Every acknowledged client_id is stored exactly once, and nothing is stored twice.
void expect_all_acked_stored_once(const Pair& p, const std::string& tag, const BurstResult& r) {
  ASSERT_FALSE(r.acked.empty());
  const std::string room_filter = "conversation_id = mqchat_conversation_id('" + p.room + "') and client_id like '" + tag + "-%'";
  const std::string acked_list = sql_array(r.acked, "text");
  // Wait for the shipper to drain the spool.
  const auto stored_acked = wait_for_value("select count(distinct client_id) from messages where " + room_filter +
                                               " and client_id = any(" + acked_list + ")",
                                           std::to_string(r.acked.size()), std::chrono::seconds(60));
  EXPECT_EQ(stored_acked, std::to_string(r.acked.size())) << "acknowledged messages missing from Postgres";
  EXPECT_EQ(query_value("select count(*) - count(distinct client_id) from messages where " + room_filter), "0")
      << "duplicates in Postgres";
  const long total = std::stol(query_value("select count(*) from messages where " + room_filter));
  EXPECT_LE(total, r.attempted) << "more rows than messages sent";
  std::cerr << "[durability] attempted " << r.attempted << ", acknowledged " << r.acked.size() << ", stored " << total
            << "\n";
}

// Waits until `n` messages of a running burst are acknowledged; false after a minute.
bool wait_until_acked(const std::atomic<int>& acked, int n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (acked < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

class Durability : public StackTest {};

TEST_F(Durability, BrokerKilledDuringABurstLosesNoAcknowledgedMessage) {
  const Pair p = make_pair_of_users();
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  BurstResult first;
  std::thread publisher([&] { first = burst(p, "kill", 100000, stop, acked); });
  const bool burst_running = wait_until_acked(acked, 1500);
  Stack::svc("kill", "broker");  // kill -9 in the middle of the burst
  publisher.join();
  Stack::svc("start", "broker");
  ASSERT_TRUE(burst_running) << "the burst never reached 1500 acknowledged messages";
  wait_until_login_works(p.alice, kPassword);

  // After the restart the broker takes new messages as before.
  std::atomic<bool> no_stop{false};
  std::atomic<int> more{0};
  const BurstResult second = burst(p, "after", 200, no_stop, more);
  EXPECT_EQ(second.acked.size(), 200u);
  expect_all_acked_stored_once(p, "kill", first);
  expect_all_acked_stored_once(p, "after", second);
}

TEST_F(Durability, PostgresStoppedDuringABurstLosesNothing) {
  const Pair p = make_pair_of_users();
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  BurstResult result;
  // Publishes until told to stop (after Postgres is back): a fixed count could all be acknowledged
  // before `svc stop postgres` returns on a fast machine, and the check below would see nothing.
  std::thread publisher([&] { result = burst(p, "pgdown", 1000000, stop, acked); });
  if (!wait_until_acked(acked, 1000)) {
    stop = true;
    publisher.join();
    FAIL() << "the burst never reached 1000 acknowledged messages";
  }
  Stack::svc("stop", "postgres");
  const int acked_at_stop = acked;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_GT(acked.load(), acked_at_stop) << "the broker must keep accepting while Postgres is down";
  Stack::svc("start", "postgres");
  stop = true;
  publisher.join();
  EXPECT_EQ(result.acked.size(), size_t(result.attempted)) << "every publish was acknowledged";
  expect_all_acked_stored_once(p, "pgdown", result);
}

TEST_F(Durability, HistoryAndLoginsSurviveABrokerRestart) {
  const Pair p = make_pair_of_users();
  {
    TestClient alice(p.alice, kPassword);
    alice.connect();
    ASSERT_EQ(alice.publish(messages_topic(p.room), "before restart"), 0);
  }
  Stack::svc("restart", "broker");
  wait_until_login_works(p.bob, kPassword);
  EXPECT_EQ(wait_for_value("select content from messages where conversation_id = mqchat_conversation_id('" + p.room + "')",
                           "before restart", std::chrono::seconds(10)),
            "before restart");
}

}  // namespace mqchat::test
