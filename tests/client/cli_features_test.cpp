// mqchat-client's issue 17 commands for real: reply, react, search, archive, mute, archived.
#include <regex>

#include "tests/client/client_run.h"
#include "tests/integration/fixtures.h"

namespace mqchat::test {

class CliFeatures : public PairTest {
 protected:
  ClientRun as_alice(const std::string& args) { return run_client(pair_.alice, kPassword, args); }
  ClientRun as_bob(const std::string& args) { return run_client(pair_.bob, kPassword, args); }
  std::string sent_id(const ClientRun& r) {
    std::smatch m;
    const std::regex sent("sent ✓ ([0-9a-f-]{36})");
    EXPECT_TRUE(std::regex_search(r.out, m, sent)) << r.out << r.err;
    return m.size() > 1 ? m[1].str() : "";
  }
};

TEST_F(CliFeatures, ReplyReactSearch) {
  const std::string word = "quokka" + random_hex();
  const std::string id = sent_id(as_alice("send " + pair_.bob + " 'have you seen a " + word + "?'"));
  ASSERT_FALSE(id.empty());
  wait_for_value("select count(*) from messages where id = '" + id + "'", "1", std::chrono::seconds(5));

  // Bob answers (the room is found from the id) and the reply comes back with its quote.
  auto r = as_bob("--json reply " + id + " 'yes, one'");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto reply = nlohmann::json::parse(r.out);
  EXPECT_EQ(reply["reply_to"]["id"], id);
  EXPECT_EQ(reply["reply_to"]["content"], "have you seen a " + word + "?");

  r = as_bob("react " + id + " 👍 --with " + pair_.alice);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("reacted 👍"), std::string::npos) << r.out;
  r = as_bob("react " + id + " 👍 --with " + pair_.alice);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("already reacted"), std::string::npos) << r.out;
  r = as_bob("react " + id + " nope --with " + pair_.alice);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("emoji"), std::string::npos) << r.err;

  // History shows the quote and the reaction.
  r = as_alice("history " + pair_.bob);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("(↪ " + pair_.alice + ": have you seen a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("👍1"), std::string::npos) << r.out;

  r = as_bob("search " + word);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("[[" + word + "]]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("with " + pair_.alice), std::string::npos) << r.out;
}

TEST_F(CliFeatures, ArchiveMuteAndTheArchivedList) {
  ASSERT_FALSE(sent_id(as_alice("send " + pair_.bob + " hi")).empty());
  wait_for_value("select count(*) from conversations where room = '" + pair_.room + "'", "1", std::chrono::seconds(5));
  auto r = as_alice("archive " + pair_.bob);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("archived, not muted"), std::string::npos) << r.out;
  r = as_alice("archived");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(pair_.bob), std::string::npos) << r.out;
  r = as_alice("mute " + pair_.bob);
  EXPECT_NE(r.out.find("archived, muted"), std::string::npos) << r.out;
  r = as_alice("archive " + pair_.bob + " --undo");
  EXPECT_NE(r.out.find("in your list, muted"), std::string::npos) << r.out;
  r = as_alice("archived");
  EXPECT_NE(r.out.find("No archived conversations"), std::string::npos) << r.out;
}

}  // namespace mqchat::test
