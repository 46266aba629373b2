// Failures under load: a node killed with kill -9, and the Redis primary killed. Counts what was
// acknowledged, stored and delivered; nothing acknowledged may be lost, nothing stored twice,
// nothing delivered twice.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/cluster/cluster.h"
#include "tests/support/db.h"

namespace mqchat::test::cluster {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Stored messages of a room by client id: how many rows each.
std::map<std::string, int> stored_by_client_id(const std::string& room) {
  auto conn = connect_db();
  pqxx::nontransaction tx(*conn);
  std::map<std::string, int> out;
  for (const auto& row : tx.exec_params("select m.client_id, count(*) from messages m join conversations c on "
                                        "c.id = m.conversation_id where c.room = $1 group by 1",
                                        room))
    out[row[0].is_null() ? "" : row[0].as<std::string>()] = row[1].as<int>();
  return out;
}

// A receiver that counts what it gets by client id.
struct Receiver {
  explicit Receiver(const std::string& user, const std::string& pw, const std::string& uri, const std::string& room)
      : client(user, pw, at(uri)), topic("chat/" + room + "/messages") {
    client.connect();
    client.subscribe(topic);
  }
  void drain(std::chrono::milliseconds window) {
    for (const auto& m : client.collect(topic, window)) {
      const auto j = json::parse(m.payload, nullptr, false);
      if (j.is_object() && j["client_id"].is_string()) ++got[j["client_id"].get<std::string>()];
    }
  }
  int duplicates() const {
    int d = 0;
    for (const auto& [id, n] : got) d += n - 1;
    return d;
  }
  TestClient client;
  std::string topic;
  std::map<std::string, int> got;
};

// Sends numbered QoS 1 messages through `uri` until told to stop; on a lost connection it
// reconnects (same client id) and sends the unacknowledged message again, same client_id.
struct Sender {
  Sender(std::string user, std::string pw, std::string uri, std::string room)
      : user(std::move(user)), pw(std::move(pw)), uri(std::move(uri)), room(std::move(room)) {
    ClientOptions o = at(this->uri);
    o.client_id = "load-" + this->user;
    client = std::make_unique<TestClient>(this->user, this->pw, o);
    client->connect();
  }
  void run(const std::atomic<bool>& stop, std::chrono::milliseconds gap) {
    for (int n = 0; !stop; ++n) {
      const std::string cid = user + "-" + std::to_string(n);
      const std::string payload = json{{"content", "load " + std::to_string(n)}, {"client_id", cid}}.dump();
      while (!stop) {
        if (client->connected() && client->publish("chat/" + room + "/messages", payload) == 0) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(cid);
          break;
        }
        const auto lost = Clock::now();
        ClientOptions o = at(uri);
        o.client_id = "load-" + user;
        while (!stop) {
          client = std::make_unique<TestClient>(user, pw, o);
          if (client->try_connect()) break;
          std::this_thread::sleep_for(100ms);
        }
        std::lock_guard<std::mutex> lock(mu);
        reconnect_s = std::max(reconnect_s, seconds(Clock::now() - lost));
        ++reconnects;
      }
      std::this_thread::sleep_for(gap);
    }
  }
  std::string user, pw, uri, room;
  std::unique_ptr<TestClient> client;
  std::mutex mu;
  std::set<std::string> acked;
  double reconnect_s = 0;
  int reconnects = 0;
};

// Which node a client id is connected to, from the nodes' broker logs (connection_messages).
int node_of(const std::string& client_id) {
  for (size_t i = 1; i <= Cluster::nodes.size(); ++i) {
    std::ifstream log(Cluster::run_dir + "/cluster/node" + std::to_string(i) + "/mosquitto.log");
    std::stringstream all;
    all << log.rdbuf();
    if (all.str().find(" as " + client_id + " ") != std::string::npos) return static_cast<int>(i);
  }
  return 0;
}

// Waits until every acknowledged message of the room is stored (the killed node's spool ships
// when it is back); returns the stored counts.
std::map<std::string, int> wait_stored(const std::string& room, const std::set<std::string>& acked) {
  std::map<std::string, int> stored;
  for (int i = 0; i < 60; ++i) {
    stored = stored_by_client_id(room);
    bool all = true;
    for (const auto& cid : acked) all = all && stored.count(cid);
    if (all) break;
    std::this_thread::sleep_for(500ms);
  }
  return stored;
}

TEST(ClusterFailure, NodeKilledUnderLoad) {
  const std::string pw = "cluster-pw";
  constexpr int kPairs = 3;
  std::vector<std::string> senders, receivers;
  for (int i = 0; i < kPairs; ++i) {
    senders.push_back(make_user("ks", pw));
    receivers.push_back(make_user("kr", pw));
  }
  std::vector<std::unique_ptr<Sender>> load;
  for (int i = 0; i < kPairs; ++i)
    load.push_back(std::make_unique<Sender>(senders[i], pw, Cluster::entry_uri(), room_of(senders[i], receivers[i])));
  // The victim: the node holding most senders (HAProxy placed them by client id).
  std::map<int, int> per_node;
  for (const auto& s : senders) ++per_node[node_of("load-" + s)];
  int victim = 1;
  for (const auto& [node, n] : per_node)
    if (node && n > per_node[victim]) victim = node;
  const int survivor = victim == 1 ? 2 : 1;
  std::vector<std::unique_ptr<Receiver>> rx;
  for (int i = 0; i < kPairs; ++i)
    rx.push_back(std::make_unique<Receiver>(receivers[i], pw, Cluster::node_uri(survivor), room_of(senders[i], receivers[i])));
  std::this_thread::sleep_for(300ms);

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& s : load) threads.emplace_back([&s, &stop] { s->run(stop, 10ms); });
  std::this_thread::sleep_for(2s);
  ASSERT_EQ(Cluster::run("kill node" + std::to_string(victim)), 0);
  const auto killed = Clock::now();
  std::this_thread::sleep_for(6s);
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_EQ(Cluster::run("start node" + std::to_string(victim)), 0);  // its spool ships now
  const double down_s = seconds(Clock::now() - killed);

  int acked = 0, stored = 0, lost = 0, doubled = 0, delivered = 0, dup_delivered = 0, reconnects = 0;
  double worst_reconnect = 0;
  for (int i = 0; i < kPairs; ++i) {
    rx[i]->drain(2s);
    const auto rows = wait_stored(room_of(senders[i], receivers[i]), load[i]->acked);
    for (const auto& cid : load[i]->acked) lost += rows.count(cid) ? 0 : 1;
    for (const auto& [cid, n] : rows) {
      stored += n;
      doubled += n - 1;
    }
    acked += static_cast<int>(load[i]->acked.size());
    delivered += static_cast<int>(rx[i]->got.size());
    dup_delivered += rx[i]->duplicates();
    worst_reconnect = std::max(worst_reconnect, load[i]->reconnect_s);
    reconnects += load[i]->reconnects;
  }
  std::cout << "node" << victim << " killed (down " << down_s << " s): acknowledged " << acked << ", stored " << stored
            << ", lost " << lost << ", stored twice " << doubled << ", delivered live " << delivered
            << " (delivered twice " << dup_delivered << "), senders reconnected " << reconnects
            << " time(s), slowest reconnect " << worst_reconnect << " s" << std::endl;
  EXPECT_GT(acked, 100);
  EXPECT_EQ(lost, 0) << "acknowledged messages missing from Postgres";
  EXPECT_EQ(doubled, 0) << "messages stored twice";
  EXPECT_EQ(dup_delivered, 0) << "messages delivered twice";
  EXPECT_LE(worst_reconnect, 5.0) << "a client took longer than 5 s to get back in through HAProxy";
  if (per_node[victim] > 0) {
    EXPECT_GT(reconnects, 0) << "the senders on the killed node never noticed";
  }
}

TEST(ClusterFailure, RedisPrimaryKilledSentinelPromotesReplica) {
  const std::string pw = "cluster-pw";
  const std::string alice = make_user("fa", pw), bob = make_user("fb", pw);
  const std::string room = room_of(alice, bob);
  Receiver r(bob, pw, Cluster::node_uri(2), room);
  Sender s(alice, pw, Cluster::node_uri(1), room);
  std::this_thread::sleep_for(300ms);

  // Delivery times of messages sent after the kill: the first one tells when routing resumed.
  std::string primary;
  ASSERT_EQ(Cluster::run("primary", &primary), 0);
  primary = primary.substr(0, primary.find('\n'));
  ASSERT_TRUE(primary == "redis1" || primary == "redis2") << primary;

  std::atomic<bool> stop{false};
  std::thread t([&] { s.run(stop, 10ms); });
  std::this_thread::sleep_for(2s);
  const auto killed = Clock::now();  // before the command: under load it takes a while to return
  ASSERT_EQ(Cluster::run("kill " + primary), 0);
  // Everything numbered from here on was sent after the primary died: the first of them to arrive
  // on node2 says when cross-node routing resumed.
  const size_t sent_before = [&] { std::lock_guard<std::mutex> l(s.mu); return s.acked.size() + 1; }();
  double resumed_s = -1;
  while (seconds(Clock::now() - killed) < 20 && resumed_s < 0) {
    if (const auto m = r.client.wait_message(r.topic, 100ms)) {
      const auto j = json::parse(m->payload, nullptr, false);
      const std::string cid = j.value("client_id", "");
      ++r.got[cid];
      if (std::stoul(cid.substr(cid.rfind('-') + 1)) >= sent_before) resumed_s = seconds(Clock::now() - killed);
    }
  }
  std::this_thread::sleep_for(2s);
  stop = true;
  t.join();
  r.drain(2s);
  std::string now_primary;
  Cluster::run("primary", &now_primary);
  ASSERT_EQ(Cluster::run("start " + primary), 0);  // back as a replica of the promoted one

  const auto rows = wait_stored(room, s.acked);
  int lost = 0, doubled = 0, stored = 0;
  for (const auto& cid : s.acked) lost += rows.count(cid) ? 0 : 1;
  for (const auto& [cid, n] : rows) {
    stored += n;
    doubled += n - 1;
  }
  int missed_live = 0;
  for (const auto& cid : s.acked) missed_live += r.got.count(cid) ? 0 : 1;
  std::cout << primary << " killed, primary now " << now_primary.substr(0, now_primary.find('\n'))
            << ": cross-node delivery resumed after " << resumed_s << " s; acknowledged " << s.acked.size()
            << ", stored " << stored << ", lost " << lost << ", stored twice " << doubled << ", delivered live "
            << r.got.size() << " (twice " << r.duplicates() << ", missed " << missed_live
            << ": recovered from history)" << std::endl;
  EXPECT_GE(resumed_s, 0) << "cross-node delivery never resumed";
  EXPECT_LE(resumed_s, 10.0);
  EXPECT_NE(now_primary.substr(0, now_primary.find('\n')), primary) << "Sentinel did not promote the replica";
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(doubled, 0);
  EXPECT_EQ(r.duplicates(), 0);

  // What was missed live is in history, from any node.
  TestClient h(bob, pw, at(Cluster::node_uri(1)));
  h.connect();
  h.subscribe("users/" + bob + "/history");
  std::set<std::string> in_history;
  std::string before;
  for (int page = 0; page < 50; ++page) {
    json req = {{"limit", 200}};
    if (!before.empty()) req["before"] = before;
    ASSERT_EQ(h.publish("chat/" + room + "/history", req.dump()), 0);
    const auto m = h.wait_message("users/" + bob + "/history", 5s);
    ASSERT_TRUE(m);
    const auto j = json::parse(m->payload);
    for (const auto& msg : j["messages"]) in_history.insert(msg.value("client_id", ""));
    if (!j.value("has_more", false) || j["messages"].empty()) break;
    before = j["messages"][0]["id"];
  }
  for (const auto& cid : s.acked) EXPECT_TRUE(in_history.count(cid)) << cid << " not in history";
}

// The bridge that leads (summaries, SQL fan-out) is the one whose last word in its log is
// "leading"; 0 if none says so.
int leading_node() {
  int leader = 0;
  for (size_t i = 1; i <= Cluster::nodes.size(); ++i) {
    std::ifstream log(Cluster::run_dir + "/cluster/node" + std::to_string(i) + "/bridge.log");
    std::string last;
    for (std::string line; std::getline(log, line);)
      for (const char* word : {"summaries: leading", "summaries: another bridge", "summaries: the broker link is down",
                               "summaries: no broker link"})
        if (line.find(word) != std::string::npos) last = word;
    if (last == "summaries: leading") leader = static_cast<int>(i);
  }
  return leader;
}

std::string bridge_log(int node) {
  std::ifstream log(Cluster::run_dir + "/cluster/node" + std::to_string(node) + "/bridge.log");
  std::stringstream all;
  all << log.rdbuf();
  return all.str();
}

// The leader's broker stops, its bridge keeps running (and keeps its Postgres connection): it
// steps down after 2 s without a broker link, and another node's bridge publishes the summaries.
TEST(ClusterLeader, ALeaderWithoutItsBrokerStepsDownAndAnotherNodeLeads) {
  const std::string pw = "cluster-pw";
  const std::string alice = make_user("la", pw), bob = make_user("lb", pw);
  const std::string room = room_of(alice, bob);
  int leader = 0;
  for (int i = 0; i < 50 && !leader; ++i, std::this_thread::sleep_for(200ms)) leader = leading_node();
  ASSERT_NE(leader, 0) << "no bridge leads";
  const int other = leader == 1 ? 2 : 1;
  TestClient a(alice, pw, at(Cluster::node_uri(other))), b(bob, pw, at(Cluster::node_uri(other)));
  a.connect();
  b.connect();
  ASSERT_LT(b.subscribe("users/" + bob + "/conversations"), 0x80);

  const auto stopped = Clock::now();  // the stop itself takes a while (the broker saves its state)
  ASSERT_EQ(Cluster::run("stop node" + std::to_string(leader) + "-broker"), 0);
  ASSERT_EQ(a.publish("chat/" + room + "/messages", R"({"content":"while the leader's broker is down"})"), 0);
  bool seen = false;
  while (!seen && Clock::now() - stopped < 15s) {
    const auto m = b.wait_message("users/" + bob + "/conversations", 500ms);
    if (!m) continue;
    const auto j = json::parse(m->payload, nullptr, false);
    for (const auto& e : j.is_array() ? j : json::array())
      seen = seen || (e.value("room", "") == room && e["last_message"].is_object() &&
                      e["last_message"].value("content", "") == "while the leader's broker is down");
  }
  const double took = seconds(Clock::now() - stopped);
  std::cout << "summary published by node" << other << "'s bridge " << took << " s after node" << leader
            << "'s broker was told to stop\n";
  const std::string log = bridge_log(leader);
  ASSERT_EQ(Cluster::run("start node" + std::to_string(leader) + "-broker"), 0);
  EXPECT_TRUE(seen) << "no summary within 15 s of the leader's broker stopping";
  EXPECT_LT(took, 8.0) << "the lead should move within the step-down time (2 s) and a standby's probe (1 s)";
  EXPECT_NE(log.find("stepping down"), std::string::npos) << "node" << leader << "'s bridge did not step down";
  EXPECT_EQ(leading_node(), other);
}

}  // namespace
}  // namespace mqchat::test::cluster
