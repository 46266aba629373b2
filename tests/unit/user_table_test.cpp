#include "plugin/user_table.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

using namespace mqchat;

TEST(UserTable, FindsWhatWasSetByAViewOfTheName) {
  UserTable users;
  EXPECT_TRUE(users.empty());
  EXPECT_FALSE(users.contains("alice"));
  users.set("alice", UserRecord{"id-a", "hash-a"});
  users.set("bob", UserRecord{"id-b", "hash-b"});
  const std::string topic = "chat/alice_bob/messages";
  const std::string_view alice = std::string_view(topic).substr(5, 5), bob = std::string_view(topic).substr(11, 3);
  ASSERT_TRUE(users.find(alice));
  EXPECT_EQ(users.find(alice)->id, "id-a");
  EXPECT_EQ(users.find(bob)->password_hash, "hash-b");
  EXPECT_FALSE(users.contains("alic"));
  EXPECT_FALSE(users.contains("alice_"));
  EXPECT_FALSE(users.contains(""));
  EXPECT_EQ(users.size(), 2u);
}

TEST(UserTable, SettingANameAgainReplacesItsRecord) {
  UserTable users;
  users.set("alice", UserRecord{"old", "h1"});
  users.set("alice", UserRecord{"new", "h2"});
  EXPECT_EQ(users.size(), 1u);
  EXPECT_EQ(users.find("alice")->id, "new");
  EXPECT_EQ(users.find("alice")->password_hash, "h2");
}

TEST(UserTable, ManyNamesOfEveryLengthAreAllFoundAndListedOnce) {
  UserTable users;
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    // 1 to 32 characters, many sharing prefixes and lengths (eight-byte steps and tails alike)
    const std::string name = std::string(1 + i % 24, 'a' + i % 26) + std::to_string(i);
    users.set(name, UserRecord{"id" + std::to_string(i), ""});
    expected[name] = "id" + std::to_string(i);
  }
  ASSERT_EQ(users.size(), expected.size());
  for (const auto& [name, id] : expected) {
    ASSERT_TRUE(users.find(name)) << name;
    EXPECT_EQ(users.find(name)->id, id);
    EXPECT_FALSE(users.contains(name + "x"));
  }
  size_t listed = 0;
  for (const auto& [name, record] : users) {
    EXPECT_EQ(expected.at(name), record.id);
    ++listed;
  }
  EXPECT_EQ(listed, expected.size());
}
