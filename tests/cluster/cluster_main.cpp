// The cluster tests: one cluster (2 nodes) for the whole program. Not root or no network
// namespaces: exit 77, which ctest reports as skipped (and ./mqchat test counts as a failure).
#include <gtest/gtest.h>

#include <iostream>

#include "tests/cluster/cluster.h"

using mqchat::test::cluster::Cluster;

namespace {
class ClusterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    try {
      Cluster::up(2);
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }
  void TearDown() override { Cluster::down(); }
};
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string why;
  if (!Cluster::usable(&why)) {
    std::cerr << "cluster tests SKIPPED: " << why << "\n";
    return 77;
  }
  ::testing::AddGlobalTestEnvironment(new ClusterEnvironment);
  return RUN_ALL_TESTS();
}
