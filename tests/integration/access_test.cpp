// The attack list: every way to reach a conversation that is not yours, and every bad message.
#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {
constexpr int kNotAuthorized = 0x87;
}

class Access : public PairAndMalloryTest {};

TEST_F(Access, ThirdUserCannotSubscribeToOrPublishInSomeoneElsesRoom) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  ASSERT_LT(bob.subscribe(messages_topic(pair_.room)), 0x80);

  TestClient mallory(mallory_, kPassword);
  mallory.connect();
  for (const auto& leaf : {"messages", "typing", "events", "history", "#", "+"})
    EXPECT_EQ(mallory.subscribe("chat/" + pair_.room + "/" + leaf), kNotAuthorized) << leaf;
  EXPECT_EQ(mallory.publish(messages_topic(pair_.room), "let me in"), kNotAuthorized);
  EXPECT_EQ(mallory.publish("chat/" + pair_.room + "/typing", "1"), kNotAuthorized);
  EXPECT_EQ(mallory.publish("chat/" + pair_.room + "/history", "{}"), kNotAuthorized);
  EXPECT_FALSE(bob.wait_message(messages_topic(pair_.room), std::chrono::milliseconds(500)));
  EXPECT_EQ(count_messages_in_room(pair_.room), 0);
}

TEST_F(Access, WildcardAndSystemSubscriptionsAreRefused) {
  TestClient mallory(mallory_, kPassword);
  mallory.connect();
  for (const auto& filter : {"#", "chat/#", "chat/+/messages", "chat/+/#", "users/#", "users/+/presence",
                             "users/+/errors", "$SYS/#", "$share/g/chat/+/messages", "+/+/messages"})
    EXPECT_EQ(mallory.subscribe(filter), kNotAuthorized) << filter;
  EXPECT_LT(mallory.subscribe("users/" + mallory_ + "/#"), 0x80);
  EXPECT_LT(mallory.subscribe("users/" + pair_.bob + "/presence"), 0x80);
  EXPECT_EQ(mallory.subscribe("users/" + pair_.bob + "/errors"), kNotAuthorized);
  EXPECT_EQ(mallory.subscribe("users/" + pair_.bob + "/#"), kNotAuthorized);
}

TEST_F(Access, NonCanonicalSelfAndUnknownRoomsAreRefused) {
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  const std::string reversed = pair_.bob + "_" + pair_.alice;
  EXPECT_EQ(alice.publish("chat/" + reversed + "/messages", "hi"), kNotAuthorized);
  EXPECT_EQ(alice.subscribe("chat/" + reversed + "/messages"), kNotAuthorized);
  EXPECT_EQ(alice.publish("chat/" + pair_.alice + "_" + pair_.alice + "/messages", "me"), kNotAuthorized);
  const auto ghost = pair_.alice + "_zz-no-such-user";
  EXPECT_EQ(alice.publish("chat/" + ghost + "/messages", "hello?"), kNotAuthorized);
  EXPECT_EQ(alice.subscribe("chat/" + ghost + "/#"), kNotAuthorized);
  EXPECT_EQ(alice.publish("chat/" + pair_.room + "/messages/extra", "x"), kNotAuthorized);
  EXPECT_EQ(alice.publish("chat/" + pair_.room + "/events", R"({"event":"read"})"), kNotAuthorized);
  EXPECT_EQ(alice.publish("users/" + pair_.bob + "/conversations", "[]"), kNotAuthorized);
  EXPECT_EQ(alice.publish("users/" + pair_.alice + "/presence", R"({"status":"offline"})"), kNotAuthorized);
  EXPECT_EQ(query_value("select count(*) from conversations where room like '%" + pair_.alice + "%'"), "0");
}

TEST_F(Access, SpoofedSenderIsReplacedByTheAuthenticatedUser) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room));
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  ASSERT_EQ(alice.publish(messages_topic(pair_.room),
                          R"({"content":"trust me","sender":")" + pair_.bob + R"(","id":"00000000-0000-0000-0000-000000000000"})"),
            0);
  const auto got = bob.wait_message(messages_topic(pair_.room));
  ASSERT_TRUE(got);
  const auto msg = nlohmann::json::parse(got->payload);
  EXPECT_EQ(msg["sender"], pair_.alice);
  EXPECT_NE(msg["id"], "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(wait_for_value("select p.username from messages m join profiles p on p.id = m.sender_id where m.id = '" +
                               msg["id"].get<std::string>() + "'",
                           pair_.alice, std::chrono::seconds(5)),
            pair_.alice);
}

TEST_F(Access, InvalidMessagesAreRefusedReportedAndNeitherDeliveredNorStored) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room));
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/errors");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(4001, 'a'), "too_long"},
      {"   \n ", "blank"},
      {"", "blank"},
      {"bad \xff utf8", "invalid_utf8"},
      {"{\"content\": ", "bad_json"},
      {R"({"content":"x","type":"video","client_id":"k-1"})", "bad_type"},
      {R"({"content":"x","metadata":"not an object"})", "bad_metadata"},
  };
  for (const auto& [payload, code] : cases) {
    EXPECT_EQ(alice.publish(messages_topic(pair_.room), payload), kNotAuthorized) << code;
    const auto report = alice.wait_message("users/" + pair_.alice + "/errors");
    ASSERT_TRUE(report) << code;
    const auto err = nlohmann::json::parse(report->payload);
    EXPECT_EQ(err["code"], code);
    EXPECT_EQ(err["topic"], messages_topic(pair_.room));
    EXPECT_FALSE(err["reason"].get<std::string>().empty());
    if (code == "bad_type") {
      EXPECT_EQ(err["client_id"], "k-1");
    }
  }
  // 4000 characters of a 3-byte character is fine.
  std::string longest;
  for (int i = 0; i < 4000; ++i) longest += "語";
  EXPECT_EQ(alice.publish(messages_topic(pair_.room), longest), 0);
  const auto delivered = bob.wait_message(messages_topic(pair_.room));
  ASSERT_TRUE(delivered);
  EXPECT_EQ(nlohmann::json::parse(delivered->payload)["content"], longest);
  EXPECT_FALSE(bob.wait_message(messages_topic(pair_.room), std::chrono::milliseconds(300)));
  EXPECT_EQ(wait_for_value("select count(*) from messages m join conversations c on c.id = m.conversation_id "
                           "where c.room = '" + pair_.room + "'",
                           "1", std::chrono::seconds(5)),
            "1");
  EXPECT_EQ(query_value("select max(char_length(content)) from messages m join conversations c on c.id = "
                        "m.conversation_id where c.room = '" + pair_.room + "'"),
            "4000");
}

TEST_F(Access, Mqtt311PublishersAlsoGetTheErrorReport) {
  ClientOptions v311;
  v311.mqtt_version = MQTTVERSION_3_1_1;
  TestClient alice(pair_.alice, kPassword, v311);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/errors");
  alice.publish(messages_topic(pair_.room), "  ");  // 3.1.1 has no reason codes: a plain PUBACK
  const auto report = alice.wait_message("users/" + pair_.alice + "/errors");
  ASSERT_TRUE(report);
  EXPECT_EQ(nlohmann::json::parse(report->payload)["code"], "blank");
}

TEST_F(Access, WillMessagesCannotBypassValidation) {
  // A will on a chat topic would be sent without the MESSAGE callback: it must be refused.
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room));
  const std::string forged = R"({"id":"00000000-0000-0000-0000-000000000001","sender":")" + pair_.bob +
                             R"(","content":"forged"})";
  const std::string cmd = "timeout -s KILL 2 mosquitto_sub -h 127.0.0.1 -p " + std::to_string(Stack::mqtt_port()) +
                          " -u " + pair_.alice + " -P '" + kPassword + "' -t users/" + pair_.alice +
                          "/x --will-topic " + messages_topic(pair_.room) + " --will-payload '" + forged +
                          "' --will-qos 1 -k 1 >/dev/null 2>&1";
  run_command(cmd);  // killed without a DISCONNECT: the broker would send the will
  EXPECT_FALSE(bob.wait_message(messages_topic(pair_.room), std::chrono::seconds(4)));
}

}  // namespace mqchat::test
