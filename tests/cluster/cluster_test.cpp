// Two users on different nodes: chat, receipts, edits, presence, summaries and the offline story
// all cross the backplane. Clients connect to a node directly (to choose where they are), or to
// HAProxy's entry.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "tests/cluster/cluster.h"
#include "tests/support/db.h"
#include "tests/support/stack.h"

namespace mqchat::test::cluster {
namespace {

using nlohmann::json;

std::optional<json> next_json(TestClient& c, const std::string& topic, std::chrono::milliseconds t = 5s) {
  const auto m = c.wait_message(topic, t);
  if (!m) return std::nullopt;
  return json::parse(m->payload, nullptr, false);
}

// Waits for a retained/live presence status of `user` as seen by `observer`.
bool presence_becomes(TestClient& observer, const std::string& user, const std::string& status,
                      std::chrono::milliseconds within = 8s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto m = observer.wait_message("users/" + user + "/presence", 200ms);
    if (m) last = json::parse(m->payload, nullptr, false).value("status", "");
    if (last == status) {
      // Settled: nothing contrary follows right away.
      const auto more = observer.collect("users/" + user + "/presence", 600ms);
      if (more.empty() || json::parse(more.back().payload, nullptr, false).value("status", "") == status) return true;
      last = json::parse(more.back().payload, nullptr, false).value("status", "");
    }
  }
  return false;
}

TEST(ClusterChat, UsersOnDifferentNodesChatReadEditAndSeeSummaries) {
  const std::string pw = "cluster-pw";
  const std::string alice = make_user("ca", pw), bob = make_user("cb", pw);
  const std::string room = room_of(alice, bob);
  TestClient a(alice, pw, at(Cluster::node_uri(1))), b(bob, pw, at(Cluster::node_uri(2)));
  a.connect();
  b.connect();
  ASSERT_LT(a.subscribe("chat/" + room + "/#"), 0x80);
  ASSERT_LT(b.subscribe("chat/" + room + "/#"), 0x80);
  ASSERT_LT(b.subscribe("users/" + bob + "/#"), 0x80);
  std::this_thread::sleep_for(300ms);

  // alice (node1) → bob (node2): the stored form, once.
  ASSERT_EQ(a.publish("chat/" + room + "/messages", R"({"content":"hello across nodes","client_id":"m1"})"), 0);
  const auto got = next_json(b, "chat/" + room + "/messages");
  ASSERT_TRUE(got && got->is_object());
  EXPECT_EQ((*got)["content"], "hello across nodes");
  EXPECT_EQ((*got)["sender"], alice);
  const std::string id = (*got)["id"];
  EXPECT_TRUE(b.collect("chat/" + room + "/messages", 700ms).empty()) << "delivered more than once";
  // alice sees her own message once too (from her node, not back from the backplane).
  EXPECT_TRUE(a.wait_message("chat/" + room + "/messages", 3s));
  EXPECT_TRUE(a.collect("chat/" + room + "/messages", 700ms).empty());

  // bob → alice
  ASSERT_EQ(b.publish("chat/" + room + "/messages", "hi from node2"), 0);
  const auto back = next_json(a, "chat/" + room + "/messages");
  ASSERT_TRUE(back && back->is_object());
  EXPECT_EQ((*back)["content"], "hi from node2");

  // bob reads alice's message on node2; alice on node1 gets the receipt event.
  ASSERT_EQ(b.publish("chat/" + room + "/read", json{{"message_id", id}}.dump()), 0);
  bool receipt = false;
  for (int i = 0; i < 10 && !receipt; ++i) {
    const auto ev = next_json(a, "chat/" + room + "/events", 1s);
    receipt = ev && ev->value("event", "") == "read" && ev->value("reader", "") == bob;
  }
  EXPECT_TRUE(receipt) << "alice did not get bob's read receipt from the other node";

  // alice edits on node1; bob on node2 gets the event.
  ASSERT_EQ(a.publish("chat/" + room + "/edit", json{{"id", id}, {"content", "hello, edited"}}.dump()), 0);
  bool edited = false;
  for (int i = 0; i < 10 && !edited; ++i) {
    const auto ev = next_json(b, "chat/" + room + "/events", 1s);
    edited = ev && ev->value("event", "") == "edited" && ev->value("content", "") == "hello, edited";
  }
  EXPECT_TRUE(edited) << "bob did not see alice's edit from the other node";

  // Summaries: one leader publishes them; both nodes have them, retained.
  bool summary = false;
  for (int i = 0; i < 20 && !summary; ++i) {
    const auto s = next_json(b, "users/" + bob + "/conversations", 1s);
    summary = s && s->is_array() && !s->empty() && (*s)[0].value("room", "") == room;
  }
  EXPECT_TRUE(summary) << "bob's summary did not reach node2";
  TestClient late(alice, pw, at(Cluster::node_uri(2)));  // alice's retained summary is on node2 too
  late.connect();
  late.subscribe("users/" + alice + "/conversations");
  const auto s = next_json(late, "users/" + alice + "/conversations", 5s);
  ASSERT_TRUE(s && s->is_array() && !s->empty());
  EXPECT_EQ((*s)[0].value("room", ""), room);
}

TEST(ClusterPresence, OnlineWhileAnyNodeHoldsAConnection) {
  const std::string pw = "cluster-pw";
  const std::string alice = make_user("pa", pw), carol = make_user("pc", pw);
  TestClient watch1(carol, pw, at(Cluster::node_uri(1))), watch2(carol, pw, at(Cluster::node_uri(2)));
  watch1.connect();
  watch2.connect();
  watch1.subscribe("users/" + alice + "/presence");
  watch2.subscribe("users/" + alice + "/presence");

  auto on1 = std::make_unique<TestClient>(alice, pw, at(Cluster::node_uri(1)));
  on1->connect();
  EXPECT_TRUE(presence_becomes(watch2, alice, "online")) << "node2 did not hear alice came online on node1";
  EXPECT_TRUE(presence_becomes(watch1, alice, "online"));
  TestClient on2(alice, pw, at(Cluster::node_uri(2)));
  on2.connect();
  on1->disconnect();  // still on node2: online everywhere
  on1.reset();
  EXPECT_TRUE(presence_becomes(watch1, alice, "online")) << "node1 kept alice offline while node2 holds her";
  EXPECT_TRUE(presence_becomes(watch2, alice, "online"));
  on2.disconnect();
  EXPECT_TRUE(presence_becomes(watch1, alice, "offline"));
  EXPECT_TRUE(presence_becomes(watch2, alice, "offline"));
  // A newcomer on either node finds the retained state.
  TestClient fresh(carol, pw, at(Cluster::node_uri(1)));
  fresh.connect();
  fresh.subscribe("users/" + alice + "/presence");
  const auto m = fresh.wait_message("users/" + alice + "/presence", 3s);
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(m->payload).value("status", ""), "offline");
}

TEST(ClusterOffline, QueuedOnTheRecipientsNodeAndInHistoryFromAnyNode) {
  const std::string pw = "cluster-pw";
  const std::string alice = make_user("oa", pw), bob = make_user("ob", pw);
  const std::string room = room_of(alice, bob);
  ClientOptions persistent;
  persistent.clean = false;
  persistent.client_id = "cl-" + bob;
  {
    TestClient b(bob, pw, at(Cluster::node_uri(2), persistent));
    b.connect();
    ASSERT_LT(b.subscribe("chat/" + room + "/messages"), 0x80);
    b.disconnect();
  }
  TestClient a(alice, pw, at(Cluster::node_uri(1)));
  a.connect();
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(a.publish("chat/" + room + "/messages", json{{"content", "offline " + std::to_string(i)}}.dump()), 0);
  std::this_thread::sleep_for(1s);  // through the backplane into bob's session on node2
  TestClient b(bob, pw, at(Cluster::node_uri(2), persistent));
  b.connect();
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i)
    if (const auto m = b.wait_message("chat/" + room + "/messages", 5s)) got.push_back(json::parse(m->payload)["content"]);
  ASSERT_EQ(got.size(), 5u) << "bob's session on node2 did not keep what alice sent on node1";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(got[i], "offline " + std::to_string(i)) << "out of order";
  EXPECT_TRUE(b.collect("chat/" + room + "/messages", 700ms).empty());

  // And bob on node1 catches up through history.
  TestClient b1(bob, pw, at(Cluster::node_uri(1)));
  b1.connect();
  b1.subscribe("users/" + bob + "/history");
  ASSERT_EQ(b1.publish("chat/" + room + "/history", R"({"limit":10})"), 0);
  const auto h = next_json(b1, "users/" + bob + "/history", 5s);
  ASSERT_TRUE(h && h->is_object());
  EXPECT_EQ((*h)["messages"].size(), 5u);
}

}  // namespace
}  // namespace mqchat::test::cluster

namespace mqchat::test::cluster {
namespace {

// `./mqchat bench cluster` cannot rot unseen: a short, slow run on this cluster.
TEST(ClusterBenchSmoke, OneNodeAndSplitRunsReport) {
  const std::string out = Cluster::run_dir + "/bench-smoke";
  const std::string cmd = "'" + std::string(MQCHAT_SOURCE_DIR) + "/bench/cluster' --use '" + Cluster::run_dir +
                          "' --rate 200 --pairs 2 --duration 4 --warmup 1 --out '" + out + "' >&2";
  ASSERT_EQ(run_command(cmd), 0) << cmd;
  for (const char* label : {"one-node", "split"}) {
    const auto doc = nlohmann::json::parse(std::ifstream(out + "/" + std::string(label) + ".json"), nullptr, false);
    ASSERT_TRUE(doc.is_object()) << label;
    EXPECT_GT(doc["acked"].get<long>(), 0) << label;
    EXPECT_EQ(doc["duplicates"].get<long>(), 0) << label;
    EXPECT_GT(doc["latency_us"]["count"].get<long>(), 0) << label << ": nothing arrived";
    EXPECT_TRUE(doc["cpu"].contains("redis_primary")) << label;
  }
  std::ifstream md(out + "/results.md");
  EXPECT_TRUE(md.good());
  // The medians table over runs (here the same run twice): one row per layout.
  const std::string medians = out + "/medians.md";
  const std::string table = "python3 '" + std::string(MQCHAT_SOURCE_DIR) + "/bench/cluster_medians.py' smoke='" + out +
                            "," + out + "' > '" + medians + "'";
  ASSERT_EQ(run_command(table), 0) << table;
  std::ifstream rows(medians);
  int smoke_rows = 0;
  for (std::string line; std::getline(rows, line);) smoke_rows += line.rfind("| smoke | ", 0) == 0;
  EXPECT_EQ(smoke_rows, 2);
}

// A client that published on one node, lost that connection before its PUBACK and published the
// same message again on another node: each node's plugin takes its copy (their dedup caches are
// their own), and Postgres keeps one row per (conversation, sender, client_id) (sql/040). Both
// copies go out live before either is stored, so a recipient may see the message twice, under two
// ids with the same client_id; history has one (docs/PROTOCOL.md: recipients de-duplicate live
// messages by (sender, client_id) as well as by id).
TEST(ClusterDedup, TheSameClientIdOnTwoNodesIsStoredOnce) {
  const std::string pw = "cluster-pw";
  const std::string alice = make_user("da", pw), bob = make_user("db", pw);
  const std::string room = room_of(alice, bob);
  const std::string t = "chat/" + room + "/messages";
  TestClient a1(alice, pw, at(Cluster::node_uri(1))), a2(alice, pw, at(Cluster::node_uri(2))),
      b(bob, pw, at(Cluster::node_uri(2)));
  for (auto* c : {&a1, &a2, &b}) c->connect();
  ASSERT_LT(b.subscribe(t), 0x80);
  std::this_thread::sleep_for(300ms);

  constexpr int kMessages = 60;
  // Both nodes at once (the two shippers race to store the copies), in both orders.
  std::atomic<int> refused{0};
  auto send_all = [&](TestClient& c, bool reverse) {
    for (int k = 0; k < kMessages; ++k) {
      const int i = reverse ? kMessages - 1 - k : k;
      const std::string payload = json{{"content", "retried " + std::to_string(i)}, {"client_id", "x-" + std::to_string(i)}}.dump();
      if (c.publish(t, payload) != 0) ++refused;
    }
  };
  std::thread one([&] { send_all(a1, false); });
  std::thread two([&] { send_all(a2, true); });
  one.join();
  two.join();
  ASSERT_EQ(refused.load(), 0);

  // Every copy shipped (both nodes' spools drain within a second or two), then counted.
  const std::string count_sql = "select count(*) || '/' || count(distinct m.client_id) from messages m join conversations c "
                                "on c.id = m.conversation_id where c.room = '" + room + "'";
  std::string counts;
  for (int i = 0; i < 50 && counts != std::to_string(kMessages) + "/" + std::to_string(kMessages); ++i) {
    std::this_thread::sleep_for(200ms);
    counts = query_value(count_sql);
  }
  std::this_thread::sleep_for(3s);  // the later copies have had their chance to be stored
  EXPECT_EQ(query_value(count_sql), std::to_string(kMessages) + "/" + std::to_string(kMessages))
      << "rows / distinct client ids of the room";
  EXPECT_EQ(query_value("select count(*) from ingest_rejects"), "0") << "a skipped copy is not a rejected one";

  // What bob (node2) saw live: every message at least once; a second copy carries another id.
  std::map<std::string, std::set<std::string>> ids_by_client_id;
  for (const auto& m : b.collect(t, 1500ms)) {
    const auto j = json::parse(m.payload, nullptr, false);
    ids_by_client_id[j.value("client_id", "")].insert(j.value("id", ""));
  }
  EXPECT_EQ(ids_by_client_id.size(), static_cast<size_t>(kMessages));
  int twice = 0;
  for (const auto& [cid, ids] : ids_by_client_id) twice += ids.size() > 1;
  std::cout << "bob saw " << twice << " of " << kMessages << " messages twice (two ids, one stored)\n";
}

// The usual order: the first copy was routed before the retry came on another node. That node's
// backplane injected the first copy, so it holds the retry back: a recipient elsewhere gets the
// message once (on the retry's node, both copies reach local subscribers: the broker delivers the
// retry before anyone could ask the cluster).
TEST(ClusterDedup, ARetryOnAnotherNodeIsNotRoutedAgain) {
  const std::string pw = "cluster-pw";
  const std::string alice = make_user("ra", pw), bob = make_user("rb", pw);
  const std::string room = room_of(alice, bob);
  const std::string t = "chat/" + room + "/messages";
  TestClient a1(alice, pw, at(Cluster::node_uri(1))), a2(alice, pw, at(Cluster::node_uri(2))),
      b(bob, pw, at(Cluster::node_uri(1)));
  for (auto* c : {&a1, &a2, &b}) c->connect();
  ASSERT_LT(b.subscribe(t), 0x80);
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 5; ++i) {
    const std::string payload = json{{"content", "sent twice " + std::to_string(i)}, {"client_id", "r-" + std::to_string(i)}}.dump();
    ASSERT_EQ(a1.publish(t, payload), 0);
    ASSERT_TRUE(b.wait_message(t, 5s)) << "bob did not get the first copy";
    std::this_thread::sleep_for(500ms);  // routed to node2 meanwhile
    ASSERT_EQ(a2.publish(t, payload), 0);  // the "retry", on node2
    EXPECT_TRUE(b.collect(t, 1500ms).empty()) << "the retry on node2 reached bob on node1 too (message " << i << ")";
  }
  std::string stored;
  for (int i = 0; i < 25 && stored != "5"; ++i, std::this_thread::sleep_for(200ms))
    stored = query_value("select count(*) from messages m join conversations c on c.id = m.conversation_id "
                         "where c.room = '" + room + "'");
  EXPECT_EQ(stored, "5");
}

}  // namespace
}  // namespace mqchat::test::cluster
