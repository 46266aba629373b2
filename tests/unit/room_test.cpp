#include "common/room.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

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

TEST(Username, EveryByteAtEveryPlaceIsJudgedAlike) {
  // Names are checked eight bytes at a time, the tail byte by byte: each byte value in each place
  // of names of several lengths must get the answer of the plain rule.
  const auto allowed = [](unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'; };
  for (const size_t length : {2u, 7u, 8u, 9u, 16u, 17u, 31u, 32u}) {
    for (size_t at = 1; at < length; ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string name(length, 'a');
        name[at] = static_cast<char>(c);
        EXPECT_EQ(is_valid_username(name), allowed(static_cast<unsigned char>(c))) << length << " " << at << " " << c;
      }
    }
  }
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

TEST(Room, OnePassParseAgreesWithTheDefinition) {
  // The definition: split at the first '_', both sides valid usernames, the first smaller.
  const auto by_definition = [](std::string_view name) {
    const auto sep = name.find('_');
    if (sep == std::string_view::npos) return false;
    const auto a = name.substr(0, sep), b = name.substr(sep + 1);
    return is_valid_username(a) && is_valid_username(b) && a < b;
  };
  std::vector<std::string> names = {"", "_", "a_", "_b", "a_b", "b_a", "a_a", "a__b", "a_b_c", std::string(32, 'a') + "_b",
                                    std::string(33, 'a') + "_b", "a_" + std::string(32, 'b'), "a_" + std::string(33, 'b')};
  // Short and long rooms: the bytes are read eight at a time, the rest one by one.
  for (const std::string base : {"alice_bob", "0.a-_z9", "bench-r0_bench-s0", "a_bcdefghijklmnop", "abcdefghij_kz"}) {
    for (size_t at = 0; at < base.size(); ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string name = base;
        name[at] = static_cast<char>(c);
        names.push_back(name);
      }
    }
  }
  for (const auto& name : names) {
    const auto room = parse_room(name);
    ASSERT_EQ(room.has_value(), by_definition(name)) << name;
    if (room) {
      EXPECT_EQ(std::string(room->first) + "_" + std::string(room->second), name);
    }
  }
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

TEST(ChatTopic, OnePassParseAgreesWithTheDefinition) {
  // The definition: "chat/", the room up to the first '/', a pair room by parse_room's definition
  // or a group room, then a known channel as the rest.
  const auto room_by_definition = [](std::string_view name) {
    const auto sep = name.find('_');
    if (sep == std::string_view::npos) return false;
    const auto a = name.substr(0, sep), b = name.substr(sep + 1);
    return is_valid_username(a) && is_valid_username(b) && a < b;
  };
  const auto by_definition = [&](std::string_view topic) -> std::optional<std::pair<std::string, ChatChannel>> {
    if (topic.substr(0, 5) != "chat/") return std::nullopt;
    topic.remove_prefix(5);
    const auto slash = topic.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto room = topic.substr(0, slash), channel = topic.substr(slash + 1);
    if (!room_by_definition(room) && !is_group_room(room)) return std::nullopt;
    for (auto c : {ChatChannel::Messages, ChatChannel::Typing, ChatChannel::History, ChatChannel::Read,
                   ChatChannel::Edit, ChatChannel::Delete, ChatChannel::Events, ChatChannel::React,
                   ChatChannel::Archive, ChatChannel::Mute})
      if (channel_name(c) == channel) return std::pair{std::string(room), c};
    return std::nullopt;
  };
  std::vector<std::string> topics = {"", "chat", "chat/", "chat//", "chat/_/messages", "chat/a_/messages",
                                     "chat/_b/messages", "chat/a_b/messages", "chat/a_b/", "chat/a_b",
                                     "chat/a_b_c/messages", "chat/a__b/typing", "chat/g:0123456789abcdef/messages",
                                     "chat/g:0123456789abcdeF/messages", "chat/" + std::string(32, 'a') + "_b/read",
                                     "chat/" + std::string(33, 'a') + "_b/read", "chat/a_" + std::string(32, 'b') + "/edit",
                                     "chat/a_" + std::string(33, 'b') + "/edit"};
  // Every byte value at every place: the room is read eight bytes at a time up to its '/'.
  for (const std::string base : {"chat/alice_bob/messages", "chat/0.a-_z9/typing", "chat/bench-r0_bench-s0/messages",
                                 "chat/a_bcdefghijklmnop/events", "chat/abcdefghij_kz/mute", "chat/a_b/read",
                                 "chat/ab_cdefgh/delete", "chat/abcdefg_h/react", "chat/g:00000000000000ff/archive"}) {
    for (size_t at = 0; at < base.size(); ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string topic = base;
        topic[at] = static_cast<char>(c);
        topics.push_back(topic);
      }
    }
  }
  for (const auto& topic : topics) {
    const auto t = parse_chat_topic(topic);
    const auto expected = by_definition(topic);
    ASSERT_EQ(t.has_value(), expected.has_value()) << topic;
    if (!t) continue;
    EXPECT_EQ(t->room_name, expected->first) << topic;
    EXPECT_EQ(t->channel, expected->second) << topic;
    EXPECT_EQ(t->group, is_group_room(t->room_name)) << topic;
    if (!t->group) {
      EXPECT_EQ(std::string(t->room.first) + "_" + std::string(t->room.second), t->room_name) << topic;
    }
  }
}
