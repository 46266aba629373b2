#include "common/room.h"

#include <gtest/gtest.h>

using namespace mqchat;

TEST(Username, AcceptsTheDocumentedAlphabet) {
  EXPECT_TRUE(is_valid_username("alice"));
  EXPECT_TRUE(is_valid_username("a"));
  EXPECT_TRUE(is_valid_username("0day.user-x"));
  EXPECT_TRUE(is_valid_username(std::string(32, 'z')));
}

TEST(Username, RejectsEverythingElse) {
  for (const char* bad : {"", "_a", "a_b", "Alice", "-a", ".a", "a/b", "a+b", "a#b", "a b", "svc:bridge", "é"})
    EXPECT_FALSE(is_valid_username(bad)) << bad;
  EXPECT_FALSE(is_valid_username(std::string(33, 'z')));
  EXPECT_FALSE(is_valid_username(std::string("a\0b", 3)));
}

TEST(Room, ParsesCanonicalRooms) {
  auto room = parse_room("alice_bob");
  ASSERT_TRUE(room);
  EXPECT_EQ(room->first, "alice");
  EXPECT_EQ(room->second, "bob");
  EXPECT_TRUE(room->has("bob"));
  EXPECT_FALSE(room->has("carol"));
  EXPECT_EQ(room->other("alice"), "bob");
}

TEST(Room, RejectsNonCanonicalSelfAndMalformed) {
  for (const char* bad : {"bob_alice", "a_a", "alice", "alice_", "_bob", "a_b_c", "a__b", "Alice_bob", "a_+", "a_#"})
    EXPECT_FALSE(parse_room(bad)) << bad;
}

TEST(Room, UnderscoreFreeNamesKeepRoomsUnambiguous) {
  // "a" + "b_c" and "a_b" + "c" would both spell "a_b_c"; neither pair is constructible.
  EXPECT_FALSE(make_room("a", "b_c"));
  EXPECT_FALSE(make_room("a_b", "c"));
  EXPECT_FALSE(parse_room("a_b_c"));
}

TEST(Room, MakeRoomOrdersByBytes) {
  EXPECT_EQ(make_room("bob", "alice"), "alice_bob");
  EXPECT_EQ(make_room("alice", "bob"), "alice_bob");
  EXPECT_EQ(make_room("b9", "b.a"), "b.a_b9");  // '.' (0x2E) < '9' (0x39)
  EXPECT_FALSE(make_room("alice", "alice"));
}

TEST(ChatTopic, ParsesEveryChannel) {
  for (auto [text, channel] : {std::pair{"messages", ChatChannel::Messages}, {"typing", ChatChannel::Typing},
                               {"history", ChatChannel::History}, {"read", ChatChannel::Read},
                               {"edit", ChatChannel::Edit}, {"delete", ChatChannel::Delete},
                               {"events", ChatChannel::Events}}) {
    const std::string topic = std::string("chat/alice_bob/") + text;  // parse results view into it
    auto t = parse_chat_topic(topic);
    ASSERT_TRUE(t) << text;
    EXPECT_EQ(t->channel, channel);
    EXPECT_EQ(t->room_name, "alice_bob");
    EXPECT_EQ(channel_name(channel), text);
  }
}

TEST(ChatTopic, RejectsWildcardsExtraLevelsAndBadRooms) {
  for (const char* bad : {"chat/#", "chat/+/messages", "chat/alice_bob/#", "chat/alice_bob/+",
                          "chat/alice_bob/messages/x", "chat/bob_alice/messages", "chat/a_a/messages",
                          "chat/alice_bob/unknown", "chat/alice_bob", "chat//messages", "/chat/alice_bob/messages",
                          "$SYS/chat/alice_bob/messages"})
    EXPECT_FALSE(parse_chat_topic(bad)) << bad;
}

TEST(UserTopic, SplitsUserAndRest) {
  auto t = parse_user_topic("users/alice/errors");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->rest, "errors");
  EXPECT_EQ(parse_user_topic("users/alice/#")->rest, "#");
  EXPECT_FALSE(parse_user_topic("users/+/presence"));
  EXPECT_FALSE(parse_user_topic("users/#"));
  EXPECT_FALSE(parse_user_topic("users/alice/"));
  EXPECT_FALSE(parse_user_topic("users/alice"));
}

TEST(Topics, BuildersRoundTrip) {
  EXPECT_EQ(chat_topic("alice_bob", ChatChannel::Events), "chat/alice_bob/events");
  EXPECT_EQ(user_topic("bob", "errors"), "users/bob/errors");
}

TEST(Room, PrivateReplyTopicsAreOnlyTheRequestersOwn) {
  EXPECT_TRUE(is_private_reply_topic("users/alice/history", "alice"));
  EXPECT_TRUE(is_private_reply_topic("users/alice/replies/42", "alice"));
  EXPECT_FALSE(is_private_reply_topic("users/alice/presence", "alice"));         // everyone reads it
  EXPECT_FALSE(is_private_reply_topic("users/alice/presence/x", "alice"));
  EXPECT_FALSE(is_private_reply_topic("users/alice/conversations", "alice"));    // retained state
  EXPECT_FALSE(is_private_reply_topic("users/bob/history", "alice"));
  EXPECT_FALSE(is_private_reply_topic("users/alice/#", "alice"));
  EXPECT_FALSE(is_private_reply_topic("users/alice/a/+", "alice"));
  EXPECT_FALSE(is_private_reply_topic("users/alice//x", "alice"));
  EXPECT_FALSE(is_private_reply_topic("users/alice/x/", "alice"));
  EXPECT_FALSE(is_private_reply_topic("chat/alice_bob/messages", "alice"));
  EXPECT_FALSE(is_private_reply_topic("users/alice", "alice"));
}
