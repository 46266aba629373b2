// QoS 2 retransmissions are stored once, legitimately repeated messages are never lost, and the
// same client_id in two rooms is two messages (issue 12). A raw socket client really resends the
// PUBLISH with DUP and the same packet id, on the same connection and after a reconnect.
#include <openssl/rand.h>

#include <set>
#include <thread>

#include "common/room.h"
#include "tests/integration/fixtures.h"
#include "tests/integration/raw_mqtt.h"

namespace mqchat::test {

namespace {
constexpr int kPubrec = 5, kPubcomp = 7;

std::string random_suffix() {
  unsigned char b[8];
  RAND_bytes(b, sizeof b);
  std::string s;
  for (unsigned char c : b) s += "0123456789abcdef"[c & 15];
  return s;
}

std::string count_sql(const std::string& room, const std::string& content) {
  return "select count(*) from messages where conversation_id = mqchat_conversation_id('" + room +
         "') and content = '" + content + "'";
}

// Waits for the shipper, then reads how many rows `content` has in `room`.
std::string stored(const std::string& room, const std::string& content, const std::string& expected) {
  return wait_for_value(count_sql(room, content), expected, std::chrono::seconds(5));
}
}  // namespace

class Qos2 : public PairAndMalloryTest {};

TEST_F(Qos2, ADupResendOnTheSameConnectionIsStoredAndDeliveredOnce) {
  for (const std::string& payload : {std::string("dup without client id"),
                                    std::string(R"({"content":"dup with client id","client_id":"q2-1"})")}) {
    const std::string content = payload[0] == '{' ? "dup with client id" : payload;
    TestClient bob(pair_.bob, kPassword);
    bob.connect();
    bob.subscribe(messages_topic(pair_.room), 2);
    RawMqtt alice;
    ASSERT_EQ(alice.connect(pair_.alice, kPassword, "q2-" + random_suffix(), true), 0);
    alice.publish(messages_topic(pair_.room), payload, 2, 10, false);
    ASSERT_TRUE(alice.expect(kPubrec));
    alice.publish(messages_topic(pair_.room), payload, 2, 10, true);  // PUBREC "lost": resent
    ASSERT_TRUE(alice.expect(kPubrec));
    alice.pubrel(10);
    ASSERT_TRUE(alice.expect(kPubcomp));
    EXPECT_EQ(bob.collect(messages_topic(pair_.room), 1500ms).size(), 1u) << payload;
    EXPECT_EQ(stored(pair_.room, content, "1"), "1") << payload;
    // And it stays one: nothing else arrives later.
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(query_value(count_sql(pair_.room, content)), "1") << payload;
  }
}

TEST_F(Qos2, ADupResendAfterAReconnectIsStoredAndDeliveredOnce) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room), 2);
  const std::string id = "q2-" + random_suffix();
  RawMqtt alice;
  ASSERT_EQ(alice.connect(pair_.alice, kPassword, id, /*clean=*/false), 0);
  alice.publish(messages_topic(pair_.room), "across a reconnect", 2, 77, false);
  ASSERT_TRUE(alice.expect(kPubrec));
  alice.close();  // the link drops before alice saw the PUBREC; she resends on reconnect
  ASSERT_EQ(alice.connect(pair_.alice, kPassword, id, /*clean=*/false), 0);
  alice.publish(messages_topic(pair_.room), "across a reconnect", 2, 77, true);
  ASSERT_TRUE(alice.expect(kPubrec));
  alice.pubrel(77);
  ASSERT_TRUE(alice.expect(kPubcomp));
  EXPECT_EQ(bob.collect(messages_topic(pair_.room), 1500ms).size(), 1u);
  EXPECT_EQ(stored(pair_.room, "across a reconnect", "1"), "1");
}

TEST_F(Qos2, RepeatedMessagesAreNeverLost) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room), 2);
  RawMqtt alice;
  ASSERT_EQ(alice.connect(pair_.alice, kPassword, "q2-" + random_suffix(), true), 0);
  // "ok" three times: packet id 1, then 1 again once it is free (not a DUP), then 2.
  for (uint16_t id : {1, 1, 2}) {
    alice.publish(messages_topic(pair_.room), "ok", 2, id, false);
    ASSERT_TRUE(alice.expect(kPubrec));
    alice.pubrel(id);
    ASSERT_TRUE(alice.expect(kPubcomp));
  }
  // Two in flight at once with the same bytes.
  alice.publish(messages_topic(pair_.room), "ok", 2, 3, false);
  alice.publish(messages_topic(pair_.room), "ok", 2, 4, false);
  ASSERT_TRUE(alice.expect(kPubrec));
  ASSERT_TRUE(alice.expect(kPubrec));
  alice.pubrel(3);
  alice.pubrel(4);
  ASSERT_TRUE(alice.expect(kPubcomp));
  ASSERT_TRUE(alice.expect(kPubcomp));
  const auto got = bob.collect(messages_topic(pair_.room), 2000ms);
  std::set<std::string> ids;
  for (const auto& m : got) ids.insert(nlohmann::json::parse(m.payload)["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(stored(pair_.room, "ok", "5"), "5");
}

TEST_F(Qos2, TheSameClientIdInTwoRoomsIsTwoMessages) {
  const std::string other_room = *make_room(pair_.alice, mallory_);
  TestClient bob(pair_.bob, kPassword), mallory(mallory_, kPassword);
  bob.connect();
  mallory.connect();
  bob.subscribe(messages_topic(pair_.room), 2);
  mallory.subscribe(messages_topic(other_room), 2);
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  for (int qos : {2, 1}) {
    const std::string cid = "same-" + std::to_string(qos);
    ASSERT_EQ(alice.publish(messages_topic(pair_.room), R"({"content":"to bob","client_id":")" + cid + "\"}", qos), 0);
    ASSERT_EQ(alice.publish(messages_topic(other_room), R"({"content":"to mallory","client_id":")" + cid + "\"}", qos), 0);
    const auto to_bob = bob.wait_message(messages_topic(pair_.room));
    const auto to_mallory = mallory.wait_message(messages_topic(other_room));
    ASSERT_TRUE(to_bob && to_mallory);
    EXPECT_EQ(nlohmann::json::parse(to_bob->payload)["content"], "to bob");
    EXPECT_EQ(nlohmann::json::parse(to_mallory->payload)["content"], "to mallory");
    EXPECT_EQ(nlohmann::json::parse(to_mallory->payload)["room"], other_room);
  }
  EXPECT_EQ(stored(pair_.room, "to bob", "2"), "2");
  EXPECT_EQ(stored(other_room, "to mallory", "2"), "2");
}

}  // namespace mqchat::test
