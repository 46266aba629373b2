#include <gtest/gtest.h>

#include "bridge/backplane.h"
#include "bridge/redis_link.h"

using namespace mqchat::bridge;

TEST(BackplaneRules, PresenceTopicNamesItsUser) {
  EXPECT_EQ(backplane_rules::presence_user("users/alice/presence"), "alice");
  EXPECT_FALSE(backplane_rules::presence_user("users/alice/presence/x"));
  EXPECT_FALSE(backplane_rules::presence_user("users//presence"));
  EXPECT_FALSE(backplane_rules::presence_user("users/Alice_x/presence"));
  EXPECT_FALSE(backplane_rules::presence_user("users/alice/conversations"));
  EXPECT_FALSE(backplane_rules::presence_user("chat/alice_bob/presence"));
}

TEST(BackplaneRules, PresenceStatus) {
  EXPECT_EQ(backplane_rules::presence_online(R"({"status":"online","since":"x"})"), true);
  EXPECT_EQ(backplane_rules::presence_online(R"({"status":"offline"})"), false);
  EXPECT_FALSE(backplane_rules::presence_online(R"({"status":"away"})"));
  EXPECT_FALSE(backplane_rules::presence_online("online"));
  EXPECT_FALSE(backplane_rules::presence_online(R"({"status":1})"));
}

TEST(BackplaneRules, RoutesWhatClientsReceiveButNotRequests) {
  const auto& f = backplane_rules::routed_filters();
  for (const char* want : {"chat/+/messages", "chat/+/typing", "chat/+/events", "users/+/#"})
    EXPECT_NE(std::find(f.begin(), f.end(), want), f.end()) << want;
  // Requests are served by the bridge of the node they arrive at: never routed.
  for (const auto& filter : f) EXPECT_EQ(filter.find("history"), std::string::npos);
}

TEST(BackplaneRules, HeaderRoundTripsAndRefusesMalformed) {
  BackplaneEntry e;
  e.origin = "node2";
  e.all = true;
  e.boot = "0123abcd";
  e.seq = 18446744073709551615ull;
  e.retained = true;
  e.qos = 0;
  BackplaneEntry d;
  ASSERT_TRUE(backplane_rules::decode_header(backplane_rules::encode_header(e), d));
  EXPECT_EQ(d.origin, "node2");
  EXPECT_TRUE(d.all);
  EXPECT_EQ(d.boot, "0123abcd");
  EXPECT_EQ(d.seq, e.seq);
  EXPECT_TRUE(d.retained);
  EXPECT_EQ(d.qos, 0);
  e.all = e.retained = false;
  e.qos = 1;
  ASSERT_TRUE(backplane_rules::decode_header(backplane_rules::encode_header(e), d));
  EXPECT_FALSE(d.all);
  EXPECT_FALSE(d.retained);
  EXPECT_EQ(d.qos, 1);
  for (const char* bad : {"", "node1", "node1\x1f" "0\x1f" "b\x1f" "x1\x1f" "0\x1f" "1", "\x1f" "0\x1f" "b\x1f" "1\x1f" "0\x1f" "1",
                          "n\x1f" "0\x1f" "b\x1f" "1\x1f" "0\x1f" "1\x1f" "extra"})
    EXPECT_FALSE(backplane_rules::decode_header(bad, d)) << bad;
}

TEST(BackplaneRules, RetryKeyIsRoomSenderAndClientId) {
  using backplane_rules::retry_key;
  const std::string m = R"({"id":"1","room":"a_b","sender":"a","content":"x","metadata":{"client_id":"no"},"client_id":"k1"})";
  EXPECT_EQ(retry_key("chat/a_b/messages", m), std::string("chat/a_b/messages") + '\0' + "a" + '\0' + "k1");
  EXPECT_FALSE(retry_key("chat/a_b/events", m));
  EXPECT_FALSE(retry_key("users/a/history", m));
  EXPECT_FALSE(retry_key("chat/a_b/messages", R"({"id":"1","sender":"a","client_id":null})"));
  EXPECT_FALSE(retry_key("chat/a_b/messages", R"({"id":"1","sender":"a"})"));
  EXPECT_FALSE(retry_key("chat/a_b/messages", R"({"client_id":"k1"} not json)"));
  EXPECT_NE(retry_key("chat/a_b/messages", m), retry_key("chat/a_c/messages", m));
}

TEST(BackplaneRules, RecentKeysForgetAfterTheWindowOrBeyondTheBound) {
  backplane_rules::RecentKeys recent(10, 3);
  EXPECT_FALSE(recent.seen_or_add("k1", 100));
  EXPECT_TRUE(recent.seen_or_add("k1", 105));
  EXPECT_TRUE(recent.seen_or_add("k1", 109));
  EXPECT_FALSE(recent.seen_or_add("k1", 110));  // the window passed: a new message
  recent.forget("k1");
  EXPECT_FALSE(recent.seen_or_add("k1", 111));
  for (const char* k : {"k2", "k3", "k4", "k5"}) EXPECT_FALSE(recent.seen_or_add(k, 112));
  EXPECT_LE(recent.size(), 4u);
  EXPECT_FALSE(recent.seen_or_add("k1", 112)) << "the oldest is forgotten beyond the bound";
}

TEST(BackplaneRules, InjectedQosIsTheTopics) {
  using backplane_rules::injected_qos;
  EXPECT_EQ(injected_qos("chat/a_b/typing"), 0);
  EXPECT_EQ(injected_qos("chat/a_b/messages"), 1);
  EXPECT_EQ(injected_qos("chat/a_b/events"), 1);
  EXPECT_EQ(injected_qos("users/a/presence"), 1);
  EXPECT_EQ(injected_qos("users/typing/conversations"), 1);
  EXPECT_EQ(injected_qos("chat//typing"), 0);
}

TEST(BackplaneRules, DedupSkipsRepeatsPerStreamOriginAndBoot) {
  backplane_rules::Dedup d;
  const std::string s = "mqchat:bp:node1";
  EXPECT_TRUE(d.is_new(s, "node1", "b1", 1));
  d.record(s, "node1", "b1", 1);
  EXPECT_FALSE(d.is_new(s, "node1", "b1", 1));  // the same entry written twice across a failover
  EXPECT_TRUE(d.is_new(s, "node1", "b1", 2));
  EXPECT_TRUE(d.is_new(s, "node2", "b1", 1));   // another origin
  EXPECT_TRUE(d.is_new(s, "node1", "b2", 1));   // node1 restarted: numbering starts over
  d.record(s, "node1", "b1", 5);
  EXPECT_FALSE(d.is_new(s, "node1", "b1", 3));
  d.record(s, "node1", "b1", 4);                // never goes back
  EXPECT_FALSE(d.is_new(s, "node1", "b1", 5));
  // The same origin's lower numbers in its other stream (the shared one) are not repeats.
  EXPECT_TRUE(d.is_new("mqchat:bp", "node1", "b1", 3));
}

TEST(RedisLink, ParsesHostPortLists) {
  const auto l = parse_host_ports("10.77.0.5:26379,10.77.0.5:26380");
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].host, "10.77.0.5");
  EXPECT_EQ(l[1].port, 26380);
  EXPECT_TRUE(parse_host_ports("").empty());
  EXPECT_THROW(parse_host_ports("nohost"), std::invalid_argument);
  EXPECT_THROW(parse_host_ports("h:0"), std::invalid_argument);
}

TEST(BackplaneRules, RetryMarkersAreNotForwarded) {
  EXPECT_TRUE(backplane_rules::is_retry_marker("chat/alice_bob/messages", ""));
  EXPECT_FALSE(backplane_rules::is_retry_marker("chat/alice_bob/messages", "{}"));
  EXPECT_FALSE(backplane_rules::is_retry_marker("chat/alice_bob/typing", ""));
  EXPECT_FALSE(backplane_rules::is_retry_marker("users/alice/presence", ""));  // a cleared retained topic is real
}
