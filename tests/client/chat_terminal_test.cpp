// `mqchat-client chat` in a real terminal (tmux): a person's path through an interactive session.
#include <thread>
#include <unistd.h>

#include "tests/client/client_run.h"
#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {

// One tmux session running a command; reads the screen.
class Terminal {
 public:
  explicit Terminal(const std::string& command) : name_("mqchat-test-" + std::to_string(getpid())) {
    run_command("tmux kill-session -t " + name_ + " 2>/dev/null");
    if (run_command("tmux new-session -d -x 200 -y 60 -s " + name_ + " " + shell_quote(command)) != 0)
      throw std::runtime_error("cannot start tmux");
  }
  ~Terminal() { run_command("tmux kill-session -t " + name_ + " 2>/dev/null"); }

  std::string screen() {
    std::string out;
    run_command("tmux capture-pane -p -J -S -200 -t " + name_ + " 2>/dev/null", &out);
    return out;
  }
  // Waits until the screen shows `text`; returns the screen either way.
  std::string wait_for(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string s;
    while (std::chrono::steady_clock::now() < deadline) {
      s = screen();
      if (s.find(text) != std::string::npos) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return s;
  }
  void type(const std::string& line) { run_command("tmux send-keys -t " + name_ + " -l " + shell_quote(line)); run_command("tmux send-keys -t " + name_ + " Enter"); }
  bool alive() { return run_command("tmux has-session -t " + name_ + " 2>/dev/null") == 0; }

 private:
  std::string name_;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

#ifdef MQCHAT_HAVE_BRIDGE  // the chat opens with recent history, which the bridge serves
class ChatTerminal : public StackTest {};

TEST_F(ChatTerminal, AConversationInTheTerminal) {
  const Pair p = make_pair_of_users();
  {  // something to show as recent history
    TestClient bob(p.bob, kPassword);
    bob.connect();
    ASSERT_EQ(bob.publish(messages_topic(p.room), "earlier, while you were away"), 0);
  }
  TestClient bob(p.bob, kPassword);
  bob.connect();
  ASSERT_LT(bob.subscribe("chat/" + p.room + "/#"), 0x80);

  // `; sleep 30` keeps the pane readable after the client exits.
  Terminal term("MQCHAT_PASSWORD=" + shell_quote(kPassword) + " " MQCHAT_CLIENT_BIN " --port " +
                std::to_string(Stack::mqtt_port()) + " --user " + p.alice + " chat " + p.bob + "; echo EXITED $?; sleep 30");
  std::string s = term.wait_for("earlier, while you were away");
  ASSERT_TRUE(contains(s, "chat with " + p.bob)) << s;
  ASSERT_TRUE(contains(s, p.bob + ": earlier, while you were away")) << s;
  EXPECT_TRUE(contains(term.wait_for("● " + p.bob + " is online"), "● " + p.bob + " is online"));

  // Live message from bob.
  ASSERT_EQ(bob.publish(messages_topic(p.room), "are you there?"), 0);
  const auto echo = bob.wait_message(messages_topic(p.room));
  ASSERT_TRUE(echo);
  const std::string bobs_id = nlohmann::json::parse(echo->payload)["id"];
  s = term.wait_for(p.bob + ": are you there?");
  EXPECT_TRUE(contains(s, p.bob + ": are you there?")) << s;

  // Typing from bob shows; alice's answer reaches bob and shows ✓ once stored.
  ASSERT_EQ(bob.publish("chat/" + p.room + "/typing", R"({"typing":true})", 0), 0);
  EXPECT_TRUE(contains(term.wait_for(p.bob + " is typing"), p.bob + " is typing"));
  term.type("yes, here");
  std::optional<Received> got;
  while ((got = bob.wait_message(messages_topic(p.room), std::chrono::seconds(5)))) {
    if (nlohmann::json::parse(got->payload)["content"] == "yes, here") break;
  }
  ASSERT_TRUE(got) << term.screen();
  const auto msg = nlohmann::json::parse(got->payload);
  EXPECT_EQ(msg["sender"], p.alice);
  const std::string id = msg["id"];
  const std::string suffix = id.substr(id.size() - 8);
  s = term.wait_for(p.alice + ": yes, here ✓ #" + suffix);
  EXPECT_TRUE(contains(s, p.alice + ": yes, here ✓ #" + suffix)) << s;

  // Bob reads it: alice sees ✓✓.
  ASSERT_EQ(bob.publish("chat/" + p.room + "/read", nlohmann::json{{"up_to", id}}.dump()), 0);
  s = term.wait_for("✓✓ " + p.bob + " read up to #" + suffix);
  EXPECT_TRUE(contains(s, "✓✓ " + p.bob + " read up to #" + suffix)) << s;

  // Alice edits her message by its short id; bob gets the event and Postgres has it.
  term.type("/edit " + suffix + " yes, I am here");
  s = term.wait_for("edited: yes, I am here");
  EXPECT_TRUE(contains(s, "#" + suffix + " edited: yes, I am here")) << s;
  EXPECT_EQ(wait_for_value("select content || '|' || is_edited from messages where id = '" + id + "'",
                           "yes, I am here|true", std::chrono::seconds(5)),
            "yes, I am here|true");

  // Only her own messages.
  term.type("/delete " + bobs_id.substr(bobs_id.size() - 8));
  s = term.wait_for("only change your own messages");
  EXPECT_TRUE(contains(s, "you can only change your own messages")) << s;
  term.type("/quit");
  s = term.wait_for("EXITED");
  EXPECT_TRUE(contains(s, "EXITED 0")) << s;
}

TEST_F(ChatTerminal, MessagesSentWhileTheChatWasClosedShowWhenItReopens) {
  const Pair p = make_pair_of_users();
  const std::string cmd = "MQCHAT_PASSWORD=" + shell_quote(kPassword) + " " MQCHAT_CLIENT_BIN " --port " +
                          std::to_string(Stack::mqtt_port()) + " --user " + p.alice + " chat " + p.bob +
                          "; echo EXITED $?; sleep 30";
  {
    Terminal term(cmd);
    term.wait_for("No messages yet");
    term.type("/quit");
    ASSERT_TRUE(contains(term.wait_for("EXITED"), "EXITED 0"));
  }
  TestClient bob(p.bob, kPassword);
  bob.connect();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(bob.publish(messages_topic(p.room), "missed " + std::to_string(i)), 0);
  Terminal term(cmd);
  const std::string s = term.wait_for(p.bob + ": missed 2");
  for (int i = 0; i < 3; ++i) {
    const std::string line = p.bob + ": missed " + std::to_string(i);
    EXPECT_TRUE(contains(s, line)) << s;
    // Shown once: the persistent session's redelivery and the history do not double it.
    EXPECT_EQ(s.find(line), s.rfind(line)) << s;
  }
  term.type("/quit");
}
#endif

}  // namespace mqchat::test
