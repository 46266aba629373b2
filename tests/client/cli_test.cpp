// mqchat-client driven for real: the binary against the running broker, plugin, bridge and Postgres.
#include <regex>
#include <thread>

#include "tests/client/client_run.h"
#include "tests/integration/fixtures.h"

namespace mqchat::test {

class Cli : public PairTest {
 protected:
  ClientRun as_alice(const std::string& args) { return run_client(pair_.alice, kPassword, args); }
  ClientRun as_bob(const std::string& args) { return run_client(pair_.bob, kPassword, args); }
  // Sends through the CLI and returns the stored id it printed.
  std::string send(const std::string& text) {
    const auto r = as_alice("send " + pair_.bob + " " + shell_quote(text));
    EXPECT_EQ(r.status, 0) << r.err;
    std::smatch m;
    const std::regex sent("sent ✓ ([0-9a-f-]{36})");
    EXPECT_TRUE(std::regex_search(r.out, m, sent)) << r.out;
    return m.size() > 1 ? m[1].str() : "";
  }
};

TEST_F(Cli, SendPrintsTheStoredIdAndTheMessageIsInPostgres) {
  const std::string id = send("hello from the command line");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(wait_for_value("select content from messages where id = '" + id + "'", "hello from the command line",
                           std::chrono::seconds(5)),
            "hello from the command line");
}

TEST_F(Cli, JsonOutputIsTheStoredMessage) {
  const auto r = as_alice("--json send " + pair_.bob + " 'a picture' --type image --metadata '{\"url\":\"a.png\"}'");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sender"], pair_.alice);
  EXPECT_EQ(j["room"], pair_.room);
  EXPECT_EQ(j["type"], "image");
  EXPECT_EQ(j["metadata"]["url"], "a.png");
  EXPECT_EQ(j["content"], "a picture");
}

TEST_F(Cli, ErrorsSayWhatIsWrong) {
  auto r = run_client(pair_.alice, "wrong password", "send " + pair_.bob + " hi");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.err.find("wrong username or password"), std::string::npos) << r.err;

  r = as_alice("send " + pair_.bob + " " + std::string(4001, 'x'));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("4001 characters; the limit is 4000"), std::string::npos) << r.err;

  r = as_alice("send " + pair_.bob + " '   '");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("blank"), std::string::npos) << r.err;

  r = as_alice("send nobody-" + pair_.bob + " hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("no such user"), std::string::npos) << r.err;

  r = as_alice("send Not_Valid hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not a valid username"), std::string::npos) << r.err;

  r = as_alice("send " + pair_.alice + " hi");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("yourself"), std::string::npos) << r.err;
  EXPECT_EQ(count_messages_in_room(pair_.room), 0);
}

#ifdef MQCHAT_HAVE_BRIDGE
TEST_F(Cli, ConversationsHistoryReadEditDelete) {
  const std::string first = send("one");
  send("two");
  const std::string third = send("three");

  // Bob sees the conversation with 3 unread (the summary is updated within 500 ms).
  nlohmann::json summary;
  for (int i = 0; i < 30; ++i) {
    const auto r = as_bob("--json conversations");
    ASSERT_EQ(r.status, 0) << r.err;
    summary = nlohmann::json::parse(r.out);
    if (summary.size() == 1 && summary[0]["unread_count"] == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(summary.size(), 1u) << summary;
  EXPECT_EQ(summary[0]["with"], pair_.alice);
  EXPECT_EQ(summary[0]["unread_count"], 3);
  auto r = as_bob("conversations");
  EXPECT_NE(r.out.find("(3 unread)"), std::string::npos) << r.out;

  r = as_bob("history " + pair_.alice + " --limit 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find(": one"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(pair_.alice + ": two"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(pair_.alice + ": three"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--before"), std::string::npos) << "tells how to page back: " << r.out;

  r = as_bob("read " + pair_.alice);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(wait_for_value("select count(*) from message_read_status s join messages m on m.id = s.message_id "
                           "where m.conversation_id = mqchat_conversation_id('" + pair_.room + "')",
                           "3", std::chrono::seconds(5)),
            "3");
  r = as_alice("history " + pair_.bob);
  EXPECT_NE(r.out.find(pair_.alice + ": three ✓✓"), std::string::npos) << "alice sees the receipt: " << r.out;

  // Edit and delete find the room from the id alone.
  r = as_alice("edit " + first + " 'one, corrected'");
  ASSERT_EQ(r.status, 0) << r.err;
  r = as_alice("delete " + third);
  ASSERT_EQ(r.status, 0) << r.err;
  r = as_bob("history " + pair_.alice);
  EXPECT_NE(r.out.find("one, corrected (edited)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(message deleted)"), std::string::npos) << r.out;

  // Bob cannot change alice's message.
  r = as_bob("edit " + first + " hijacked --with " + pair_.alice);
  EXPECT_EQ(r.status, 1);
  EXPECT_FALSE(r.err.empty());
  EXPECT_EQ(query_value("select content from messages where id = '" + first + "'"), "one, corrected");
}
#endif

}  // namespace mqchat::test
