// SQL and MQTT tell the same story: what a web backend does through the SQL API (as mqchat_app with
// a sign-in token) reaches MQTT clients as the same messages, events and summary changes; read
// receipts only for what the reader received, once. And the bridge under overload and shutdown.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <set>
#include <thread>

#include "tests/bridge/person.h"

extern char** environ;

namespace mqchat::test {

namespace {

std::set<std::string> keys(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

// The next event on the room, waiting at most `timeout`; null when none came.
json next_event(Person& p, std::chrono::milliseconds timeout = 3s) { return p.event(timeout); }

// The stored read_at of `id` by `reader`, as the events spell it.
std::string stored_read_at(const std::string& id, const std::string& reader) {
  return query_value("select mqchat_ts(r.read_at) from message_read_status r join profiles p on p.id = r.user_id "
                     "where r.message_id = '" + id + "' and p.username = '" + reader + "'");
}

}  // namespace

class SqlApi : public PairTest {};

TEST_F(SqlApi, SendEditReadDeleteThroughSqlReachMqttAsEventsAndSummaries) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  AppSession web_alice(pair_.alice, kPassword), web_bob(pair_.bob, kPassword);
  // The room's entry of the latest summary satisfying `ok` (entries are copies: missing keys read as null).
  const auto summary_entry = [&](Person& p, const std::function<bool(json)>& ok) {
    return find_room(p.summary_where([&](const json& s) { return ok(find_room(s, pair_.room)); }), pair_.room);
  };

  // Send.
  auto t0 = std::chrono::steady_clock::now();
  const json sent = web_alice.json_value("select send_message($1, 'typed in the web app')::text", pair_.bob);
  const std::string id = sent["id"];
  auto live = bob.client.wait_message(topic(pair_.room, "messages"), 3s);
  ASSERT_TRUE(live);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "as fast as a published message's fan-out";
  EXPECT_EQ(json::parse(live->payload), sent);
  json entry = summary_entry(bob, [&](json x) { return x["last_message"]["id"] == id; });
  EXPECT_EQ(entry["unread_count"], 1);
  EXPECT_EQ(entry["last_message"]["content"], "typed in the web app");
  EXPECT_EQ(entry["last_message"]["is_edited"], false);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms) << "summary within 500 ms (+ slack)";

  // Edit: the same event an MQTT edit produces.
  t0 = std::chrono::steady_clock::now();
  const json edited = web_alice.json_value("select edit_message($1::uuid, 'typed, then fixed')::text", id);
  json e = next_event(bob);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(e, json({{"event", "edited"}, {"id", id}, {"content", "typed, then fixed"}, {"edited_at", edited["edited_at"]}}));
  EXPECT_EQ(e["edited_at"], query_value("select mqchat_ts(edited_at) from messages where id = '" + id + "'"));
  entry = summary_entry(bob, [](json x) { return x["last_message"]["is_edited"] == true; });
  EXPECT_EQ(entry["last_message"]["content"], "typed, then fixed");
  EXPECT_EQ(next_event(alice)["event"], "edited") << "the author's other devices hear it too";

  // Read: bob's receipt reaches alice with the stored read_at; his unread count drops to 0.
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(web_bob.value("select mark_message_read($1::uuid)::text", id), "true");
  e = next_event(alice);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(e, json({{"event", "read"}, {"reader", pair_.bob}, {"message_id", id},
                     {"read_at", stored_read_at(id, pair_.bob)}}));
  EXPECT_EQ(summary_entry(bob, [](json x) { return x["unread_count"] == 0; })["unread_count"], 0);
  next_event(bob);  // bob's own copy of the receipt
  // A repeat is idempotent: false, and no second receipt.
  EXPECT_EQ(web_bob.value("select mark_message_read($1::uuid)::text", id), "false");
  // Marking your own message read is refused, as over MQTT.
  EXPECT_THROW(web_alice.value("select mark_message_read($1::uuid)::text", id), pqxx::insufficient_privilege);
  EXPECT_TRUE(alice.client.collect(topic(pair_.room, "events"), 1s).empty());

  // Delete: the same event; the summary shows the erased message.
  t0 = std::chrono::steady_clock::now();
  web_alice.value("select delete_message($1::uuid)::text", id);
  e = next_event(bob);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(keys(e), (std::set<std::string>{"event", "id", "deleted_at"}));
  EXPECT_EQ(e["event"], "deleted");
  EXPECT_EQ(e["id"], id);
  entry = summary_entry(bob, [](json x) { return x["last_message"]["deleted"] == true; });
  EXPECT_TRUE(entry["last_message"]["content"].is_null());
  // History over MQTT agrees with SQL.
  const json page = bob.history({});
  ASSERT_EQ(page["messages"].size(), 1u);
  EXPECT_EQ(page["messages"][0]["deleted"], true);
  EXPECT_EQ(page["messages"][0]["is_edited"], true);
  EXPECT_FALSE(page["messages"][0]["read_at"].is_null());
  EXPECT_EQ(query_value("select count(*) from mqchat_outbox where room = '" + pair_.room + "'"), "0");
}

TEST_F(SqlApi, EventsHaveTheSameShapeWhicheverWayTheChangeCame) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  AppSession web_alice(pair_.alice, kPassword), web_bob(pair_.bob, kPassword);
  const std::string over_mqtt = alice.send("one")["id"];
  const std::string over_sql = web_alice.json_value("select send_message($1, 'two')::text", pair_.bob)["id"];
  ASSERT_TRUE(bob.client.wait_message(topic(pair_.room, "messages")));
  bob.client.collect(topic(pair_.room, "messages"), 200ms);

  ASSERT_EQ(alice.client.publish(topic(pair_.room, "edit"), json{{"id", over_mqtt}, {"content", "1"}}.dump()), 0);
  const json mqtt_edit = next_event(bob);
  web_alice.value("select edit_message($1::uuid, '2')::text", over_sql);
  const json sql_edit = next_event(bob);
  EXPECT_EQ(keys(mqtt_edit), keys(sql_edit));
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "read"), json{{"message_id", over_mqtt}}.dump()), 0);
  const json mqtt_read = next_event(bob);
  web_bob.value("select mark_message_read($1::uuid)::text", over_sql);
  const json sql_read = next_event(bob);
  EXPECT_EQ(keys(mqtt_read), keys(sql_read));
  EXPECT_EQ(mqtt_read["read_at"], stored_read_at(over_mqtt, pair_.bob));
  EXPECT_EQ(sql_read["read_at"], stored_read_at(over_sql, pair_.bob));
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "delete"), json{{"id", over_mqtt}}.dump()), 0);
  const json mqtt_delete = next_event(bob);
  web_alice.value("select delete_message($1::uuid)::text", over_sql);
  const json sql_delete = next_event(bob);
  EXPECT_EQ(keys(mqtt_delete), keys(sql_delete));
  for (const auto* e : {&mqtt_edit, &sql_edit, &mqtt_read, &sql_read, &mqtt_delete, &sql_delete})
    EXPECT_FALSE(e->is_null());
}

TEST_F(SqlApi, ReceiptsOverMqttOnlyForReceivedMessagesAndOnlyOnce) {
  Person alice(pair_.alice, pair_.room);
  Person bob(pair_.bob, pair_.room);
  const std::string mine = alice.send("alice's")["id"];
  bob.client.collect(topic(pair_.room, "messages"), 200ms);

  // The sender marking her own message: refused, no receipt, nothing stored.
  json err = alice.request("read", {{"message_id", mine}, {"request_id", "own"}}, "errors");
  EXPECT_EQ(err["code"], "forbidden");
  EXPECT_EQ(err["request_id"], "own");
  EXPECT_TRUE(bob.client.collect(topic(pair_.room, "events"), 500ms).empty());
  EXPECT_EQ(query_value("select count(*) from message_read_status where message_id = '" + mine + "'"), "0");

  // The recipient: one receipt, with the stored read_at.
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "read"), json{{"message_id", mine}}.dump()), 0);
  const json first = next_event(alice);
  EXPECT_EQ(first["reader"], pair_.bob);
  EXPECT_EQ(first["read_at"], stored_read_at(mine, pair_.bob));
  bob.client.collect(topic(pair_.room, "events"), 200ms);
  // Again, both ways: no new receipt; a request_id gets a private "already_read".
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "read"), json{{"message_id", mine}}.dump()), 0);
  ASSERT_EQ(bob.client.publish(topic(pair_.room, "read"), json{{"up_to", mine}}.dump()), 0);
  err = bob.request("read", {{"up_to", mine}, {"request_id", "again"}}, "errors");
  EXPECT_EQ(err["code"], "already_read");
  EXPECT_EQ(err["request_id"], "again");
  EXPECT_TRUE(alice.client.collect(topic(pair_.room, "events"), 1s).empty()) << "a repeated read made a new receipt";
  EXPECT_EQ(stored_read_at(mine, pair_.bob), first["read_at"]);

  // up_to bounded by the reader's own message marks only what the other side sent.
  const std::string bobs = bob.send("bob's")["id"];
  const std::string alices = alice.send("alice's second")["id"];
  ASSERT_EQ(alice.client.publish(topic(pair_.room, "read"), json{{"up_to", alices}}.dump()), 0);
  const json r = next_event(bob);
  EXPECT_EQ(r["reader"], pair_.alice);
  EXPECT_EQ(r["up_to"], alices);
  EXPECT_EQ(query_value("select string_agg(m.content, ',' order by m.id) from message_read_status s "
                        "join messages m on m.id = s.message_id join profiles p on p.id = s.user_id "
                        "where p.username = '" + pair_.alice + "'"),
            "bob's");
}

namespace {

// A second bridge instance of our own (its own share group and client id), so its options can
// be extreme without touching the stack's bridge. Stopped with SIGTERM.
class ExtraBridge {
 public:
  explicit ExtraBridge(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {std::string(std::getenv("MQCHAT_BUILD_DIR")) + "/bridge/mqchat-bridge",
                                     "--mqtt-port", std::to_string(Stack::mqtt_port()),
                                     "--password-file", std::getenv("MQCHAT_BRIDGE_PASSWORD_FILE"),
                                     "--dsn", Stack::dsn(),
                                     "--client-id", "mqchat-bridge-test-" + std::to_string(getpid()),
                                     "--share-group", "mqchat-bridge-test", "--session-expiry", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    log_ = Stack::run_dir() + "/extra-bridge.log";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
  }
  ~ExtraBridge() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool log_contains(const std::string& needle) const {
    std::string out;
    run_command("cat '" + log_ + "'", &out);
    return out.find(needle) != std::string::npos;
  }
  // SIGTERM; the exit status, or -1 when it had not exited within `timeout`.
  int terminate(std::chrono::milliseconds timeout) {
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

}  // namespace

TEST_F(SqlApi, AFullBridgeAnswersBusyAndStopsInOrder) {
  Person alice(pair_.alice, pair_.room);
  alice.send("something to page through");
  // One worker and room for 2 waiting requests: a burst overflows it at once.
  ExtraBridge extra({"--workers", "1", "--max-queued", "2"});
  for (int i = 0; i < 100 && !extra.log_contains("subscribed to $share/mqchat-bridge-test/chat/+/history"); ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(extra.log_contains("subscribed to $share/mqchat-bridge-test/chat/+/history"));
  alice.client.collect("users/" + pair_.alice + "/history", 300ms);

  constexpr int kRequests = 300;
  for (int i = 0; i < kRequests; ++i)
    ASSERT_EQ(alice.client.publish(topic(pair_.room, "history"), json{{"request_id", "b" + std::to_string(i)}}.dump()), 0);
  // Every request is answered by both bridges: the stack's with a page, ours with a page or "busy".
  int pages = 0, busy = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (pages + busy < 2 * kRequests && std::chrono::steady_clock::now() < deadline) {
    const auto m = alice.client.wait_message("", 1s);
    if (!m) continue;
    if (m->topic == "users/" + pair_.alice + "/history") ++pages;
    if (m->topic == "users/" + pair_.alice + "/errors") {
      const json err = json::parse(m->payload);
      EXPECT_EQ(err["code"], "busy") << err;
      ++busy;
    }
  }
  std::cerr << "[busy] " << kRequests << " requests: " << pages - kRequests << " served, " << busy
            << " answered busy by the 1-worker bridge\n";
  EXPECT_EQ(pages + busy, 2 * kRequests) << "every request answered exactly once by each bridge";
  EXPECT_GT(busy, 0);
  EXPECT_GE(pages, kRequests);

  // Shutdown mid-burst: it stops within a few seconds, cleanly, and what it took is answered.
  for (int i = 0; i < kRequests; ++i)
    ASSERT_EQ(alice.client.publish(topic(pair_.room, "history"), json{{"request_id", "s" + std::to_string(i)}}.dump()), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(extra.terminate(8s), 0) << "the bridge did not stop cleanly";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 6s);
  EXPECT_TRUE(extra.log_contains("mqchat-bridge: stopped ("));
}

}  // namespace mqchat::test
