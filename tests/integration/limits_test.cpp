// Per-user limits (config `limits.*`): a flood is refused with a clear report and costs the
// flooder only, and a user cannot open connections without bound. The test stack lifts these
// limits for the other tests; this suite restarts the broker with small ones and restores it.
#include <memory>
#include <thread>
#include <vector>

#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {
constexpr int kNotAuthorized = 0x87;
constexpr int kRate = 5, kBurst = 10, kMaxConnections = 3;
}  // namespace

class Limits : public PairTest {
 protected:
  static void SetUpTestSuite() {
    if (!Stack::available()) return;
    Stack::svc("restart", "broker",
               "limits.messages_per_second=" + std::to_string(kRate) + " limits.message_burst=" +
                   std::to_string(kBurst) + " limits.max_connections_per_user=" + std::to_string(kMaxConnections));
  }
  static void TearDownTestSuite() {
    if (Stack::available()) Stack::svc("restart", "broker");  // back to the stack's own settings
  }
};

TEST_F(Limits, AFloodIsRefusedAfterTheBurstWithAReportAndOthersAreUnaffected) {
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/errors");
  TestClient bob(pair_.bob, kPassword);
  bob.connect();

  int accepted = 0, refused = 0;
  for (int i = 0; i < 3 * kBurst; ++i) {
    const int rc = alice.publish(messages_topic(pair_.room), "flood " + std::to_string(i));
    if (rc == 0) {
      ++accepted;
    } else {
      EXPECT_EQ(rc, kNotAuthorized);
      ++refused;
    }
  }
  // The burst, plus whatever the rate refilled while publishing (well under a second here).
  EXPECT_GE(accepted, kBurst);
  EXPECT_LE(accepted, kBurst + 2 * kRate);
  EXPECT_GT(refused, 0);
  const auto report = alice.wait_message("users/" + pair_.alice + "/errors");
  ASSERT_TRUE(report);
  const auto err = nlohmann::json::parse(report->payload);
  EXPECT_EQ(err["code"], "rate_limited");
  EXPECT_NE(err["reason"].get<std::string>().find("limits.messages_per_second"), std::string::npos);

  // Bob's own bucket is full: he is not slowed down by Alice's flood.
  for (int i = 0; i < kBurst; ++i) EXPECT_EQ(bob.publish(messages_topic(pair_.room), "calm " + std::to_string(i)), 0);
  // And Alice may talk again once the rate has refilled a token.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000 / kRate + 100));
  EXPECT_EQ(alice.publish(messages_topic(pair_.room), "after a pause"), 0);
  // Only what was accepted is stored.
  const std::string expected = std::to_string(accepted + kBurst + 1);
  EXPECT_EQ(wait_for_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" +
                               pair_.room + "')",
                           expected, std::chrono::seconds(10)),
            expected);
}

TEST_F(Limits, ConnectionsPerUserAreCappedButAReconnectReplacesItsOldConnection) {
  TestClient watcher(pair_.alice, kPassword);
  watcher.connect();
  watcher.subscribe("users/" + pair_.alice + "/errors");
  std::vector<std::unique_ptr<TestClient>> more;
  for (int i = 1; i < kMaxConnections; ++i) {
    more.push_back(std::make_unique<TestClient>(pair_.alice, kPassword));
    ASSERT_TRUE(more.back()->try_connect()) << i;
  }
  TestClient one_too_many(pair_.alice, kPassword);
  EXPECT_FALSE(one_too_many.try_connect());
  const auto report = watcher.wait_message("users/" + pair_.alice + "/errors");
  ASSERT_TRUE(report);
  EXPECT_EQ(nlohmann::json::parse(report->payload)["code"], "too_many_connections");

  // Another user is not affected.
  TestClient bob(pair_.bob, kPassword);
  EXPECT_TRUE(bob.try_connect());
  // Reconnecting under a client id already in use takes that session over: not one more.
  ClientOptions same_id;
  same_id.client_id = "limits-phone-" + pair_.alice;
  more.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // its DISCONNECT reaches the broker
  auto phone = std::make_unique<TestClient>(pair_.alice, kPassword, same_id);
  ASSERT_TRUE(phone->try_connect());
  TestClient phone_again(pair_.alice, kPassword, same_id);
  EXPECT_TRUE(phone_again.try_connect());
  // A closed connection frees its place.
  more.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  TestClient later(pair_.alice, kPassword);
  EXPECT_TRUE(later.try_connect());
}

}  // namespace mqchat::test
