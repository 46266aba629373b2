#include "tests/cluster/cluster.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/db.h"
#include "tests/support/stack.h"

namespace mqchat::test::cluster {

std::string Cluster::run_dir, Cluster::entry, Cluster::dsn;
std::vector<std::string> Cluster::nodes;

namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
std::string script() { return env_or("MQCHAT_ROOT", MQCHAT_SOURCE_DIR) + "/scripts/cluster/cluster"; }
std::string name_and_net;  // MQCHAT_CLUSTER_NAME=… MQCHAT_CLUSTER_NET=…
}  // namespace

bool Cluster::usable(std::string* why) {
  if (geteuid() != 0) {
    *why = "the cluster tests need root (network namespaces, veth links, a bridge)";
    return false;
  }
  if (run_command("ip netns list >/dev/null 2>&1") != 0) {
    *why = "`ip netns` does not work here";
    return false;
  }
  if (run_command("command -v redis-server && command -v redis-sentinel && command -v haproxy >/dev/null") != 0) {
    *why = "redis-server, redis-sentinel and haproxy are needed (./mqchat up installs them)";
    return false;
  }
  return true;
}

int Cluster::run(const std::string& args, std::string* out) {
  const std::string cmd = "MQCHAT_RUN_DIR='" + run_dir + "' MQCHAT_BUILD_DIR='" +
                          env_or("MQCHAT_BUILD_DIR", MQCHAT_BINARY_DIR) + "' " + name_and_net + " '" + script() +
                          "' " + args + (out ? "" : " >&2");
  return run_command(cmd, out);
}

void Cluster::up(int n) {
  // A name and a subnet of our own, so a cluster someone keeps up on this machine is left alone.
  const int pick = static_cast<int>(getpid() % 150);
  name_and_net = "MQCHAT_CLUSTER_NAME=mqt" + std::to_string(getpid() % 100000) + " MQCHAT_CLUSTER_NET=10.77." +
                 std::to_string(100 + pick);
  // A test program killed before its teardown (a ctest timeout) leaves its cluster up: take down
  // those of programs that are gone, so no namespace or process outlives them for long.
  const std::string base = env_or("MQCHAT_RUN_DIR", "/tmp");
  run_command("for d in '" + base + "'/cluster-test-*; do [ -f \"$d/cluster/state\" ] || continue; "
              "kill -0 \"${d##*-}\" 2>/dev/null && continue; MQCHAT_RUN_DIR=\"$d\" '" + script() + "' down >&2; done");
  run_dir = base + "/cluster-test-" + std::to_string(getpid());
  run_command("mkdir -p '" + run_dir + "' && chmod 755 '" + run_dir + "'");
  // The tests send bursts from one user and open many connections, as the single-node tests do.
  setenv("MQCHAT_PLUGIN_OPTS", "limits.messages_per_second=0 limits.max_connections_per_user=0", 0);
  if (run("up --nodes " + std::to_string(n)) != 0) throw std::runtime_error("cluster up failed (logs in " + run_dir + ")");
  std::string env;
  run("env", &env);
  std::istringstream lines(env);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (!value.empty() && value.front() == '\'') value = value.substr(1, value.size() - 2);
    if (key == "MQCHAT_CLUSTER_DSN") dsn = value;
    if (key == "MQCHAT_CLUSTER_ENTRY") entry = value;
    if (key == "MQCHAT_CLUSTER_NODES") {
      std::istringstream ips(value);
      for (std::string ip; ips >> ip;) nodes.push_back(ip);
    }
  }
  // The shared helpers (create_user, query_value, …) talk to the cluster's Postgres.
  setenv("MQCHAT_DATABASE_URL", dsn.c_str(), 1);
}

void Cluster::down() {
  if (!run_dir.empty()) run("down");
}

ClientOptions at(const std::string& uri, ClientOptions o) {
  o.uri = uri;
  return o;
}

std::string make_user(const std::string& prefix, const std::string& password) {
  const std::string user = unique_username(prefix);
  create_user(user, password);
  for (size_t i = 1; i <= Cluster::nodes.size(); ++i) wait_login(user, password, Cluster::node_uri(static_cast<int>(i)));
  return user;
}

void wait_login(const std::string& user, const std::string& password, const std::string& uri) {
  for (int i = 0; i < 100; ++i) {
    TestClient c(user, password, at(uri));
    if (c.try_connect()) {
      c.disconnect();
      return;
    }
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error(user + " cannot log in at " + uri);
}

std::string room_of(const std::string& a, const std::string& b) { return a < b ? a + "_" + b : b + "_" + a; }

}  // namespace mqchat::test::cluster
