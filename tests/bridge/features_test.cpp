// Replies, reactions, search, archive and mute over MQTT, against the real stack (broker + plugin,
// Postgres, bridge), with the attacks of issue 17: a forged reply target in another conversation,
// a non-member reacting or searching, someone else's request topics.
#include "common/room.h"
#include "tests/bridge/person.h"

namespace mqchat::test {

using nlohmann::json;
using namespace std::chrono_literals;

class Features : public PairAndMalloryTest {
 protected:
  // Publishes on users/<me>/requests/<kind> and returns the reply on users/<me>/<leaf>.
  static json user_request(Person& p, const std::string& kind, const json& body, const std::string& leaf) {
    EXPECT_EQ(p.client.publish("users/" + p.client.username() + "/requests/" + kind, body.dump()), 0);
    auto reply = p.client.wait_message("users/" + p.client.username() + "/" + leaf, 5s);
    EXPECT_TRUE(reply) << "no reply on users/" << p.client.username() << "/" << leaf;
    return reply ? json::parse(reply->payload) : json();
  }
  static json next_error(Person& p, std::chrono::milliseconds timeout = 5s) {
    auto e = p.client.wait_message("users/" + p.client.username() + "/errors", timeout);
    return e ? json::parse(e->payload) : json();
  }
};

TEST_F(Features, ARepliesArrivesLiveWithAQuoteOfItsTarget) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  const json original = alice.send("what time is it?");
  bob.client.wait_message(topic(pair_.room, "messages"), 2s);  // bob's copy of it

  ASSERT_EQ(bob.client.publish(topic(pair_.room, "messages"),
                               json{{"content", "noon"}, {"reply_to", original["id"]}, {"client_id", "r-1"}}.dump()),
            0);
  for (Person* p : {&alice, &bob}) {
    auto got = p->client.wait_message(topic(pair_.room, "messages"), 5s);
    ASSERT_TRUE(got) << p->client.username() << " got no reply";
    const json m = json::parse(got->payload);
    EXPECT_EQ(m["content"], "noon");
    EXPECT_EQ(m["sender"], pair_.bob);
    EXPECT_EQ(m["client_id"], "r-1");
    EXPECT_EQ(m["reply_to"]["id"], original["id"]);
    EXPECT_EQ(m["reply_to"]["sender"], pair_.alice);
    EXPECT_EQ(m["reply_to"]["content"], "what time is it?");
    EXPECT_EQ(m["reply_to"]["deleted"], false);
  }
  // Exactly once: nothing else (an empty or unquoted copy) followed.
  EXPECT_TRUE(alice.client.collect(topic(pair_.room, "messages"), 500ms).empty());
  EXPECT_EQ(query_value("select reply_to from messages where client_id = 'r-1' and conversation_id = "
                        "mqchat_conversation_id('" + pair_.room + "')"),
            original["id"].get<std::string>());

  // The target is deleted: history says so.
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "delete"), json{{"id", original["id"]}}.dump()), 0);
  ASSERT_EQ(alice.event()["event"], "deleted");
  const json page = bob.history(json::object());
  const json& reply = page["messages"].back();
  EXPECT_EQ(reply["content"], "noon");
  EXPECT_EQ(reply["reply_to"]["deleted"], true);
  EXPECT_TRUE(reply["reply_to"]["content"].is_null()) << reply;
}

TEST_F(Features, AForgedReplyTargetIsDroppedAndReportedNeverQuoted) {
  // A message of bob and mallory's conversation: alice cannot see it.
  const auto other_room = *make_room(pair_.bob, mallory_);
  Person mallory(mallory_, other_room);
  const json secret = mallory.send("the secret plan");

  Person alice(pair_.alice, pair_.room);
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "messages"),
                                 json{{"content", "quoting your secret"}, {"reply_to", secret["id"]}, {"client_id", "f-1"}}.dump()),
            0);
  auto got = alice.client.wait_message(topic(pair_.room, "messages"), 5s);
  ASSERT_TRUE(got) << "the message itself is not lost";
  const json m = json::parse(got->payload);
  EXPECT_EQ(m["content"], "quoting your secret");
  EXPECT_FALSE(m.contains("reply_to")) << m;
  EXPECT_EQ(got->payload.find("secret plan"), std::string::npos);
  const json err = next_error(alice);
  EXPECT_EQ(err["code"], "bad_reply_to") << err;
  EXPECT_EQ(err["client_id"], "f-1");
  EXPECT_EQ(err["topic"], topic(pair_.room, "messages"));
  EXPECT_EQ(query_value("select coalesce(reply_to::text, 'none') from messages where client_id = 'f-1' and "
                        "conversation_id = mqchat_conversation_id('" + pair_.room + "')"),
            "none");

  // Not a message id at all: refused by the plugin, nothing stored.
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "messages"),
                                 json{{"content", "x"}, {"reply_to", "nope"}, {"client_id", "f-2"}}.dump()),
            0x87);
  EXPECT_EQ(next_error(alice)["code"], "bad_reply_to");
  EXPECT_EQ(query_value("select count(*) from messages where client_id = 'f-2'"), "0");
}

TEST_F(Features, ReactionsAreLiveCountedAndMembersOnly) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  const json msg = alice.send("react to this");
  bob.client.wait_message(topic(pair_.room, "messages"), 2s);

  ASSERT_EQ(bob.client.publish(topic(pair_.room, "react"), json{{"id", msg["id"]}, {"emoji", "👍"}}.dump()), 0);
  for (Person* p : {&alice, &bob}) {
    const json e = p->event();
    EXPECT_EQ(e["event"], "reaction") << e;
    EXPECT_EQ(e["id"], msg["id"]);
    EXPECT_EQ(e["user"], pair_.bob);
    EXPECT_EQ(e["emoji"], "👍");
    EXPECT_EQ(e["action"], "added");
    EXPECT_EQ(e["reactions"], json::parse(R"([{"emoji":"👍","count":1}])"));
  }
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "react"), json{{"id", msg["id"]}, {"emoji", "👍"}}.dump()), 0);
  EXPECT_EQ(bob.event()["reactions"][0]["count"], 2);
  alice.event();

  // History: counts, and "mine" for whoever asks.
  const json for_bob = bob.history(json::object())["messages"].back();
  EXPECT_EQ(for_bob["reactions"], json::parse(R"([{"emoji":"👍","count":2,"mine":true}])")) << for_bob;
  // Summaries show the last message's reactions.
  const json s = alice.summary_where([&](const json& s) {
    const json last = find_room(s, pair_.room)["last_message"];
    return last.contains("reactions") && last["reactions"][0]["count"] == 2;
  });
  EXPECT_EQ(find_room(s, pair_.room)["last_message"]["reactions"][0]["count"], 2) << s;

  // Removing: an event; removing again: nothing.
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "react"), json{{"id", msg["id"]}, {"emoji", "👍"}, {"remove", true}}.dump()), 0);
  const json removed = alice.event();
  EXPECT_EQ(removed["action"], "removed");
  EXPECT_EQ(removed["reactions"][0]["count"], 1);
  bob.event();
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "react"), json{{"id", msg["id"]}, {"emoji", "👍"}, {"remove", true}}.dump()), 0);
  EXPECT_TRUE(alice.client.collect(topic(pair_.room, "events"), 700ms).empty());

  // Not an emoji: told, no event.
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "react"), json{{"id", msg["id"]}, {"emoji", "<img>"}}.dump()), 0);
  EXPECT_EQ(next_error(bob)["code"], "bad_emoji");

  // A non-member: refused by the broker, nothing reaches the room or the database.
  TestClient mallory(mallory_, kPassword);
  mallory.connect();
  EXPECT_LT(mallory.subscribe("users/" + mallory_ + "/#"), 0x80);
  EXPECT_EQ(mallory.publish(topic(pair_.room, "react"), json{{"id", msg["id"]}, {"emoji", "💩"}}.dump()), 0x87);
  auto err = mallory.wait_message("users/" + mallory_ + "/errors", 3s);
  ASSERT_TRUE(err);
  EXPECT_EQ(json::parse(err->payload)["code"], "not_participant");
  EXPECT_TRUE(alice.client.collect(topic(pair_.room, "events"), 700ms).empty());
  EXPECT_EQ(query_value("select count(*) from message_reactions where emoji = '💩'"), "0");
}

TEST_F(Features, SearchFindsOnlyTheRequestersConversations) {
  Person alice(pair_.alice, pair_.room);
  const std::string word = "zebra" + random_hex();
  alice.send("a " + word + " in Moscow: Привет " + word);
  alice.send("nothing to see");
  alice.send("second " + word);

  const json r = user_request(alice, "search", {{"query", word}, {"request_id", "s1"}, {"limit", 1}}, "search");
  EXPECT_EQ(r["request_id"], "s1");
  ASSERT_EQ(r["results"].size(), 1u) << r;
  EXPECT_EQ(r["results"][0]["content"], "second " + word);  // newest first
  EXPECT_EQ(r["results"][0]["room"], pair_.room);
  EXPECT_NE(r["results"][0]["headline"].get<std::string>().find("<mark>" + word + "</mark>"), std::string::npos);
  ASSERT_TRUE(r["next"].is_string());
  const json page2 = user_request(alice, "search", {{"query", "привет"}, {"before", r["next"]}}, "search");
  ASSERT_EQ(page2["results"].size(), 1u) << page2;
  EXPECT_EQ(page2["results"][0]["content"], "a " + word + " in Moscow: Привет " + word);
  EXPECT_TRUE(page2["next"].is_null());
  // The request itself never comes back to its sender (users/<me>/# is subscribed).
  EXPECT_TRUE(alice.client.collect("users/" + pair_.alice + "/requests/search", 300ms).empty());

  // Mallory: the same words find nothing of alice's; she cannot ask as alice nor read alice's answers.
  Person mallory(mallory_, *make_room(pair_.alice, mallory_));
  EXPECT_TRUE(user_request(mallory, "search", {{"query", word}}, "search")["results"].empty());
  EXPECT_TRUE(user_request(mallory, "search", {{"query", word}, {"room", pair_.room}}, "search")["results"].empty());
  EXPECT_EQ(mallory.client.publish("users/" + pair_.alice + "/requests/search", json{{"query", word}}.dump()), 0x87);
  EXPECT_EQ(next_error(mallory)["code"], "read_only");
  EXPECT_GE(mallory.client.subscribe("users/" + pair_.alice + "/search"), 0x80);

  // A blank query is a bad request.
  EXPECT_EQ(alice.client.publish("users/" + pair_.alice + "/requests/search", json{{"query", "  "}}.dump()), 0);
  EXPECT_EQ(next_error(alice)["code"], "bad_request");
}

TEST_F(Features, ArchivedConversationsLeaveTheSummaryAndComeBackWithNews) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  alice.send("hello");
  alice.summary_where([&](const json& s) { return !find_room(s, pair_.room).is_null(); });

  const json set = alice.request("archive", json{{"request_id", "a1"}}, "settings");
  EXPECT_EQ(set, json({{"room", pair_.room}, {"archived", true}, {"muted", false}, {"request_id", "a1"}}));
  const json without = alice.summary_where([&](const json& s) { return find_room(s, pair_.room).is_null(); });
  EXPECT_TRUE(find_room(without, pair_.room).is_null()) << without;
  const json archived = user_request(alice, "archived", json::object(), "archived");
  ASSERT_EQ(archived["conversations"].size(), 1u) << archived;
  EXPECT_EQ(archived["conversations"][0]["room"], pair_.room);
  // Bob's list is his own.
  EXPECT_FALSE(find_room(bob.summary_where([&](const json& s) { return !find_room(s, pair_.room).is_null(); }), pair_.room).is_null());

  // News brings it back...
  bob.send("are you there?");
  const json back = alice.summary_where([&](const json& s) { return !find_room(s, pair_.room).is_null(); });
  EXPECT_EQ(find_room(back, pair_.room)["last_message"]["content"], "are you there?");
  // ... unless it is muted.
  EXPECT_EQ(alice.request("mute", json::object(), "settings")["muted"], true);
  EXPECT_EQ(alice.request("archive", json{{"archived", true}}, "settings")["archived"], true);
  bob.send("still there?");  // stored: the summaries that follow within ~500 ms must leave it out
  for (const auto& s : alice.client.collect("users/" + pair_.alice + "/conversations", 1500ms))
    EXPECT_TRUE(find_room(json::parse(s.payload), pair_.room).is_null()) << s.payload;
  EXPECT_EQ(user_request(alice, "archived", json::object(), "archived")["conversations"][0]["unread_count"], 2);

  // Mallory cannot archive their conversation.
  TestClient mallory(mallory_, kPassword);
  mallory.connect();
  EXPECT_EQ(mallory.publish(topic(pair_.room, "archive"), "{}"), 0x87);
}

}  // namespace mqchat::test
