// mqchat-client's group commands for real: create, info, send, history with "read by", add, role,
// remove (the removed member is refused), transfer and leave, and a member refused admin work.
#include <regex>
#include <thread>

#include "tests/client/client_run.h"
#include "tests/integration/fixtures.h"

namespace mqchat::test {

class CliGroups : public PairAndMalloryTest {
 protected:
  ClientRun as(const std::string& user, const std::string& args) { return run_client(user, kPassword, args); }
};

TEST_F(CliGroups, CreateChatAdministerAndLeave) {
  auto r = as(pair_.alice, "--json group create 'Lunch club' " + pair_.bob + " " + mallory_);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto created = nlohmann::json::parse(r.out);
  const std::string room = created["group"]["room"];
  EXPECT_EQ(created["group"]["name"], "Lunch club");
  EXPECT_EQ(created["group"]["members"].size(), 3u);

  r = as(pair_.bob, "group info " + room);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Lunch club  " + room + "  (3 members)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(pair_.alice + "  owner"), std::string::npos) << r.out;

  // Chatting: the plugin learns the group within about a second.
  std::string id;
  for (int i = 0; i < 30 && id.empty(); ++i) {
    r = as(pair_.bob, "group send " + room + " 'noon?'");
    std::smatch m;
    if (r.status == 0 && std::regex_search(r.out, m, std::regex("sent ✓ ([0-9a-f-]{36})"))) id = m[1];
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(id.empty()) << r.out << r.err;
  wait_for_value("select count(*) from messages where id = '" + id + "'", "1", std::chrono::seconds(5));
  r = as(mallory_, "group history " + room);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(pair_.bob + ": noon? #"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(read by 0 of 2)"), std::string::npos) << r.out;

  r = as(pair_.alice, "conversations");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("# Lunch club (" + room + ")"), std::string::npos) << r.out;

  // Bob may not administer; alice makes him admin, he removes mallory, who is then refused.
  r = as(pair_.bob, "group remove " + room + " " + mallory_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("owner and admins"), std::string::npos) << r.err;
  ASSERT_EQ(as(pair_.alice, "group role " + room + " " + pair_.bob + " admin").status, 0);
  r = as(pair_.bob, "group remove " + room + " " + mallory_);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("(2 members)"), std::string::npos) << r.out;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the broker learns it within a second
  r = as(mallory_, "group send " + room + " 'still here'");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_EQ(query_value("select count(*) from messages m join conversations c on c.id = m.conversation_id "
                        "where c.room = '" + room + "' and m.content = 'still here'"),
            "0");  // in this group: other tests say "still here" in their own rooms

  // The owner cannot leave before transferring.
  r = as(pair_.alice, "group leave " + room);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("transfer"), std::string::npos) << r.err;
  ASSERT_EQ(as(pair_.alice, "group transfer " + room + " " + pair_.bob).status, 0);
  r = as(pair_.alice, "group leave " + room);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(pair_.bob + "  owner"), std::string::npos) << r.out;
  EXPECT_EQ(as(pair_.alice, "group info " + room).status, 1);
}

}  // namespace mqchat::test
