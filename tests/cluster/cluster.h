#pragma once
// The cluster the tests run against: scripts/cluster/cluster up in network namespaces of its own
// (a name and a /24 not used by anyone else), brought down again when the program ends.
#include <string>
#include <vector>

#include "tests/support/mqtt_client.h"

namespace mqchat::test::cluster {

struct Cluster {
  static std::string run_dir;   // the cluster lives in <run_dir>/cluster
  static std::string entry;     // HAProxy's address
  static std::vector<std::string> nodes;  // node addresses, node1 first
  static std::string dsn;

  static bool usable(std::string* why);  // root and `ip netns`
  static void up(int nodes);             // throws on failure (after cleaning up)
  static void down();
  // scripts/cluster/cluster ARGS… for this cluster; its exit status.
  static int run(const std::string& args, std::string* out = nullptr);
  static std::string node_uri(int n) { return "tcp://" + nodes.at(n - 1) + ":1883"; }
  static std::string entry_uri() { return "tcp://" + entry + ":1883"; }
};

ClientOptions at(const std::string& uri, ClientOptions o = {});
// A user the cluster's plugins know (the directory hears of new users by LISTEN: a retry or two).
std::string make_user(const std::string& prefix, const std::string& password);
void wait_login(const std::string& user, const std::string& password, const std::string& uri);
std::string room_of(const std::string& a, const std::string& b);

}  // namespace mqchat::test::cluster
