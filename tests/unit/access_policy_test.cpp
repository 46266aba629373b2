#include "plugin/access_policy.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>

using namespace mqchat;

namespace {
const std::set<std::string> kUsers = {"alice", "bob", "carol"};
const UserExists kExists = [](std::string_view n) { return kUsers.count(std::string(n)) > 0; };

bool allowed(std::string_view user, std::string_view topic, int access, bool service = false) {
  return is_allowed(Principal{user, service}, topic, access, kExists);
}
}  // namespace

TEST(AccessPolicy, ParticipantsChatInTheirRoom) {
  for (const char* user : {"alice", "bob"}) {
    EXPECT_TRUE(allowed(user, "chat/alice_bob/messages", kAccessWrite));
    EXPECT_TRUE(allowed(user, "chat/alice_bob/messages", kAccessRead));
    EXPECT_TRUE(allowed(user, "chat/alice_bob/messages", kAccessSubscribe));
    EXPECT_TRUE(allowed(user, "chat/alice_bob/typing", kAccessWrite));
    EXPECT_TRUE(allowed(user, "chat/alice_bob/typing", kAccessRead));
    EXPECT_TRUE(allowed(user, "chat/alice_bob/events", kAccessRead));
    EXPECT_TRUE(allowed(user, "chat/alice_bob/#", kAccessSubscribe));
    EXPECT_TRUE(allowed(user, "chat/alice_bob/+", kAccessSubscribe));
    for (const char* req : {"history", "read", "edit", "delete"}) {
      EXPECT_TRUE(allowed(user, std::string("chat/alice_bob/") + req, kAccessWrite)) << req;
      EXPECT_FALSE(allowed(user, std::string("chat/alice_bob/") + req, kAccessRead)) << req;
      EXPECT_FALSE(allowed(user, std::string("chat/alice_bob/") + req, kAccessSubscribe)) << req;
    }
    EXPECT_FALSE(allowed(user, "chat/alice_bob/events", kAccessWrite));
  }
}

TEST(AccessPolicy, ThirdUserGetsNothingOfTheRoom) {
  for (const char* topic : {"chat/alice_bob/messages", "chat/alice_bob/typing", "chat/alice_bob/events",
                            "chat/alice_bob/history", "chat/alice_bob/#", "chat/alice_bob/+"})
    for (int access : {kAccessRead, kAccessWrite, kAccessSubscribe})
      EXPECT_FALSE(allowed("carol", topic, access)) << topic << " " << access;
}

TEST(AccessPolicy, WildcardsSpanningRoomsOrUsersAreRefused) {
  for (const char* filter : {"#", "+/#", "chat/#", "chat/+/messages", "chat/+/#", "chat/+/+", "users/#",
                             "users/+/presence", "users/+/#", "$SYS/#", "$share/g/chat/alice_bob/messages",
                             "chat/alice_+/messages", "chat/alice_bob/messages/#", "+/alice_bob/messages"})
    EXPECT_FALSE(allowed("alice", filter, kAccessSubscribe)) << filter;
}

TEST(AccessPolicy, RoomsMustBeCanonicalRealAndNotSelf) {
  EXPECT_FALSE(allowed("alice", "chat/bob_alice/messages", kAccessWrite));
  EXPECT_FALSE(allowed("alice", "chat/alice_alice/messages", kAccessWrite));
  EXPECT_FALSE(allowed("alice", "chat/alice_zed/messages", kAccessWrite));  // zed does not exist
  EXPECT_FALSE(allowed("alice", "chat/alice_zed/messages", kAccessSubscribe));
  EXPECT_FALSE(allowed("alice", "chat/alice_zed/#", kAccessSubscribe));
  EXPECT_FALSE(allowed("alice", "chat/alice_bob/unknown", kAccessWrite));
  EXPECT_FALSE(allowed("alice", "chat/alice_bob", kAccessWrite));
}

TEST(AccessPolicy, UserTopics) {
  EXPECT_TRUE(allowed("alice", "users/alice/#", kAccessSubscribe));
  EXPECT_TRUE(allowed("alice", "users/alice/errors", kAccessRead));
  EXPECT_TRUE(allowed("alice", "users/alice/conversations", kAccessSubscribe));
  EXPECT_FALSE(allowed("alice", "users/alice/errors", kAccessWrite));
  EXPECT_FALSE(allowed("alice", "users/alice/presence", kAccessWrite));
  EXPECT_FALSE(allowed("alice", "users/bob/errors", kAccessRead));
  EXPECT_FALSE(allowed("alice", "users/bob/#", kAccessSubscribe));
  EXPECT_FALSE(allowed("alice", "users/bob/history", kAccessSubscribe));
  EXPECT_TRUE(allowed("alice", "users/bob/presence", kAccessSubscribe));
  EXPECT_TRUE(allowed("alice", "users/bob/presence", kAccessRead));
  EXPECT_FALSE(allowed("alice", "users/zed/presence", kAccessSubscribe));
}

TEST(AccessPolicy, ServiceAccountsMayDoAnything) {
  EXPECT_TRUE(allowed("svc:bridge", "$share/b/chat/+/history", kAccessSubscribe, true));
  EXPECT_TRUE(allowed("svc:bridge", "users/alice/presence", kAccessWrite, true));
  EXPECT_TRUE(allowed("svc:bridge", "chat/alice_bob/events", kAccessWrite, true));
  EXPECT_FALSE(allowed("svc:bridge", "users/alice/presence", kAccessWrite, false));
}

TEST(AccessPolicy, UnsubscribeIsAlwaysFine) { EXPECT_TRUE(allowed("carol", "chat/alice_bob/#", kAccessUnsubscribe)); }

TEST(AccessPolicy, PayloadLimitsByTopicKind) {
  MessageLimits l;
  l.max_payload_bytes = 65536;
  l.max_typing_bytes = 256;
  l.max_request_bytes = 4096;
  l.max_other_bytes = 1024;
  EXPECT_EQ(max_publish_bytes("chat/alice_bob/messages", l), 65536u);
  EXPECT_EQ(max_publish_bytes("chat/alice_bob/typing", l), 256u);
  for (const char* req : {"history", "read", "edit", "delete"})
    EXPECT_EQ(max_publish_bytes(std::string("chat/alice_bob/") + req, l), 4096u) << req;
  EXPECT_EQ(max_publish_bytes("chat/alice_bob/events", l), 1024u);
  EXPECT_EQ(max_publish_bytes("anything/else", l), 1024u);
}

TEST(AccessPolicy, EveryWriteRefusalIsExplained) {
  const auto code = [](std::string_view user, std::string_view topic) {
    EXPECT_FALSE(allowed(user, topic, kAccessWrite)) << topic;
    return explain_write_refusal(Principal{user, false}, topic, kExists).code;
  };
  EXPECT_EQ(code("alice", "chat/bob_carol/messages"), "not_participant");
  EXPECT_EQ(code("alice", "chat/alice_alice/messages"), "bad_room");
  EXPECT_EQ(code("alice", "chat/bob_alice/messages"), "bad_room");
  EXPECT_EQ(code("alice", "chat/alice_zed/messages"), "unknown_user");
  EXPECT_EQ(code("alice", "chat/alice_bob/events"), "read_only");
  EXPECT_EQ(code("alice", "chat/alice_bob/other"), "bad_topic");
  EXPECT_EQ(code("alice", "chat/bob_carol/history"), "not_participant");
  EXPECT_EQ(code("alice", "users/alice/errors"), "read_only");
  EXPECT_EQ(code("alice", "$SYS/x"), "forbidden");
  EXPECT_EQ(code("alice", "chat/a_b_c/messages"), "bad_room");
}

// Deliveries are decided without validating the names again (they were when published): whatever
// the topic, only one of the two names in it reads it, and only on the channels that are read.
TEST(AccessPolicy, ADeliveryGoesOnlyToAParticipantWhateverTheTopic) {
  for (const char* topic : {"chat/alice_bob/messages", "chat/alicex_bob/messages", "chat/xalice_bob/messages",
                            "chat/alice/messages", "chat/_alice/messages", "chat/bob_alice_/messages",
                            "chat/alice_bob/messages/x", "chat/alice_bob", "chat/alice_bob/", "chat//messages",
                            "chat/alice_bob/history", "chat/alice_bob/edit"}) {
    const bool expected = std::string_view(topic) == "chat/alice_bob/messages";
    EXPECT_EQ(allowed("alice", topic, kAccessRead), expected) << topic;
  }
  EXPECT_TRUE(allowed("bob", "chat/alice_bob/typing", kAccessRead));
  EXPECT_FALSE(allowed("bo", "chat/alice_bob/typing", kAccessRead));
  EXPECT_FALSE(allowed("alice_bob", "chat/alice_bob/typing", kAccessRead));
}

TEST(AccessPolicy, AWriteCheckHandsOnItsParseOfTheTopic) {
  std::optional<ChatTopic> parsed;
  const std::string topic = "chat/alice_bob/messages";
  ASSERT_TRUE(is_allowed(Principal{"alice", false}, topic, kAccessWrite, kExists, nullptr, &parsed));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->room_name, "alice_bob");
  EXPECT_EQ(parsed->room.first, "alice");
  EXPECT_EQ(parsed->room.second, "bob");
  EXPECT_EQ(parsed->channel, ChatChannel::Messages);
  EXPECT_EQ(parsed->room_name.data(), topic.data() + 5);  // a view into the topic, as parse_chat_topic gives
  std::optional<ChatTopic> none;
  EXPECT_TRUE(is_allowed(Principal{"alice", false}, "users/alice/requests/search", kAccessWrite, kExists, nullptr, &none));
  EXPECT_FALSE(none);  // not a chat topic: nothing to hand on
}
