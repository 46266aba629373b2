// A client id belongs to the user who holds it (issue 12): another user's CONNECT with it is
// refused with a reason, before Mosquitto's takeover could kick the owner or hand over her queued
// messages; the bridge's ids are for service accounts only.

#include <thread>

#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {

ClientOptions with_id(const std::string& id, bool persistent = false) {
  ClientOptions o;
  o.client_id = id;
  o.clean = !persistent;
  return o;
}
}  // namespace

class SessionOwnership : public PairAndMalloryTest {};

TEST_F(SessionOwnership, AnotherUsersConnectWithYourClientIdIsRefusedAndYouStayConnected) {
  const std::string id = "phone-" + random_hex();
  TestClient alice(pair_.alice, kPassword, with_id(id));
  alice.connect();
  alice.subscribe(messages_topic(pair_.room));
  TestClient mallory_errors(mallory_, kPassword);
  mallory_errors.connect();
  mallory_errors.subscribe("users/" + mallory_ + "/errors");

  for (int version : {MQTTVERSION_5, MQTTVERSION_3_1_1}) {
    ClientOptions o = with_id(id);
    o.mqtt_version = version;
    TestClient thief(mallory_, kPassword, o);
    EXPECT_FALSE(thief.try_connect()) << "mallory took alice's client id (MQTT " << version << ")";
    const auto report = mallory_errors.wait_message("users/" + mallory_ + "/errors");
    ASSERT_TRUE(report);
    const auto err = nlohmann::json::parse(report->payload);
    EXPECT_EQ(err["code"], "client_id_taken");
    EXPECT_EQ(err["reason"].get<std::string>().find(pair_.alice), std::string::npos) << "names the owner";
  }
  // Alice was never kicked: she still receives.
  EXPECT_TRUE(alice.connected());
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  ASSERT_EQ(bob.publish(messages_topic(pair_.room), "still yours"), 0);
  EXPECT_TRUE(alice.wait_message(messages_topic(pair_.room)));
  // Her own reconnect with it works.
  alice.disconnect();
  TestClient again(pair_.alice, kPassword, with_id(id));
  EXPECT_TRUE(again.try_connect());
}

TEST_F(SessionOwnership, QueuedOfflineMessagesStayTheOwners) {
  const std::string id = "laptop-" + random_hex();
  {
    TestClient alice(pair_.alice, kPassword, with_id(id, true));
    alice.connect();
    alice.subscribe(messages_topic(pair_.room), 1);
    alice.disconnect();
  }
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  ASSERT_EQ(bob.publish(messages_topic(pair_.room), "while you were away"), 0);
  TestClient thief(mallory_, kPassword, with_id(id, true));
  EXPECT_FALSE(thief.try_connect());
  TestClient alice(pair_.alice, kPassword, with_id(id, true));
  alice.connect();
  const auto queued = alice.wait_message(messages_topic(pair_.room));
  ASSERT_TRUE(queued) << "the queued message was destroyed";
  EXPECT_EQ(nlohmann::json::parse(queued->payload)["content"], "while you were away");
}

TEST_F(SessionOwnership, TheBridgesClientIdsAreForServiceAccountsOnly) {
  TestClient m(mallory_, kPassword);
  m.connect();
  m.subscribe("users/" + mallory_ + "/errors");
  for (const std::string id : {"mqchat-bridge-1", "mqchat-bridge-2", "mqchat-bridge"}) {
    TestClient thief(mallory_, kPassword, with_id(id, true));
    EXPECT_FALSE(thief.try_connect()) << id;
    const auto report = m.wait_message("users/" + mallory_ + "/errors");
    ASSERT_TRUE(report) << id;
    EXPECT_EQ(nlohmann::json::parse(report->payload)["code"], "client_id_reserved") << id;
  }
  // The bridge was not kicked: a history request is still answered at once.
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/history");
  ASSERT_EQ(alice.publish("chat/" + pair_.room + "/history", R"({"request_id":"after-attack"})"), 0);
  const auto reply = alice.wait_message("users/" + pair_.alice + "/history", 5s);
  ASSERT_TRUE(reply) << "the bridge did not answer";
  EXPECT_EQ(nlohmann::json::parse(reply->payload)["request_id"], "after-attack");
}

}  // namespace mqchat::test
