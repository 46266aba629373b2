// The original system's acceptance list, over MQTT.
#include <set>
#include <thread>

#include "common/room.h"
#include "tests/integration/fixtures.h"

namespace mqchat::test {

class Messaging : public PairTest {};

TEST_F(Messaging, BothOnlineTheMessageArrivesAtOnceInItsStoredForm) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  ASSERT_LT(bob.subscribe(messages_topic(pair_.room)), 0x80);
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  ASSERT_LT(alice.subscribe(messages_topic(pair_.room)), 0x80);

  const auto sent = std::chrono::steady_clock::now();
  ASSERT_EQ(alice.publish(messages_topic(pair_.room),
                          R"({"content":"hello bob","type":"image","metadata":{"url":"a.png"},"client_id":"m-1"})"),
            0);
  const auto got = bob.wait_message(messages_topic(pair_.room), std::chrono::seconds(2));
  ASSERT_TRUE(got);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(1));
  EXPECT_FALSE(got->retained);
  const auto msg = nlohmann::json::parse(got->payload);
  EXPECT_EQ(msg["content"], "hello bob");
  EXPECT_EQ(msg["type"], "image");
  EXPECT_EQ(msg["metadata"]["url"], "a.png");
  EXPECT_EQ(msg["client_id"], "m-1");
  EXPECT_EQ(msg["sender"], pair_.alice);
  EXPECT_EQ(msg["room"], pair_.room);
  EXPECT_EQ(msg["created_at"].get<std::string>().size(), 27u);  // 2026-11-24T18:19:38.123456Z
  // The sender sees the same stored message (✓ sent), matched by client_id.
  const auto echo = alice.wait_message(messages_topic(pair_.room));
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->payload, got->payload);

  const std::string id = msg["id"];
  EXPECT_EQ(wait_for_value("select count(*) from messages where id = '" + id + "'", "1", std::chrono::seconds(5)), "1");
  EXPECT_EQ(query_value("select content || '|' || message_type || '|' || (metadata->>'url') || '|' || client_id || '|' "
                        "|| origin || '|' || mqchat_ts(created_at) from messages where id = '" + id + "'"),
            "hello bob|image|a.png|m-1|mqtt|" + msg["created_at"].get<std::string>());
  EXPECT_EQ(query_value("select room from conversations where id = '" + msg["conversation_id"].get<std::string>() + "'"),
            pair_.room);
}

TEST_F(Messaging, OfflineRecipientWithAPersistentSessionGetsEverythingOnReturn) {
  ClientOptions persistent;
  persistent.clean = false;
  persistent.client_id = pair_.bob + "-phone";
  {
    TestClient bob(pair_.bob, kPassword, persistent);
    bob.connect();
    ASSERT_LT(bob.subscribe(messages_topic(pair_.room), 1), 0x80);
    bob.disconnect();
  }
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(alice.publish(messages_topic(pair_.room), "while away " + std::to_string(i)), 0);

  TestClient bob(pair_.bob, kPassword, persistent);
  bob.connect();
  for (int i = 0; i < 5; ++i) {
    const auto got = bob.wait_message(messages_topic(pair_.room), std::chrono::seconds(3));
    ASSERT_TRUE(got) << i;
    EXPECT_EQ(nlohmann::json::parse(got->payload)["content"], "while away " + std::to_string(i));
  }
  EXPECT_EQ(wait_for_value("select count(*) from messages m join conversations c on c.id = m.conversation_id "
                           "where c.room = '" + pair_.room + "'",
                           "5", std::chrono::seconds(5)),
            "5");
}

TEST_F(Messaging, ConversationsStaySeparate) {
  const auto carol = unique_username("carol");
  create_user(carol, kPassword);
  wait_until_login_works(carol, kPassword);
  const auto room_ac = *make_room(pair_.alice, carol);

  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room));
  TestClient carol_client(carol, kPassword);
  carol_client.connect();
  carol_client.subscribe(messages_topic(room_ac));

  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  ASSERT_EQ(alice.publish(messages_topic(pair_.room), "for bob"), 0);
  ASSERT_EQ(alice.publish(messages_topic(room_ac), "for carol"), 0);

  const auto to_bob = bob.collect(messages_topic(pair_.room), std::chrono::milliseconds(700));
  const auto to_carol = carol_client.collect(messages_topic(room_ac), std::chrono::milliseconds(300));
  ASSERT_EQ(to_bob.size(), 1u);
  ASSERT_EQ(to_carol.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(to_bob[0].payload)["content"], "for bob");
  EXPECT_EQ(nlohmann::json::parse(to_carol[0].payload)["content"], "for carol");
  const std::string count_sql =
      "select count(*) from messages m join conversations c on c.id = m.conversation_id where c.room = '";
  EXPECT_EQ(wait_for_value(count_sql + pair_.room + "'", "1", std::chrono::seconds(5)), "1");
  EXPECT_EQ(wait_for_value(count_sql + room_ac + "'", "1", std::chrono::seconds(5)), "1");
  EXPECT_NE(query_value("select id from conversations where room = '" + pair_.room + "'"),
            query_value("select id from conversations where room = '" + room_ac + "'"));
}

TEST_F(Messaging, ARetryWithTheSameClientIdIsDeliveredAndStoredOnce) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room));
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  for (int qos : {1, 1, 0, 2}) ASSERT_EQ(alice.publish(messages_topic(pair_.room), R"({"content":"once","client_id":"retry-1"})", qos), 0);
  const auto got = bob.collect(messages_topic(pair_.room), std::chrono::milliseconds(1000));
  // QoS 2 resends the stored message itself (same id), so a client's dedup by id drops it.
  std::set<std::string> ids;
  for (const auto& r : got) ids.insert(nlohmann::json::parse(r.payload)["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_LE(got.size(), 2u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(query_value("select count(*) from messages where client_id = 'retry-1' and conversation_id = "
                        "mqchat_conversation_id('" + pair_.room + "')"),
            "1");
}

TEST_F(Messaging, MosquittoCommandLineClientsWork) {
  const std::string port = std::to_string(Stack::mqtt_port());
  const std::string out_file = "/tmp/mqchat-sub-" + pair_.bob + ".out";
  const std::string sub = "timeout 10 mosquitto_sub -h 127.0.0.1 -p " + port + " -u " + pair_.bob + " -P '" +
                          kPassword + "' -t " + messages_topic(pair_.room) + " -C 1 -q 1 > " + out_file + " 2>&1 &";
  ASSERT_EQ(run_command(sub), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string out;
  ASSERT_EQ(run_command("mosquitto_pub -h 127.0.0.1 -p " + port + " -u " + pair_.alice + " -P '" + kPassword +
                            "' -t " + messages_topic(pair_.room) + " -q 1 -m 'hello from the shell' 2>&1",
                        &out),
            0)
      << out;
  std::string received;
  for (int i = 0; i < 50 && received.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    run_command("cat " + out_file, &received);
  }
  ASSERT_FALSE(received.empty());
  EXPECT_EQ(nlohmann::json::parse(received)["content"], "hello from the shell");
  std::remove(out_file.c_str());
}

TEST_F(Messaging, TypingIsDeliveredButNeverStoredOrRetained) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe("chat/" + pair_.room + "/typing");
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  ASSERT_EQ(alice.publish("chat/" + pair_.room + "/typing", "1", 0, /*retain=*/true), 0);
  ASSERT_TRUE(bob.wait_message("chat/" + pair_.room + "/typing"));
  TestClient late(pair_.bob, kPassword);
  late.connect();
  late.subscribe("chat/" + pair_.room + "/typing");
  EXPECT_FALSE(late.wait_message("chat/" + pair_.room + "/typing", std::chrono::milliseconds(500)));
  EXPECT_EQ(count_messages_in_room(pair_.room), 0);
}

TEST_F(Messaging, PresenceFollowsConnections) {
  TestClient watcher(pair_.bob, kPassword);
  watcher.connect();
  const std::string topic = "users/" + pair_.alice + "/presence";
  ASSERT_LT(watcher.subscribe(topic), 0x80);
  // The fixture's login check left a retained "offline" behind: read past it.
  const auto wait_status = [&](const std::string& status) -> nlohmann::json {
    while (auto m = watcher.wait_message(topic, std::chrono::seconds(2))) {
      auto p = nlohmann::json::parse(m->payload);
      if (p["status"] == status) return p;
    }
    return nullptr;
  };
  {
    TestClient alice(pair_.alice, kPassword);
    alice.connect();
    ASSERT_FALSE(wait_status("online").is_null());
    alice.disconnect();
  }
  const auto p = wait_status("offline");
  ASSERT_FALSE(p.is_null());
  EXPECT_EQ(p["since"].get<std::string>().size(), 27u);
  // Retained: a newcomer learns the state at once.
  TestClient newcomer(pair_.bob, kPassword);
  newcomer.connect();
  newcomer.subscribe(topic);
  auto retained = newcomer.wait_message(topic, std::chrono::seconds(2));
  ASSERT_TRUE(retained);
  EXPECT_TRUE(retained->retained);
  EXPECT_EQ(nlohmann::json::parse(retained->payload)["status"], "offline");
}

}  // namespace mqchat::test
