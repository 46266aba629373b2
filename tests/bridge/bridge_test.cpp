// The bridge against the real stack: history, receipts, edits, deletions, summaries, SQL fan-out,
// the offline story end to end, attacks, and a bridge killed mid-traffic.
#include <iostream>
#include <set>
#include <thread>

#include "common/room.h"
#include "tests/bridge/person.h"

namespace mqchat::test {

using nlohmann::json;
using namespace std::chrono_literals;


class Bridge : public PairTest {};

TEST_F(Bridge, TheOfflineStoryEndToEnd) {
  {
    Person alice(pair_.alice, pair_.room);
    for (int i = 0; i < 120; ++i)
      ASSERT_EQ(alice.client.publish(topic(pair_.room, "messages"), "missed " + std::to_string(i)), 0);
  }
  // Bob was offline; he connects with a clean session and reads his retained summary.
  Person bob(pair_.bob, pair_.room);
  const json summary = bob.summary_where([&](const json& s) { return find_room(s, pair_.room)["unread_count"] == 120; });
  const json entry = find_room(summary, pair_.room);
  ASSERT_EQ(entry["unread_count"], 120) << summary;
  EXPECT_EQ(entry["with"], pair_.alice);
  EXPECT_EQ(entry["last_message"]["content"], "missed 119");

  // Pages back: 50 + 50 + 20, oldest first within a page, no gap, no duplicate.
  std::vector<std::string> contents;
  std::set<std::string> ids;
  json page = bob.history({{"request_id", "p1"}});
  EXPECT_EQ(page["request_id"], "p1");
  EXPECT_EQ(page["room"], pair_.room);
  std::vector<size_t> sizes;
  for (int n = 0; n < 3; ++n) {
    sizes.push_back(page["messages"].size());
    std::vector<std::string> batch;
    for (const auto& m : page["messages"]) {
      batch.push_back(m["content"]);
      EXPECT_TRUE(ids.insert(m["id"].get<std::string>()).second) << "duplicate " << m;
      EXPECT_TRUE(m["read_at"].is_null());
      EXPECT_EQ(m["is_edited"], false);
    }
    contents.insert(contents.begin(), batch.begin(), batch.end());
    if (!page["has_more"].get<bool>()) break;
    page = bob.history({{"before", page["messages"][0]["id"]}});
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{50, 50, 20}));
  EXPECT_FALSE(page["has_more"].get<bool>());
  ASSERT_EQ(contents.size(), 120u);
  for (int i = 0; i < 120; ++i) EXPECT_EQ(contents[static_cast<size_t>(i)], "missed " + std::to_string(i));

  // Bob marks everything read; alice (back online) gets the receipt; bob's unread count drops to 0.
  Person alice(pair_.alice, pair_.room);
  const std::string last_id = *ids.rbegin();
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "read"), json{{"up_to", last_id}}.dump()), 0);
  const auto receipt = alice.client.wait_message(topic(pair_.room, "events"));
  ASSERT_TRUE(receipt);
  const json r = json::parse(receipt->payload);
  EXPECT_EQ(r["event"], "read");
  EXPECT_EQ(r["reader"], pair_.bob);
  EXPECT_EQ(r["up_to"], last_id);
  EXPECT_EQ(r["read_at"].get<std::string>().size(), 27u);
  EXPECT_EQ(find_room(bob.summary_where([&](const json& s) { return find_room(s, pair_.room)["unread_count"] == 0; }),
                      pair_.room)["unread_count"],
            0);
  EXPECT_EQ(query_value("select count(*) from message_read_status s join messages m on m.id = s.message_id "
                        "where m.conversation_id = mqchat_conversation_id('" + pair_.room + "')"),
            "120");
  // Alice's history now shows her messages as read.
  EXPECT_FALSE(alice.history({{"limit", 1}})["messages"][0]["read_at"].is_null());
}

TEST_F(Bridge, HistoryPagesForwardAndAnswersOnTheResponseTopicWithCorrelationData) {
  Person alice(pair_.alice, pair_.room);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(alice.send("m" + std::to_string(i))["id"]);
  json page = alice.history({{"after", ids[1]}, {"limit", 2}});
  ASSERT_EQ(page["messages"].size(), 2u);
  EXPECT_EQ(page["messages"][0]["content"], "m2");
  EXPECT_EQ(page["messages"][1]["content"], "m3");
  EXPECT_TRUE(page["has_more"].get<bool>());

  mqtt::properties props{mqtt::property(mqtt::property::RESPONSE_TOPIC, "users/" + pair_.alice + "/rpc/7"),
                         mqtt::property(mqtt::property::CORRELATION_DATA, std::string("corr-7"))};
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "history"), R"({"limit":1})", 1, false, props), 0);
  const auto reply = alice.client.wait_message("users/" + pair_.alice + "/rpc/7");
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->payload)["messages"][0]["content"], "m4");
  ASSERT_TRUE(reply->properties.contains(mqtt::property::CORRELATION_DATA));
  EXPECT_EQ(mqtt::get<std::string>(reply->properties, mqtt::property::CORRELATION_DATA), "corr-7");
}

TEST_F(Bridge, EditsAndDeletesOwnMessagesOnly) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  const std::string id = alice.send("helo")["id"];
  bob.client.collect(topic(pair_.room, "messages"), 100ms);

  ASSERT_EQ(alice.client.publish(topic(pair_.room, "edit"), json{{"id", id}, {"content", "hello"}}.dump()), 0);
  json e = bob.event();
  EXPECT_EQ(e["event"], "edited");
  EXPECT_EQ(e["id"], id);
  EXPECT_EQ(e["content"], "hello");
  EXPECT_EQ(e["edited_at"].get<std::string>().size(), 27u);

  // Same validation as new messages.
  json err = alice.request("edit", {{"id", id}, {"content", std::string(4001, 'x')}, {"request_id", "e1"}}, "errors");
  EXPECT_EQ(err["code"], "too_long");
  EXPECT_EQ(err["request_id"], "e1");
  // Bob may not edit or delete alice's message.
  err = bob.request("edit", {{"id", id}, {"content", "pwned"}}, "errors");
  EXPECT_EQ(err["code"], "forbidden");
  err = bob.request("delete", {{"id", id}}, "errors");
  EXPECT_EQ(err["code"], "forbidden");
  EXPECT_EQ(query_value("select content || '|' || is_edited || '|' || (deleted_at is null) from messages where id = '" +
                        id + "'"),
            "hello|true|true");

  ASSERT_EQ(alice.client.publish(topic(pair_.room, "delete"), json{{"id", id}}.dump()), 0);
  e = bob.event();
  EXPECT_EQ(e["event"], "deleted");
  EXPECT_EQ(e["id"], id);
  const json page = bob.history({});
  ASSERT_EQ(page["messages"].size(), 1u);
  EXPECT_TRUE(page["messages"][0]["content"].is_null()) << "a deleted message's content is not served";
  EXPECT_EQ(page["messages"][0]["deleted"], true);
  err = alice.request("edit", {{"id", id}, {"content", "again"}}, "errors");
  EXPECT_EQ(err["code"], "deleted");
}

TEST_F(Bridge, ReadEditDeleteRightAfterSendingAreNotRefused) {
  // The message is acknowledged (and echoed) before the shipper has committed it to Postgres; the
  // requests that follow at once must wait for it rather than fail.
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(alice.client.publish(topic(pair_.room, "messages"), "quick " + std::to_string(i)), 0);
    const auto echo = bob.client.wait_message(topic(pair_.room, "messages"));
    ASSERT_TRUE(echo);
    const std::string id = json::parse(echo->payload)["id"];
    ASSERT_EQ(bob.client.publish(topic(pair_.room, "read"), json{{"message_id", id}}.dump()), 0);
    ASSERT_EQ(alice.client.publish(topic(pair_.room, "edit"), json{{"id", id}, {"content", "edited"}}.dump()), 0);
    ASSERT_EQ(alice.client.publish(topic(pair_.room, "delete"), json{{"id", id}}.dump()), 0);
    std::vector<std::string> kinds;
    for (int k = 0; k < 3; ++k) kinds.push_back(alice.event()["event"].get<std::string>());
    EXPECT_EQ(kinds, (std::vector<std::string>{"read", "edited", "deleted"})) << "message " << i;
  }
  EXPECT_TRUE(alice.client.collect("users/" + pair_.alice + "/errors", 200ms).empty());
  EXPECT_EQ(query_value("select count(*) from messages where deleted_at is not null and is_edited and "
                        "conversation_id = mqchat_conversation_id('" + pair_.room + "')"),
            "20");
}

TEST_F(Bridge, AMessageThatNeverArrivesIsRefusedAfterAShortWait) {
  Person alice(pair_.alice, pair_.room);
  alice.send("exists");
  // A well-formed, recent UUIDv7 that is no message.
  const std::string ghost = query_value("select uuidv7()");
  const auto t0 = std::chrono::steady_clock::now();
  const json err = alice.request("edit", {{"id", ghost}, {"content", "x"}}, "errors");
  EXPECT_EQ(err["code"], "not_found");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 6s);
}

TEST_F(Bridge, SummariesAreRetainedCurrentAndCoalesced) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  const auto t0 = std::chrono::steady_clock::now();
  alice.send("first");
  json s = bob.summary_where([&](const json& s) { return find_room(s, pair_.room)["unread_count"] == 1; });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms) << "summary within 500 ms of the message (+ slack)";
  EXPECT_EQ(find_room(s, pair_.room)["last_message"]["content"], "first");

  // A burst of 2000 messages: the summary follows, recomputed a handful of times, not 2000.
  bob.client.collect("users/" + pair_.bob + "/conversations", 300ms);
  for (int i = 0; i < 2000; ++i)
    ASSERT_EQ(alice.client.publish(topic(pair_.room, "messages"), "burst " + std::to_string(i)), 0);
  int updates = 0;
  json last;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = bob.client.wait_message("users/" + pair_.bob + "/conversations", 500ms);
    if (!m) continue;
    ++updates;
    last = json::parse(m->payload);
    if (find_room(last, pair_.room)["unread_count"] == 2001) break;
  }
  EXPECT_EQ(find_room(last, pair_.room)["unread_count"], 2001);
  EXPECT_EQ(find_room(last, pair_.room)["last_message"]["content"], "burst 1999");
  EXPECT_LT(updates, 200) << "summary updates were not coalesced";
  std::cerr << "[summaries] 2000 messages -> " << updates << " summary updates\n";

  // A late subscriber gets the retained summary at once.
  TestClient late(pair_.bob, kPassword);
  late.connect();
  late.subscribe("users/" + pair_.bob + "/conversations");
  const auto retained = late.wait_message("users/" + pair_.bob + "/conversations", 2s);
  ASSERT_TRUE(retained);
  EXPECT_TRUE(retained->retained);
}

TEST_F(Bridge, MessagesSentThroughSqlArePublishedLiveExactlyOnce) {
  Person bob(pair_.bob, pair_.room);
  AppSession web_alice(pair_.alice, kPassword);
  const json sent =
      web_alice.json_value("select send_message($1, 'from a web backend', 'text', '{}', 'web-1')::text", pair_.bob);
  const auto t0 = std::chrono::steady_clock::now();
  const auto got = bob.client.wait_message(topic(pair_.room, "messages"), 3s);
  ASSERT_TRUE(got);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  const json m = json::parse(got->payload);
  EXPECT_EQ(m, sent) << "live subscribers get what send_message returned";
  EXPECT_EQ(m["sender"], pair_.alice);
  EXPECT_EQ(m["content"], "from a web backend");
  EXPECT_EQ(m["client_id"], "web-1");
  // Exactly once; and messages that came in over MQTT are not published a second time.
  EXPECT_TRUE(bob.client.collect(topic(pair_.room, "messages"), 1500ms).empty());
  Person alice(pair_.alice, pair_.room);
  alice.send("over mqtt");
  EXPECT_EQ(bob.client.collect(topic(pair_.room, "messages"), 1500ms).size(), 1u);
  EXPECT_EQ(query_value("select count(*) from mqchat_outbox where room = '" + pair_.room + "'"), "0");
}

TEST_F(Bridge, AttacksAreRefused) {
  Person alice(pair_.alice, pair_.room);
  const std::string id = alice.send("private")["id"];
  const std::string mallory = unique_username("mallory");
  create_user(mallory, kPassword);
  wait_until_login_works(mallory, kPassword);
  TestClient m(mallory, kPassword);
  m.connect();
  m.subscribe("users/" + mallory + "/#");
  // Another room's requests: the plugin refuses the publish and says why; nothing else comes back.
  for (const char* channel : {"history", "read", "edit", "delete"}) {
    EXPECT_EQ(m.publish(topic(pair_.room, channel), json{{"id", id}, {"up_to", id}, {"content", "x"}}.dump()), 0x87)
        << channel;
    const auto refused = m.wait_message("users/" + mallory + "/errors");
    ASSERT_TRUE(refused) << channel;
    EXPECT_EQ(json::parse(refused->payload)["code"], "not_participant") << channel;
  }
  // A room of mallory's own with alice, naming alice's message of the other room: not found there.
  const auto own_room = *make_room(mallory, pair_.alice);
  ASSERT_EQ(m.publish(topic(own_room, "messages"), "hi alice"), 0);
  ASSERT_EQ(m.publish(topic(own_room, "delete"), json{{"id", id}, {"request_id", "x1"}}.dump()), 0);
  auto err = m.wait_message("users/" + mallory + "/errors", 8s);
  ASSERT_TRUE(err);
  EXPECT_EQ(json::parse(err->payload)["code"], "not_found");
  ASSERT_EQ(m.publish(topic(own_room, "read"), json{{"up_to", id}}.dump()), 0);
  err = m.wait_message("users/" + mallory + "/errors", 8s);
  ASSERT_TRUE(err);
  EXPECT_EQ(json::parse(err->payload)["code"], "not_found");
  // A forged requester in the payload is overwritten: the answer goes to the real requester.
  ASSERT_EQ(m.publish(topic(own_room, "history"), json{{"requester", pair_.alice}, {"request_id", "f"}}.dump()), 0);
  const auto reply = m.wait_message("users/" + mallory + "/history");
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->payload)["request_id"], "f");
  EXPECT_TRUE(alice.client.collect("users/" + pair_.alice + "/history", 300ms).empty());
  // A response topic under another user is refused, and nothing is published there.
  mqtt::properties props{mqtt::property(mqtt::property::RESPONSE_TOPIC, "users/" + pair_.alice + "/history")};
  ASSERT_EQ(m.publish(topic(own_room, "history"), "{}", 1, false, props), 0x87);  // the plugin refuses it
  err = m.wait_message("users/" + mallory + "/errors");
  ASSERT_TRUE(err);
  EXPECT_EQ(json::parse(err->payload)["code"], "bad_response_topic");
  EXPECT_TRUE(alice.client.collect("users/" + pair_.alice + "/history", 300ms).empty());
  EXPECT_EQ(query_value("select content || '|' || (deleted_at is null) from messages where id = '" + id + "'"),
            "private|true");
}

TEST_F(Bridge, KilledAndRestartedMidTrafficLosesNoRequestAndRepeatsNoEffect) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  const std::string id = alice.send("to be edited")["id"];
  ASSERT_FALSE(alice.history({})["messages"].empty());

  Stack::svc("kill", "bridge");
  // Requests made while no bridge runs wait in its persistent session.
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(alice.client.publish(topic(pair_.room, "history"), json{{"request_id", "while-down-" + std::to_string(i)}}.dump()),
              0);
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "edit"), json{{"id", id}, {"content", "edited while down"}}.dump()), 0);
  std::this_thread::sleep_for(500ms);
  Stack::svc("start", "bridge");

  std::set<std::string> answered;
  for (int i = 0; i < 3; ++i) {
    const auto r = alice.client.wait_message("users/" + pair_.alice + "/history", 10s);
    ASSERT_TRUE(r) << "a request made while the bridge was down was lost";
    answered.insert(json::parse(r->payload)["request_id"].get<std::string>());
  }
  EXPECT_EQ(answered, (std::set<std::string>{"while-down-0", "while-down-1", "while-down-2"}));
  const json e = bob.event(10s);
  EXPECT_EQ(e["event"], "edited");
  EXPECT_EQ(e["content"], "edited while down");
  // No duplicate side effect: one edit event, one stored edit.
  EXPECT_TRUE(bob.client.collect(topic(pair_.room, "events"), 1s).empty());
  EXPECT_EQ(query_value("select content from messages where id = '" + id + "'"), "edited while down");
  // And it serves new requests as before.
  EXPECT_EQ(alice.history({{"limit", 1}})["messages"][0]["content"], "edited while down");
}

// Mosquitto 2.0.11 does not keep shared subscriptions across a restart (persist__subs_save writes a
// topic's plain subscribers only), so the bridge's persistent session comes back without its
// $share subscriptions: a request published before the bridge has connected and subscribed again
// reaches nobody and is never answered (while the broker merely runs without the bridge, such
// requests wait in its session: KilledAndRestartedMidTraffic…). Not fixable in the bridge; what a
// client does (docs/PROTOCOL.md) is ask again when no answer comes, and that must work within
// seconds, with every request answered afterwards.
TEST_F(Bridge, ARequestLostInABrokerRestartIsAnsweredWhenAskedAgain) {
  Stack::svc("stop", "bridge");
  Stack::svc("restart", "broker");
  const auto back = std::chrono::steady_clock::now();
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  ASSERT_LT(alice.subscribe("users/" + pair_.alice + "/history"), 0x80);
  ASSERT_EQ(alice.publish(topic(pair_.room, "history"), json{{"request_id", "lost"}}.dump()), 0);  // the broker took it
  Stack::svc("start", "bridge");
  // As a client should: no answer within a short while, ask again (a new request id each time).
  std::set<std::string> answered;
  for (int i = 0; answered.empty() && std::chrono::steady_clock::now() - back < 20s; ++i) {
    ASSERT_EQ(alice.publish(topic(pair_.room, "history"), json{{"request_id", "retry-" + std::to_string(i)}}.dump()), 0);
    if (const auto m = alice.wait_message("users/" + pair_.alice + "/history", 250ms))
      answered.insert(json::parse(m->payload)["request_id"].get<std::string>());
  }
  ASSERT_FALSE(answered.empty()) << "no request answered within 20 s of the broker's restart";
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - back);
  std::cout << "first answer " << waited.count() << " ms after the broker was back (bridge started after it)\n";
  for (const auto& m : alice.collect("users/" + pair_.alice + "/history", 2s))  // late answers to earlier attempts
    answered.insert(json::parse(m.payload)["request_id"].get<std::string>());
  EXPECT_EQ(answered.count("lost"), 0u)
      << "Mosquitto kept a request for the bridge's shared subscription across its restart: docs/PROTOCOL.md says "
         "it is lost; update it";
  // Once it answers, it answers every request.
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(alice.publish(topic(pair_.room, "history"), json{{"request_id", "after-" + std::to_string(i)}}.dump()), 0);
  std::set<std::string> after;
  for (const auto& m : alice.collect("users/" + pair_.alice + "/history", 3s))
    after.insert(json::parse(m.payload)["request_id"].get<std::string>());
  EXPECT_EQ(after, (std::set<std::string>{"after-0", "after-1", "after-2", "after-3", "after-4"}));
}

}  // namespace mqchat::test
