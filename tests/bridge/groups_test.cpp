// Group conversations against the real stack (broker + plugin with its group directory, Postgres,
// bridge): created over MQTT and through SQL, chatting, receipts, summaries; and the attacks of
// issue 17: a non-member publishing, subscribing, reacting, searching, reading history; a member
// trying admin operations; a removed member on a subscription made before removal; forged names.
#include "common/room.h"
#include "tests/bridge/person.h"

namespace mqchat::test {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Groups : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped()) return;
    for (auto* name : {&owner_, &bob_, &carol_, &mallory_}) {
      *name = unique_username(name == &mallory_ ? "mallory" : "grp");
      create_user(*name, kPassword);
    }
    for (auto* name : {&owner_, &bob_, &carol_, &mallory_}) wait_until_login_works(*name, kPassword);
  }

  static json user_request(TestClient& c, const std::string& kind, const json& body, const std::string& leaf) {
    EXPECT_EQ(c.publish("users/" + c.username() + "/requests/" + kind, body.dump()), 0);
    auto reply = c.wait_message("users/" + c.username() + "/" + leaf, 5s);
    EXPECT_TRUE(reply) << "no reply on users/" << c.username() << "/" << leaf << " to " << body;
    return reply ? json::parse(reply->payload) : json();
  }
  static json next_error(TestClient& c, std::chrono::milliseconds timeout = 5s) {
    auto e = c.wait_message("users/" + c.username() + "/errors", timeout);
    return e ? json::parse(e->payload) : json();
  }
  // Creates owner_'s group with bob and carol over MQTT; returns its room.
  std::string create_group(TestClient& owner) {
    const json r = user_request(owner, "group", {{"op", "create"}, {"name", "Team " + random_hex()},
                                                 {"users", {bob_, carol_}}, {"request_id", "c1"}},
                                "groups");
    EXPECT_EQ(r["request_id"], "c1") << r;
    EXPECT_EQ(r["op"], "create");
    EXPECT_EQ(r["group"]["members"].size(), 3u) << r;
    return r["group"].value("room", std::string());
  }
  // Subscribes `c` to chat/<room>/# as soon as the plugin knows it is a member; returns how long that took.
  static std::chrono::milliseconds subscribe_when_member(TestClient& c, const std::string& room) {
    const auto start = Clock::now();
    while (Clock::now() - start < 5s) {
      if (c.subscribe("chat/" + room + "/#") < 0x80) break;
      std::this_thread::sleep_for(20ms);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  }

  std::string owner_, bob_, carol_, mallory_;
};

TEST_F(Groups, MembersChatReadAndSeeTheGroupInTheirSummaries) {
  TestClient owner(owner_, kPassword), bob(bob_, kPassword), carol(carol_, kPassword);
  for (TestClient* c : {&owner, &bob, &carol}) {
    c->connect();
    ASSERT_LT(c->subscribe("users/" + c->username() + "/#"), 0x80);
  }
  const std::string room = create_group(owner);
  ASSERT_TRUE(is_group_room(room)) << room;
  for (TestClient* c : {&owner, &bob, &carol})
    EXPECT_LT(subscribe_when_member(*c, room), 1500ms) << "the plugin learns a new group within about a second";

  ASSERT_EQ(owner.publish(topic(room, "messages"), "hello team"), 0);
  json stored;
  for (TestClient* c : {&owner, &bob, &carol}) {
    auto got = c->wait_message(topic(room, "messages"), 5s);
    ASSERT_TRUE(got) << c->username() << " got nothing";
    stored = json::parse(got->payload);
    EXPECT_EQ(stored["content"], "hello team");
    EXPECT_EQ(stored["sender"], owner_);
    EXPECT_EQ(stored["room"], room);
  }
  const std::string id = stored["id"];
  EXPECT_EQ(wait_for_value("select count(*) from messages where id = '" + id + "' and conversation_id = mqchat_conversation_id('" +
                               room + "')",
                           "1", 5s),
            "1")
      << "persisted in the group's conversation";

  // Typing reaches the others.
  ASSERT_EQ(bob.publish(topic(room, "typing"), R"({"typing":true})", 0), 0);
  EXPECT_TRUE(carol.wait_message(topic(room, "typing"), 3s));

  // Carol's summary: the group, its name and size, one unread.
  const auto summary_of = [&](TestClient& c, const std::function<bool(const json&)>& ok) {
    json last;
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      auto s = c.wait_message("users/" + c.username() + "/conversations", 200ms);
      if (!s) continue;
      last = json::parse(s->payload);
      if (ok(find_room(last, room))) break;
    }
    return find_room(last, room);
  };
  const json entry = summary_of(carol, [](const json& e) { return !e.is_null() && e["unread_count"] == 1; });
  EXPECT_EQ(entry["group"], true) << entry;
  EXPECT_EQ(entry["members"], 3);
  EXPECT_EQ(entry["role"], "member");
  EXPECT_EQ(entry["unread_count"], 1);
  EXPECT_EQ(entry["last_message"]["content"], "hello team");
  EXPECT_EQ(entry["name"].get<std::string>().rfind("Team ", 0), 0u);

  // Read receipts: bob reads, everyone gets the event; history says "read by 1" of the 3 members.
  ASSERT_EQ(bob.publish(topic(room, "read"), json{{"message_id", id}}.dump()), 0);
  for (TestClient* c : {&owner, &bob, &carol}) {
    auto e = c->wait_message(topic(room, "events"), 5s);
    ASSERT_TRUE(e);
    EXPECT_EQ(json::parse(e->payload)["event"], "read");
    EXPECT_EQ(json::parse(e->payload)["reader"], bob_);
    EXPECT_EQ(json::parse(e->payload)["read_by"], 1) << e->payload;  // "read by 1 of 2"
    EXPECT_EQ(json::parse(e->payload)["of"], 2) << e->payload;
  }
  ASSERT_EQ(carol.publish(topic(room, "read"), json{{"up_to", id}}.dump()), 0);
  ASSERT_EQ(owner.publish(topic(room, "history"), "{}"), 0);
  auto page = owner.wait_message("users/" + owner_ + "/history", 5s);
  ASSERT_TRUE(page);
  const json h = json::parse(page->payload);
  EXPECT_EQ(h["messages"].back()["read_by"], 2) << h;
  EXPECT_EQ(h["members"], 3) << h;
  EXPECT_EQ(summary_of(carol, [](const json& e) { return !e.is_null() && e["unread_count"] == 0; })["unread_count"], 0);

  // Edits reach the room as events.
  ASSERT_EQ(owner.publish(topic(room, "edit"), json{{"id", id}, {"content", "hello everyone"}}.dump()), 0);
  auto edited = carol.collect(topic(room, "events"), 1500ms);
  bool saw_edit = false;
  for (const auto& e : edited) saw_edit |= json::parse(e.payload)["event"] == "edited";
  EXPECT_TRUE(saw_edit);

  // A message sent through SQL by a member reaches the MQTT members.
  AppSession app(bob_, kPassword);
  app.value("select send_group_message($1, 'from the web')", room);
  auto via_sql = owner.wait_message(topic(room, "messages"), 5s);
  ASSERT_TRUE(via_sql);
  EXPECT_EQ(json::parse(via_sql->payload)["content"], "from the web");
  EXPECT_EQ(json::parse(via_sql->payload)["sender"], bob_);
}

TEST_F(Groups, NonMembersGetNothingAndMembersCannotAdminister) {
  TestClient owner(owner_, kPassword), bob(bob_, kPassword), mallory(mallory_, kPassword);
  for (TestClient* c : {&owner, &bob, &mallory}) {
    c->connect();
    ASSERT_LT(c->subscribe("users/" + c->username() + "/#"), 0x80);
  }
  const std::string room = create_group(owner);
  subscribe_when_member(owner, room);
  subscribe_when_member(bob, room);
  ASSERT_EQ(owner.publish(topic(room, "messages"), "secret plan"), 0);
  auto got = bob.wait_message(topic(room, "messages"), 5s);
  ASSERT_TRUE(got);
  const std::string id = json::parse(got->payload)["id"];
  wait_for_value("select count(*) from messages where id = '" + id + "'", "1", 5s);

  // Mallory: every channel refused by the broker, with the reason.
  for (const char* ch : {"messages", "typing", "history", "read", "react", "edit", "delete", "archive", "mute"}) {
    EXPECT_EQ(mallory.publish(topic(room, ch), json{{"id", id}, {"emoji", "💩"}, {"message_id", id}}.dump()), 0x87) << ch;
    EXPECT_EQ(next_error(mallory)["code"], "not_member") << ch;
  }
  for (const std::string& filter : {"chat/" + room + "/#", "chat/" + room + "/messages", "chat/" + room + "/events",
                                   "chat/" + room + "/+", std::string("chat/+/messages"), std::string("chat/#")})
    EXPECT_GE(mallory.subscribe(filter), 0x80) << filter;
  // Search with the room as filter, and the group's info: nothing.
  EXPECT_TRUE(user_request(mallory, "search", {{"query", "secret"}, {"room", room}}, "search")["results"].empty());
  EXPECT_TRUE(user_request(mallory, "search", {{"query", "secret"}}, "search")["results"].empty());
  EXPECT_EQ(mallory.publish("users/" + mallory_ + "/requests/group", json{{"op", "info"}, {"room", room}}.dump()), 0);
  EXPECT_EQ(next_error(mallory)["code"], "not_found");
  EXPECT_EQ(mallory.publish("users/" + mallory_ + "/requests/group",
                            json{{"op", "add"}, {"room", room}, {"users", {mallory_}}}.dump()),
            0);
  EXPECT_EQ(next_error(mallory)["code"], "not_found");
  // Nothing of hers landed anywhere.
  EXPECT_TRUE(bob.collect(topic(room, "messages"), 500ms).empty());
  EXPECT_EQ(query_value("select count(*) from messages m join profiles p on p.id = m.sender_id where p.username = '" +
                        mallory_ + "'"),
            "0");
  EXPECT_EQ(query_value("select count(*) from message_reactions where emoji = '💩'"), "0");

  // Bob, a member, may not administer.
  for (const json& op : {json{{"op", "rename"}, {"room", room}, {"name", "mine"}},
                         json{{"op", "add"}, {"room", room}, {"users", {mallory_}}},
                         json{{"op", "remove"}, {"room", room}, {"user", carol_}},
                         json{{"op", "transfer"}, {"room", room}, {"user", bob_}},
                         json{{"op", "role"}, {"room", room}, {"user", bob_}, {"role", "admin"}}}) {
    EXPECT_EQ(bob.publish("users/" + bob_ + "/requests/group", op.dump()), 0);
    EXPECT_EQ(next_error(bob)["code"], "forbidden") << op;
  }
  EXPECT_EQ(query_value("select count(*) from conversation_members where conversation_id = mqchat_conversation_id('" +
                        room + "')"),
            "3");
  // The owner may not leave before transferring; over the limit and unknown users are refused.
  EXPECT_EQ(owner.publish("users/" + owner_ + "/requests/group", json{{"op", "leave"}, {"room", room}}.dump()), 0);
  EXPECT_EQ(next_error(owner)["code"], "owner_must_transfer");
  EXPECT_EQ(owner.publish("users/" + owner_ + "/requests/group",
                          json{{"op", "add"}, {"room", room}, {"users", {"nobody-" + random_hex()}}}.dump()),
            0);
  EXPECT_EQ(next_error(owner)["code"], "unknown_user");

  // Forged names: a "pair" containing the group room, a wrong-case group room; and a pair room of
  // two members is still theirs alone.
  for (const std::string& forged : {room + "_" + owner_, owner_ + "_" + room, "g:" + room.substr(2, 15)}) {
    EXPECT_EQ(owner.publish(topic(forged, "messages"), "x"), 0x87) << forged;
    EXPECT_EQ(next_error(owner)["code"], "bad_room") << forged;
    EXPECT_GE(owner.subscribe("chat/" + forged + "/#"), 0x80) << forged;
  }
  const std::string pair_room = *make_room(owner_, carol_);
  EXPECT_GE(bob.subscribe("chat/" + pair_room + "/#"), 0x80);
  EXPECT_EQ(bob.publish(topic(pair_room, "messages"), "x"), 0x87);
}

TEST_F(Groups, ARemovedMemberStopsReceivingOnItsOldSubscriptionWithinASecond) {
  TestClient owner(owner_, kPassword), bob(bob_, kPassword), carol(carol_, kPassword);
  for (TestClient* c : {&owner, &bob, &carol}) {
    c->connect();
    ASSERT_LT(c->subscribe("users/" + c->username() + "/#"), 0x80);
  }
  const std::string room = create_group(owner);
  for (TestClient* c : {&owner, &bob, &carol}) subscribe_when_member(*c, room);  // before the removal
  ASSERT_EQ(owner.publish(topic(room, "messages"), "before"), 0);
  ASSERT_TRUE(carol.wait_message(topic(room, "messages"), 5s)) << "carol receives while a member";
  ASSERT_TRUE(bob.wait_message(topic(room, "messages"), 5s));

  const json r = user_request(owner, "group", {{"op", "remove"}, {"room", room}, {"user", carol_}}, "groups");
  EXPECT_EQ(r["group"]["members"].size(), 2u) << r;
  const auto removed_at = Clock::now();
  // Carol's typing is refused as soon as the plugin's snapshot drops her.
  std::chrono::milliseconds took{0};
  while (Clock::now() - removed_at < 5s) {
    if (carol.publish(topic(room, "typing"), "{}") == 0x87) break;
    std::this_thread::sleep_for(20ms);
  }
  took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - removed_at);
  EXPECT_LT(took, 1500ms) << "the plugin learns a removal within about a second (took " << took.count() << " ms)";

  // Her old subscription delivers nothing more: messages, typing, events.
  carol.collect(topic(room, "typing"), 0ms);
  ASSERT_EQ(owner.publish(topic(room, "messages"), "after"), 0);
  ASSERT_EQ(bob.publish(topic(room, "typing"), "{}", 0), 0);
  auto bob_got = bob.wait_message(topic(room, "messages"), 5s);
  ASSERT_TRUE(bob_got);
  EXPECT_EQ(json::parse(bob_got->payload)["content"], "after");
  for (const auto& m : carol.collect("", 1500ms))
    EXPECT_NE(m.topic.rfind("chat/" + room + "/", 0), 0u) << "carol still received " << m.topic << " " << m.payload;
  // Bob saw the removal as an event.
  bool saw_removal = false;
  for (const auto& e : bob.collect(topic(room, "events"), 500ms)) {
    const json ev = json::parse(e.payload);
    if (ev["event"] == "member_removed" && ev["user"] == carol_ && ev["by"] == owner_ && ev["members"] == 2) saw_removal = true;
  }
  EXPECT_TRUE(saw_removal);
  // Nor can she read history, publish or subscribe again.
  EXPECT_EQ(carol.publish(topic(room, "history"), "{}"), 0x87);
  EXPECT_EQ(carol.publish(topic(room, "messages"), "let me in"), 0x87);
  EXPECT_GE(carol.subscribe("chat/" + room + "/#"), 0x80);
  EXPECT_EQ(query_value("select count(*) from messages where content = 'let me in'"), "0");
}

TEST_F(Groups, OwnershipTransfersAndMembersLeave) {
  TestClient owner(owner_, kPassword), bob(bob_, kPassword);
  for (TestClient* c : {&owner, &bob}) {
    c->connect();
    ASSERT_LT(c->subscribe("users/" + c->username() + "/#"), 0x80);
  }
  // Through SQL this time: the same operations, the same events.
  AppSession app(owner_, kPassword);
  const json g = app.json_value("select create_group('Book club', array[$1, $2])", bob_, carol_);
  const std::string room = g["room"];
  subscribe_when_member(bob, room);
  const json t = user_request(owner, "group", {{"op", "transfer"}, {"room", room}, {"user", bob_}}, "groups");
  EXPECT_EQ(t["group"]["members"][0], json({{"user", bob_}, {"role", "owner"}})) << t;
  bool saw = false;
  for (const auto& e : bob.collect(topic(room, "events"), 1000ms))
    saw |= json::parse(e.payload)["event"] == "owner_changed";
  EXPECT_TRUE(saw);
  const json left = user_request(owner, "group", {{"op", "leave"}, {"room", room}}, "groups");
  EXPECT_EQ(left["group"]["members"].size(), 2u) << left;
  EXPECT_EQ(bob.publish("users/" + bob_ + "/requests/group", json{{"op", "rename"}, {"room", room}, {"name", "Books"}}.dump()), 0);
  EXPECT_EQ(json::parse(bob.wait_message("users/" + bob_ + "/groups", 5s)->payload)["group"]["name"], "Books");
}

}  // namespace mqchat::test
