// Metrics against the real stack: known traffic (good messages, refusals of known reasons, a wrong
// password, history requests) moves the exported numbers by exactly that much, on the plugin's
// $SYS/broker/mqchat/... topics (read as a service account) and on the plugin's and the bridge's
// Prometheus endpoints (plain HTTP GET). The broker is restarted with a 1 s $SYS interval.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/fixtures.h"
#include "tests/support/http_get.h"

namespace mqchat::test {

namespace {

constexpr int kNotAuthorized = 0x87;
constexpr auto kWait = std::chrono::seconds(15);

int env_port(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : 0;
}

using Values = std::map<std::string, double>;

// `name{labels} value` lines of a Prometheus text exposition.
Values scrape(int port) {
  const std::string response = http_get(port, "/metrics");
  const auto body = response.find("\r\n\r\n");
  Values out;
  if (response.find(" 200 ") == std::string::npos || body == std::string::npos) return out;
  std::istringstream in(response.substr(body + 4));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

double at(const Values& v, const std::string& key) {
  const auto it = v.find(key);
  return it == v.end() ? -1e18 : it->second;
}

// Polls `read` until `ok` holds or `kWait` passes; returns the last values read.
Values wait_until(const std::function<Values()>& read, const std::function<bool(const Values&)>& ok) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  Values v = read();
  while (!ok(v) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    v = read();
  }
  return v;
}

// The retained $SYS/broker/mqchat/... tree as the service account sees it, kept current.
class SysReader {
 public:
  SysReader() : client_("svc:bridge", Stack::bridge_password(), options()) {
    client_.connect();
    if (client_.subscribe("$SYS/broker/mqchat/#", 0) >= 0x80) throw std::runtime_error("$SYS refused to the service");
  }
  Values read() {
    while (auto m = client_.wait_message("", std::chrono::milliseconds(20)))
      values_[m->topic.substr(std::string("$SYS/broker/mqchat/").size())] = std::stod(m->payload);
    return values_;
  }

 private:
  static ClientOptions options() {
    ClientOptions o;
    o.client_id = "metrics-test-" + random_hex();  // not the bridge's reserved mqchat-bridge… ids
    return o;
  }
  TestClient client_;
  Values values_;
};

std::string refused(const std::string& reason) { return "mqchat_messages_refused_total{reason=\"" + reason + "\"}"; }
const char* kReasons[] = {"blank", "too_long", "invalid_utf8", "bad_json", "read_only", "not_participant",
                          "payload_too_large", "rate_limited", "unavailable", "other"};

}  // namespace

class Metrics : public PairTest {
 protected:
  static void SetUpTestSuite() {
    if (!Stack::available()) return;
    Stack::svc("restart", "broker", "metrics.sys_interval_s=1");
    // The bridge reconnects with a backoff of a few seconds; a request published before it is
    // back may never reach it. Its connection is the only one at this point (the suite runs alone).
    wait_until([] { return scrape(env_port("MQCHAT_METRICS_PORT")); },
               [](const Values& v) { return at(v, "mqchat_connections_all") >= 1; });
  }
  static void TearDownTestSuite() {
    if (Stack::available()) Stack::svc("restart", "broker");  // back to the stack's own settings
  }
  void SetUp() override {
    PairTest::SetUp();
    plugin_port_ = env_port("MQCHAT_METRICS_PORT");
    bridge_port_ = env_port("MQCHAT_BRIDGE_METRICS_PORT");
    ASSERT_GT(plugin_port_, 0) << "MQCHAT_METRICS_PORT is not set by ./mqchat test";
    ASSERT_GT(bridge_port_, 0) << "MQCHAT_BRIDGE_METRICS_PORT is not set by ./mqchat test";
  }
  Values plugin() const { return scrape(plugin_port_); }
  Values bridge() const { return scrape(bridge_port_); }
  int plugin_port_ = 0, bridge_port_ = 0;
};

TEST_F(Metrics, KnownTrafficMovesSysTopicsAndPrometheusByExactlyThatMuch) {
  constexpr int kGood = 5, kHistory = 3;
  SysReader sys;
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  EXPECT_EQ(alice.subscribe("$SYS/broker/mqchat/#"), kNotAuthorized);  // users never read $SYS
  ASSERT_LT(alice.subscribe("users/" + pair_.alice + "/history"), 0x80);
  ASSERT_LT(alice.subscribe("users/" + pair_.alice + "/errors"), 0x80);
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  ASSERT_LT(bob.subscribe(messages_topic(pair_.room)), 0x80);
  const std::string history_topic = "chat/" + pair_.room + "/history";
  // The bridge is up (it reconnected after the broker restart) before anything is counted.
  ASSERT_EQ(alice.publish(history_topic, R"({"request_id":"warm-up"})"), 0);
  ASSERT_TRUE(alice.wait_message("users/" + pair_.alice + "/history", kWait));

  // Baselines, once the shipper has nothing pending and $SYS has caught up with Prometheus.
  const Values p0 = wait_until([&] { return plugin(); },
                               [](const Values& v) { return at(v, "mqchat_shipper_lag_seconds") == 0; });
  const Values b0 = bridge();
  ASSERT_FALSE(p0.empty()) << "no metrics on port " << plugin_port_;
  ASSERT_FALSE(b0.empty()) << "no metrics on port " << bridge_port_;
  const Values s0 = wait_until([&] { return sys.read(); }, [&](const Values& v) {
    return at(v, "messages/accepted") == at(p0, "mqchat_messages_accepted_total") &&
           at(v, "logins/ok") == at(p0, "mqchat_logins_total{result=\"ok\"}") &&
           at(v, "connections/mqtt") == at(p0, "mqchat_connections{listener=\"mqtt\"}");
  });

  // The traffic.
  for (int i = 0; i < kGood; ++i) ASSERT_EQ(alice.publish(messages_topic(pair_.room), "good " + std::to_string(i)), 0);
  EXPECT_EQ(alice.publish(messages_topic(pair_.room), "   "), kNotAuthorized);                  // blank
  EXPECT_EQ(alice.publish(messages_topic(pair_.room), "\t\n"), kNotAuthorized);                 // blank
  EXPECT_EQ(alice.publish(messages_topic(pair_.room), std::string(4001, 'x')), kNotAuthorized);  // too_long
  EXPECT_EQ(alice.publish(messages_topic(pair_.room), "bad \xc3\x28"), kNotAuthorized);         // invalid_utf8
  EXPECT_EQ(alice.publish("chat/" + pair_.room + "/events", "{}"), kNotAuthorized);              // read_only
  for (int i = 0; i < kHistory; ++i) {
    ASSERT_EQ(alice.publish(history_topic, R"({"request_id":"h)" + std::to_string(i) + "\"}"), 0);
    ASSERT_TRUE(alice.wait_message("users/" + pair_.alice + "/history", kWait)) << i;
  }
  TestClient wrong(pair_.bob, "not the password");
  EXPECT_FALSE(wrong.try_connect());
  auto third = std::make_unique<TestClient>(pair_.bob, kPassword);
  third->connect();

  const std::map<std::string, double> plugin_diff = {
      {"mqchat_messages_accepted_total", kGood},
      {"mqchat_messages_duplicate_total", 0},
      {refused("blank"), 2},
      {refused("too_long"), 1},
      {refused("invalid_utf8"), 1},
      {refused("read_only"), 1},
      {refused("bad_json"), 0},
      {refused("not_participant"), 0},
      {refused("other"), 0},
      {"mqchat_logins_total{result=\"ok\"}", 1},
      {"mqchat_logins_total{result=\"refused\"}", 1},
      {"mqchat_connections{listener=\"mqtt\"}", 1},
      {"mqchat_connections_all", 1},
      {"mqchat_deliveries_total{kind=\"messages\"}", kGood},            // to bob
      {"mqchat_deliveries_total{kind=\"users\"}", kHistory + 5},        // alice's replies and reports
      {"mqchat_shipper_messages_total", kGood},
  };
  const auto matches = [&](const Values& now, const Values& base, const std::map<std::string, double>& diff) {
    for (const auto& [key, d] : diff)
      if (at(now, key) - at(base, key) != d) return false;
    return true;
  };
  const Values p1 = wait_until([&] { return plugin(); }, [&](const Values& v) { return matches(v, p0, plugin_diff); });
  for (const auto& [key, d] : plugin_diff) EXPECT_EQ(at(p1, key) - at(p0, key), d) << key;
  for (const char* reason : kReasons) {
    if (!plugin_diff.count(refused(reason))) {
      EXPECT_EQ(at(p1, refused(reason)), at(p0, refused(reason))) << reason;
    }
  }
  EXPECT_GE(at(p1, "mqchat_spool_bytes") - at(p0, "mqchat_spool_bytes"), kGood * 100.0);
  EXPECT_GE(at(p1, "mqchat_spool_segments"), 1);
  EXPECT_GE(at(p1, "mqchat_shipper_batch_size_count") - at(p0, "mqchat_shipper_batch_size_count"), 1);
  EXPECT_LE(at(p1, "mqchat_shipper_batch_size_count") - at(p0, "mqchat_shipper_batch_size_count"), kGood);
  EXPECT_EQ(at(p1, "mqchat_shipper_batch_size_sum") - at(p0, "mqchat_shipper_batch_size_sum"), kGood);
  EXPECT_EQ(at(p1, "mqchat_postgres_errors_total{component=\"shipper\"}"),
            at(p0, "mqchat_postgres_errors_total{component=\"shipper\"}"));

  // The same numbers on $SYS, under their topic names.
  const std::map<std::string, double> sys_diff = {
      {"messages/accepted", kGood},
      {"messages/refused/blank", 2},
      {"messages/refused/too_long", 1},
      {"messages/refused/invalid_utf8", 1},
      {"messages/refused/read_only", 1},
      {"messages/refused/other", 0},
      {"logins/ok", 1},
      {"logins/refused", 1},
      {"connections/mqtt", 1},
      {"connections/all", 1},
      {"deliveries/messages", kGood},
      {"shipper/messages", kGood},
  };
  const Values s1 = wait_until([&] { return sys.read(); }, [&](const Values& v) { return matches(v, s0, sys_diff); });
  for (const auto& [key, d] : sys_diff) EXPECT_EQ(at(s1, key) - at(s0, key), d) << "$SYS/broker/mqchat/" << key;
  EXPECT_EQ(at(s1, "spool/bytes"), at(p1, "mqchat_spool_bytes"));

  // The bridge: K history requests served, each timed.
  const std::map<std::string, double> bridge_diff = {
      {"mqchat_bridge_requests_total{kind=\"history\",result=\"ok\"}", kHistory},
      {"mqchat_bridge_requests_total{kind=\"history\",result=\"refused\"}", 0},
      {"mqchat_bridge_requests_total{kind=\"read\",result=\"ok\"}", 0},
      {"mqchat_bridge_request_duration_seconds_count{kind=\"history\"}", kHistory},
  };
  const Values b1 = wait_until([&] { return bridge(); }, [&](const Values& v) { return matches(v, b0, bridge_diff); });
  for (const auto& [key, d] : bridge_diff) EXPECT_EQ(at(b1, key) - at(b0, key), d) << key;
  EXPECT_GT(at(b1, "mqchat_bridge_request_duration_seconds_sum{kind=\"history\"}"),
            at(b0, "mqchat_bridge_request_duration_seconds_sum{kind=\"history\"}"));
  EXPECT_EQ(at(b1, "mqchat_bridge_request_duration_seconds_bucket{kind=\"history\",le=\"+Inf\"}") -
                at(b0, "mqchat_bridge_request_duration_seconds_bucket{kind=\"history\",le=\"+Inf\"}"),
            kHistory);

  // A connection that goes is no longer counted; one over WebSocket counts under its listener.
  third.reset();
  ClientOptions over_ws;
  over_ws.uri = "ws://127.0.0.1:" + std::to_string(Stack::ws_port()) + "/mqtt";
  TestClient web(pair_.bob, kPassword, over_ws);
  web.connect();
  const std::string ws = "mqchat_connections{listener=\"websockets\"}", mqtt = "mqchat_connections{listener=\"mqtt\"}";
  const Values p2 = wait_until([&] { return plugin(); }, [&](const Values& v) {
    return at(v, mqtt) == at(p0, mqtt) && at(v, ws) == at(p0, ws) + 1;
  });
  EXPECT_EQ(at(p2, mqtt), at(p0, mqtt));
  EXPECT_EQ(at(p2, ws), at(p0, ws) + 1);
  EXPECT_EQ(at(p2, "mqchat_connections_all"), at(p0, "mqchat_connections_all") + 1);
  web.disconnect();
  const Values p3 = wait_until([&] { return plugin(); }, [&](const Values& v) { return at(v, ws) == at(p0, ws); });
  EXPECT_EQ(at(p3, ws), at(p0, ws));
  EXPECT_EQ(at(p3, "mqchat_connections_all"), at(p0, "mqchat_connections_all"));
}

TEST_F(Metrics, ShipperLagAndPostgresErrorsShowAnOutageAndItsEnd) {
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  const Values p0 = plugin();
  Stack::svc("stop", "postgres");
  ASSERT_EQ(alice.publish(messages_topic(pair_.room), "while Postgres is away"), 0);
  // The message waits in the spool: the lag grows and the shipper counts its failed attempts.
  const Values p1 = wait_until([&] { return plugin(); }, [&](const Values& v) {
    return at(v, "mqchat_shipper_lag_seconds") >= 1.0 &&
           at(v, "mqchat_postgres_errors_total{component=\"shipper\"}") >
               at(p0, "mqchat_postgres_errors_total{component=\"shipper\"}");
  });
  EXPECT_GE(at(p1, "mqchat_shipper_lag_seconds"), 1.0);
  EXPECT_GT(at(p1, "mqchat_postgres_errors_total{component=\"shipper\"}"),
            at(p0, "mqchat_postgres_errors_total{component=\"shipper\"}"));
  Stack::svc("start", "postgres");
  const Values p2 = wait_until([&] { return plugin(); }, [&](const Values& v) {
    return at(v, "mqchat_shipper_lag_seconds") == 0 &&
           at(v, "mqchat_shipper_messages_total") - at(p0, "mqchat_shipper_messages_total") == 1;
  });
  EXPECT_EQ(at(p2, "mqchat_shipper_lag_seconds"), 0);
  EXPECT_EQ(at(p2, "mqchat_shipper_messages_total") - at(p0, "mqchat_shipper_messages_total"), 1);
  EXPECT_GT(at(p2, "mqchat_postgres_connects_total{component=\"shipper\"}"),
            at(p0, "mqchat_postgres_connects_total{component=\"shipper\"}"));
}

// The plugin's threads carry names, so that `top -H`, `perf` and a per-thread CPU reading tell the
// shipper, the spool's fsync, the directory followers and the state files apart.
TEST_F(Metrics, PluginThreadsAreNamedByWhatTheyDo) {
  std::ifstream pid_file(Stack::run_dir() + "/mosquitto.pid");
  int pid = 0;
  pid_file >> pid;
  ASSERT_GT(pid, 0) << "no pid in " << Stack::run_dir() << "/mosquitto.pid";
  std::multiset<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  for (const char* want : {"mqchat-spool", "mqchat-ship-0", "mqchat-ship-1", "mqchat-fsync", "mqchat_profiles",
                           "mqchat_groups", "mqchat-logins", "mqchat-client_i"})
    EXPECT_EQ(names.count(want), 1u) << want;
  EXPECT_GE(names.count("mosquitto"), 1u) << "the broker's own thread keeps its name";
}

}  // namespace mqchat::test
