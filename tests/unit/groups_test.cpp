// Group rooms (issue 17): their names, the membership snapshot, the ACL for members, non-members
// and removed members, and the bridge's group requests.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "bridge/request.h"
#include "common/room.h"
#include "plugin/access_policy.h"
#include "plugin/group_directory.h"
#include "plugin/log_queue.h"

using namespace mqchat;

namespace {
const std::string kGroup = "g:0123456789abcdef";
const std::set<std::string> kUsers = {"alice", "bob", "carol", "dave"};
const UserExists kExists = [](std::string_view n) { return kUsers.count(std::string(n)) > 0; };

struct Members : GroupMembership {
  std::set<std::pair<std::string, std::string>> rows;
  bool is_member(std::string_view room, std::string_view user) const override {
    return rows.count({std::string(room), std::string(user)}) > 0;
  }
};
}  // namespace

TEST(GroupRoom, NamesAreGPrefixAndSixteenHexDigits) {
  EXPECT_TRUE(is_group_room(kGroup));
  for (const char* bad : {"g:0123456789abcde", "g:0123456789abcdef0", "g:0123456789ABCDEF", "g:0123456789abcdeg",
                          "G:0123456789abcdef", "g-0123456789abcdef", "g:0123456789abcd_f", "", "g:",
                          "alice_bob", "g.0123456789abcdef"})
    EXPECT_FALSE(is_group_room(bad)) << bad;
}

TEST(GroupRoom, NeverParsesAsAPairNorAPairAsAGroup) {
  EXPECT_FALSE(parse_room(kGroup));
  EXPECT_FALSE(is_group_room("alice_bob"));
  // A ':' is no username character: no pair can be spelled with the prefix.
  EXPECT_FALSE(is_valid_username("g:0123456789abcdef"));
  EXPECT_FALSE(parse_room("g:0123456789abcdef_zed"));
  EXPECT_FALSE(parse_room("alice_g:0123456789abcdef"));
  // A username may be "g" or "g.0123…", still never a group room.
  EXPECT_TRUE(is_valid_username("g.0123456789abcdef"));
}

TEST(GroupRoom, ChatTopicsOfAGroup) {
  const std::string topic = "chat/" + kGroup + "/messages";  // the result views into it
  const auto t = parse_chat_topic(topic);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->group);
  EXPECT_EQ(t->room_name, kGroup);
  EXPECT_EQ(t->channel, ChatChannel::Messages);
  EXPECT_FALSE(t->room.has("alice"));  // no participants: membership is the directory's
  EXPECT_FALSE(parse_chat_topic("chat/alice_bob/messages")->group);
  EXPECT_FALSE(parse_chat_topic("chat/" + kGroup + "/nope"));
  EXPECT_FALSE(parse_chat_topic("chat/g:0123456789abcdeF/messages"));
  const auto r = parse_user_request_topic("users/alice/requests/group");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, UserRequest::Group);
}

TEST(GroupMembers, SnapshotLookups) {
  GroupMembers m;
  m.add(kGroup, "alice");
  m.add(kGroup, "bob");
  m.add("g:ffffffffffffffff", "carol");
  EXPECT_EQ(m.groups(), 2u);
  EXPECT_TRUE(m.is_member(kGroup, "alice"));
  EXPECT_TRUE(m.is_member(kGroup, "bob"));
  EXPECT_FALSE(m.is_member(kGroup, "carol"));
  EXPECT_FALSE(m.is_member("g:ffffffffffffffff", "alice"));
  EXPECT_FALSE(m.is_member("g:0000000000000000", "alice"));
}

TEST(GroupMembers, DirectoryServesTheInstalledSnapshotAndFailsClosedBeforeAnyLoad) {
  LogQueue log;
  GroupDirectory dir("host=/nonexistent dbname=none", 60000, log);  // never started: no database
  EXPECT_FALSE(dir.is_member(kGroup, "alice"));
  auto first = std::make_shared<GroupMembers>();
  first->add(kGroup, "alice");
  first->add(kGroup, "bob");
  dir.install(first);
  EXPECT_TRUE(dir.is_member(kGroup, "bob"));
  const auto held = dir.snapshot();  // a reader in the middle of a check keeps its version
  auto second = std::make_shared<GroupMembers>();
  second->add(kGroup, "alice");
  dir.install(second);
  EXPECT_FALSE(dir.is_member(kGroup, "bob")) << "removal takes effect on the next check";
  EXPECT_TRUE(held->is_member(kGroup, "bob"));
}

TEST(GroupAccess, MembersUseEveryChannelOfTheRoom) {
  Members m;
  m.rows = {{kGroup, "alice"}, {kGroup, "bob"}, {kGroup, "carol"}};
  const std::string base = "chat/" + kGroup + "/";
  for (const char* user : {"alice", "bob", "carol"}) {
    const Principal who{user, false};
    for (const char* ch : {"messages", "typing", "events"}) {
      EXPECT_TRUE(is_allowed(who, base + ch, kAccessRead, kExists, &m)) << ch;
      EXPECT_TRUE(is_allowed(who, base + ch, kAccessSubscribe, kExists, &m)) << ch;
    }
    for (const char* ch : {"messages", "typing", "history", "read", "edit", "delete", "react", "archive", "mute"})
      EXPECT_TRUE(is_allowed(who, base + ch, kAccessWrite, kExists, &m)) << ch;
    EXPECT_FALSE(is_allowed(who, base + "events", kAccessWrite, kExists, &m));
    EXPECT_FALSE(is_allowed(who, base + "history", kAccessSubscribe, kExists, &m));
    EXPECT_TRUE(is_allowed(who, base + "#", kAccessSubscribe, kExists, &m));
    EXPECT_TRUE(is_allowed(who, base + "+", kAccessSubscribe, kExists, &m));
  }
}

TEST(GroupAccess, NonMembersAndRemovedMembersGetNothing) {
  Members m;
  m.rows = {{kGroup, "alice"}, {kGroup, "bob"}, {kGroup, "carol"}};
  const std::string base = "chat/" + kGroup + "/";
  const Principal dave{"dave", false};
  for (const char* ch : {"messages", "typing", "events"}) {
    EXPECT_FALSE(is_allowed(dave, base + ch, kAccessRead, kExists, &m)) << ch;
    EXPECT_FALSE(is_allowed(dave, base + ch, kAccessSubscribe, kExists, &m)) << ch;
  }
  for (const char* ch : {"messages", "typing", "history", "read", "edit", "delete", "react", "archive", "mute"})
    EXPECT_FALSE(is_allowed(dave, base + ch, kAccessWrite, kExists, &m)) << ch;
  EXPECT_FALSE(is_allowed(dave, base + "#", kAccessSubscribe, kExists, &m));
  EXPECT_FALSE(is_allowed(dave, "chat/+/messages", kAccessSubscribe, kExists, &m));
  EXPECT_EQ(explain_write_refusal(dave, base + "messages", kExists, &m).code, "not_member");

  // Removed: the same checks fail at once, a delivery on an old subscription included.
  const Principal carol{"carol", false};
  EXPECT_TRUE(is_allowed(carol, base + "messages", kAccessRead, kExists, &m));
  m.rows.erase({kGroup, "carol"});
  EXPECT_FALSE(is_allowed(carol, base + "messages", kAccessRead, kExists, &m));
  EXPECT_FALSE(is_allowed(carol, base + "messages", kAccessWrite, kExists, &m));

  // Without a membership source every group room is refused, even to members.
  EXPECT_FALSE(is_allowed(Principal{"alice", false}, base + "messages", kAccessRead, kExists));
  EXPECT_FALSE(is_allowed(Principal{"alice", false}, base + "messages", kAccessWrite, kExists));
}

TEST(GroupAccess, ForgedNamesAreNeitherPairsNorGroups) {
  Members m;
  m.rows = {{kGroup, "alice"}, {kGroup, "bob"}};
  const Principal alice{"alice", false};
  // Looks like a pair that contains the group: no such room. Nothing can be published or
  // subscribed there (READ is the delivery fast path: it trusts that WRITE let the topic through).
  for (const std::string& room : std::vector<std::string>{kGroup + "_alice", "alice_" + kGroup, "g:0123456789abcdef0",
                                                          "g:0123456789ABCDEF", "g:0123456789abcde_"}) {
    EXPECT_FALSE(is_allowed(alice, "chat/" + room + "/messages", kAccessWrite, kExists, &m)) << room;
    EXPECT_FALSE(is_allowed(alice, "chat/" + room + "/messages", kAccessSubscribe, kExists, &m)) << room;
    EXPECT_FALSE(is_allowed(alice, "chat/" + room + "/#", kAccessSubscribe, kExists, &m)) << room;
  }
  // A pair is still a pair: group membership opens no pair room.
  EXPECT_FALSE(is_allowed(Principal{"carol", false}, "chat/alice_bob/messages", kAccessRead, kExists, &m));
  EXPECT_TRUE(is_allowed(alice, "chat/alice_bob/messages", kAccessRead, kExists, &m));
}

TEST(GroupRequests, ParsedWithTheirFields) {
  using namespace mqchat::bridge;
  const auto ok = [](std::string_view payload) {
    const auto parsed = parse_request("users/alice/requests/group", payload, "", "");
    EXPECT_TRUE(std::holds_alternative<Request>(parsed)) << payload;
    return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
  };
  const auto code = [](std::string_view payload) {
    const auto parsed = parse_request("users/alice/requests/group", payload, "", "");
    return std::holds_alternative<RequestError>(parsed) ? std::get<RequestError>(parsed).code : std::string("ok");
  };
  const auto c = ok(R"({"requester":"alice","op":"create","name":"Team","users":["bob","carol"]})");
  EXPECT_EQ(c.kind, RequestKind::Group);
  EXPECT_EQ(c.op, "create");
  EXPECT_EQ(c.name, "Team");
  EXPECT_EQ(c.users, (std::vector<std::string>{"bob", "carol"}));
  EXPECT_TRUE(c.room.empty());
  const auto rm = ok(R"({"requester":"alice","op":"remove","room":"g:0123456789abcdef","user":"bob"})");
  EXPECT_EQ(rm.room, kGroup);
  EXPECT_EQ(rm.users, (std::vector<std::string>{"bob"}));
  EXPECT_EQ(ok(R"({"requester":"alice","op":"role","room":"g:0123456789abcdef","user":"bob","role":"admin"})").role, "admin");
  EXPECT_EQ(code(R"({"requester":"alice","op":"explode","room":"g:0123456789abcdef"})"), "bad_request");
  EXPECT_EQ(code(R"({"requester":"alice","op":"leave","room":"alice_bob"})"), "bad_request");
  EXPECT_EQ(code(R"({"requester":"alice","op":"leave"})"), "bad_request");
  EXPECT_EQ(code(R"({"requester":"alice","op":"create","name":"  ","users":["bob","carol"]})"), "bad_name");
  EXPECT_EQ(code(R"({"requester":"alice","op":"create","name":"x","users":["Bob!"]})"), "unknown_user");
  EXPECT_EQ(code(R"({"requester":"alice","op":"create","name":"x","users":[]})"), "bad_request");
  EXPECT_EQ(code(R"({"requester":"alice","op":"role","room":"g:0123456789abcdef","user":"bob","role":"owner"})"),
            "bad_request");
  EXPECT_EQ(code(R"({"requester":"bob","op":"info","room":"g:0123456789abcdef"})"), "forbidden")
      << "only on one's own requests topic";
  // A group room's requests on chat/<group>/… are not refused for lacking a pair's participants.
  EXPECT_TRUE(std::holds_alternative<Request>(
      parse_request("chat/g:0123456789abcdef/history", R"({"requester":"dave"})", "", "")));
  // Search may name a group room.
  const auto s = parse_request("users/alice/requests/search", R"({"requester":"alice","query":"x","room":"g:0123456789abcdef"})",
                               "", "");
  ASSERT_TRUE(std::holds_alternative<Request>(s));
  EXPECT_EQ(std::get<Request>(s).room, kGroup);
}
