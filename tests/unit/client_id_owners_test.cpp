#include "plugin/client_id_owners.h"

#include <gtest/gtest.h>

#include "plugin/authenticator.h"
#include "plugin/state_file.h"

#include <sys/stat.h>
#include <unistd.h>

using namespace mqchat;
using V = ClientIdOwners::Verdict;

namespace {
SessionSettings small() {
  SessionSettings s;
  s.reserved_prefixes = {"mqchat-bridge"};
  s.max_ids_per_user = 3;
  s.max_ids = 100;
  s.expiry_days = 1;
  return s;
}
}  // namespace

TEST(ClientIdOwners, FirstUserOwnsTheIdOthersAreRefused) {
  ClientIdOwners o(small());
  ClientIdOwners::Changes c;
  EXPECT_EQ(o.claim("alice", false, "phone", 1000, c), V::Ok);
  EXPECT_EQ(o.claim("alice", false, "phone", 1001, c), V::Ok);  // her reconnect
  EXPECT_EQ(o.claim("mallory", false, "phone", 1002, c), V::Taken);
  EXPECT_EQ(o.owner_of("phone"), "alice");
}

TEST(ClientIdOwners, ReservedPrefixesAreForServicesOnly) {
  ClientIdOwners o(small());
  ClientIdOwners::Changes c;
  EXPECT_EQ(o.claim("mallory", false, "mqchat-bridge-1", 0, c), V::Reserved);
  EXPECT_EQ(o.claim("mallory", false, "mqchat-bridge-7", 0, c), V::Reserved);
  EXPECT_EQ(o.claim("svc:bridge", true, "mqchat-bridge-1", 0, c), V::Ok);
  // A service account's (unreserved) id is not a user's either.
  EXPECT_EQ(o.claim("svc:bridge", true, "worker", 0, c), V::Ok);
  EXPECT_EQ(o.claim("mallory", false, "worker", 1, c), V::Taken);
}

TEST(ClientIdOwners, ExpiredClaimsAreFree) {
  ClientIdOwners o(small());
  ClientIdOwners::Changes c;
  EXPECT_EQ(o.claim("alice", false, "x", 0, c), V::Ok);
  EXPECT_EQ(o.claim("bob", false, "x", 86400, c), V::Taken);
  EXPECT_EQ(o.claim("bob", false, "x", 86401, c), V::Ok);
}

TEST(ClientIdOwners, BoundedPerUserAndInTotal) {
  ClientIdOwners o(small());
  ClientIdOwners::Changes c;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(o.claim("alice", false, "a" + std::to_string(i), i, c), V::Ok);
  EXPECT_EQ(o.size(), 3u);  // her least recently used ids were released
  EXPECT_FALSE(o.owner_of("a0"));
  EXPECT_EQ(o.owner_of("a9"), "alice");
  for (int u = 0; u < 200; ++u) o.claim("u" + std::to_string(u), false, "id" + std::to_string(u), 100 + u, c);
  EXPECT_LE(o.size(), 100u);
  EXPECT_EQ(o.owner_of("id199"), "u199");  // the most recent survive
}

TEST(ClientIdOwners, ChangesRoundTripThroughTheStateFile) {
  ClientIdOwners o(small());
  ClientIdOwners::Changes c;
  o.claim("alice", false, "tab\tand\nnewline%", 500, c);
  o.claim("bob", false, "b", 500, c);
  StateFile::Table t;
  for (auto& [k, v] : c) {
    if (v) t[k] = *v;
    else t.erase(k);
  }
  const auto reread = StateFile::parse(StateFile::serialize(t));
  ClientIdOwners restored(small());
  restored.load(reread, 600);
  EXPECT_EQ(restored.owner_of("tab\tand\nnewline%"), "alice");
  EXPECT_EQ(restored.claim("mallory", false, "b", 601, c), V::Taken);
  ClientIdOwners later(small());
  later.load(reread, 500 + 86401);  // expired while the broker was down
  EXPECT_EQ(later.size(), 0u);
}

TEST(StateFile, KeepsItsTableAcrossARestartInAFreshDirectory) {
  const std::string dir = ::testing::TempDir() + "mqchat-state-" + std::to_string(::getpid()) + "/a/b";
  LogQueue log;
  {
    // The login key is made first, in a directory that does not exist yet (first start).
    const auto key = Authenticator::load_or_create_key(dir + "/login.key");
    EXPECT_EQ(Authenticator::load_or_create_key(dir + "/login.key"), key);  // read back, not remade
    StateFile f(dir + "/owners", 100, log);
    EXPECT_TRUE(f.load_and_start().empty());
    f.put("phone", std::string("alice\t1"));
    f.put("gone", std::string("bob\t1"));
    f.put("gone", std::nullopt);
    f.stop();  // writes what is pending
  }
  StateFile again(dir + "/owners", 100, log);
  const auto table = again.load_and_start();
  again.stop();
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table.at("phone"), "alice\t1");
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/owners").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir + "/login.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}
