// Every refused publish says why on users/<me>/errors (issue 13), ACL refusals and size limits
// included; an MQTT 3.1.1 publisher, which gets a plain PUBACK, learns it only there. Reports are
// rate-limited per user. Response topics must be the requester's own private topics.
#include <thread>

#include "common/room.h"
#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {
constexpr int kNotAuthorized = 0x87;

nlohmann::json next_report(TestClient& c, const std::string& user) {
  const auto m = c.wait_message("users/" + user + "/errors", 3s);
  return m ? nlohmann::json::parse(m->payload) : nlohmann::json();
}
}  // namespace

class RefusalReports : public PairAndMalloryTest {};

TEST_F(RefusalReports, EveryAclRefusalIsReportedWithItsCode) {
  for (int version : {MQTTVERSION_5, MQTTVERSION_3_1_1}) {
    ClientOptions o;
    o.mqtt_version = version;
    TestClient m(mallory_, kPassword, o);
    m.connect();
    m.subscribe("users/" + mallory_ + "/errors");
    const std::string reversed = pair_.bob + "_" + pair_.alice;
    const std::string with_ghost = *make_room(mallory_, "zz-nobody-here");
    const std::vector<std::pair<std::string, std::string>> rows = {
        {messages_topic(pair_.room), "not_participant"},             // someone else's room
        {"chat/" + pair_.room + "/history", "not_participant"},     // a request to a room you are not in
        {"chat/" + mallory_ + "_" + mallory_ + "/messages", "bad_room"},  // a_a
        {"chat/" + reversed + "/messages", "bad_room"},              // reversed order
        {messages_topic(with_ghost), "unknown_user"},                // unknown user
        {"chat/" + *make_room(mallory_, pair_.alice) + "/events", "read_only"},
        {"users/" + mallory_ + "/presence", "read_only"},
        {"elsewhere/x", "forbidden"},
    };
    for (const auto& [topic, code] : rows) {
      const int rc = m.publish(topic, "hi");
      // MQTT 5: 0x87; 3.1.1: a plain PUBACK (0), so the report is all the publisher learns.
      EXPECT_EQ(rc, version == MQTTVERSION_5 ? kNotAuthorized : 0) << topic;
      const auto report = next_report(m, mallory_);
      ASSERT_TRUE(report.is_object()) << "no report for " << topic;
      EXPECT_EQ(report["code"], code) << topic;
      EXPECT_EQ(report["topic"], topic);
      EXPECT_FALSE(report["reason"].get<std::string>().empty());
    }
  }
  EXPECT_EQ(count_messages_in_room(pair_.room), 0);
}

TEST_F(RefusalReports, PayloadsAreLimitedPerTopicKindBeforeAnythingIsQueued) {
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/errors");
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe("chat/" + pair_.room + "/typing");
  const std::string typing = "chat/" + pair_.room + "/typing", history = "chat/" + pair_.room + "/history";
  EXPECT_EQ(alice.publish(typing, std::string(200, 't')), 0);
  EXPECT_TRUE(bob.wait_message(typing));
  // Defaults: typing 256 B, requests 4 KiB, messages 64 KiB.
  for (const auto& [topic, bytes] : std::vector<std::pair<std::string, size_t>>{
           {typing, 257}, {typing, 5 << 20}, {history, 4097}, {messages_topic(pair_.room), 65537}}) {
    EXPECT_EQ(alice.publish(topic, std::string(bytes, 'x')), kNotAuthorized) << topic << " " << bytes;
    const auto report = next_report(alice, pair_.alice);
    EXPECT_EQ(report["code"], "payload_too_large") << topic << " " << bytes;
  }
  EXPECT_FALSE(bob.wait_message(typing, 500ms)) << "an oversized typing payload was delivered";
}

TEST_F(RefusalReports, ReportsAreRateLimitedPerUser) {
  TestClient m(mallory_, kPassword);
  m.connect();
  m.subscribe("users/" + mallory_ + "/errors");
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) m.publish(messages_topic(pair_.room), "x", 0);
  m.publish(messages_topic(pair_.room), "x", 1);  // a round trip: the QoS 0 ones were handled
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto reports = m.collect("users/" + mallory_ + "/errors", 1500ms);
  // Default burst 20, then 2 per second.
  EXPECT_GE(reports.size(), 20u);
  EXPECT_LE(double(reports.size()), 20 + 2 * (seconds + 1.5) + 1);
  // Another user's reports are not affected.
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/errors");
  alice.publish("chat/" + pair_.alice + "_" + pair_.alice + "/messages", "x");
  EXPECT_EQ(next_report(alice, pair_.alice)["code"], "bad_room");
}

TEST_F(RefusalReports, AResponseTopicMustBeTheRequestersOwnPrivateTopic) {
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/errors");
  TestClient watcher(mallory_, kPassword);  // anyone may read alice's presence
  watcher.connect();
  watcher.subscribe("users/" + pair_.alice + "/presence");
  watcher.collect("users/" + pair_.alice + "/presence", 300ms);  // the retained one
  const std::string history = "chat/" + pair_.room + "/history";
  for (const std::string& bad : {"users/" + pair_.alice + "/presence", "users/" + pair_.alice + "/conversations",
                                "users/" + pair_.bob + "/history", "users/" + pair_.alice + "/#",
                                "chat/" + pair_.room + "/messages"}) {
    mqtt::properties props{mqtt::property(mqtt::property::RESPONSE_TOPIC, bad)};
    EXPECT_EQ(alice.publish(history, R"({"request_id":"r1"})", 1, false, props), kNotAuthorized) << bad;
    const auto report = next_report(alice, pair_.alice);
    EXPECT_EQ(report["code"], "bad_response_topic") << bad;
  }
  EXPECT_TRUE(watcher.collect("users/" + pair_.alice + "/presence", 1000ms).empty())
      << "a history page went to everyone who reads alice's presence";
  // Her own private topic is fine (the request reaches the bridge).
  mqtt::properties good{mqtt::property(mqtt::property::RESPONSE_TOPIC, "users/" + pair_.alice + "/rpc/1")};
  EXPECT_EQ(alice.publish(history, R"({"request_id":"r2"})", 1, false, good), 0);
}

}  // namespace mqchat::test
