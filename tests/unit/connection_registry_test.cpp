#include "plugin/connection_registry.h"

#include <gtest/gtest.h>

using namespace mqchat;

TEST(ConnectionRegistry, OnlineWhileAnyConnectionLives) {
  ConnectionRegistry r;
  int a = 0, b = 0;
  EXPECT_TRUE(r.on_authenticated(&a, "alice", "phone"));
  EXPECT_FALSE(r.on_authenticated(&b, "alice", "laptop"));
  EXPECT_FALSE(r.on_disconnect(&a));
  EXPECT_EQ(r.on_disconnect(&b), "alice");
  EXPECT_FALSE(r.on_disconnect(&b));  // a second event changes nothing
}

TEST(ConnectionRegistry, DepartingConnectionsMayNotPublish) {
  ConnectionRegistry r;
  int a = 0, b = 0;
  r.on_authenticated(&a, "alice", "phone");
  EXPECT_FALSE(r.is_departing(&a));
  r.on_disconnect(&a);
  EXPECT_TRUE(r.is_departing(&a));  // its will comes after the DISCONNECT event
  EXPECT_TRUE(r.is_departing(&b));  // never authenticated
}

TEST(ConnectionRegistry, TakeoverMarksTheOldConnectionDeparting) {
  ConnectionRegistry r;
  int old_conn = 0, new_conn = 0;
  r.on_authenticated(&old_conn, "alice", "phone");
  EXPECT_FALSE(r.on_authenticated(&new_conn, "alice", "phone"));  // still online
  EXPECT_TRUE(r.is_departing(&old_conn));
  EXPECT_FALSE(r.is_departing(&new_conn));
  EXPECT_FALSE(r.on_disconnect(&old_conn));  // alice stays online through the new connection
  EXPECT_FALSE(r.is_departing(&new_conn));
  EXPECT_EQ(r.on_disconnect(&new_conn), "alice");
}

TEST(ConnectionRegistry, ReusedAddressIsANewConnection) {
  ConnectionRegistry r;
  int a = 0;
  r.on_authenticated(&a, "alice", "x");
  r.on_disconnect(&a);
  EXPECT_TRUE(r.on_authenticated(&a, "bob", "y"));
  EXPECT_FALSE(r.is_departing(&a));
  EXPECT_EQ(r.on_disconnect(&a), "bob");
}

TEST(ConnectionRegistry, CountsOtherConnectionsForTheLimitButNotTheOneAReconnectReplaces) {
  ConnectionRegistry r;
  int a = 0, b = 0, c = 0;
  EXPECT_EQ(r.others_of("alice", &a, "phone"), 0);
  r.on_authenticated(&a, "alice", "phone");
  r.on_authenticated(&b, "alice", "laptop");
  EXPECT_EQ(r.others_of("alice", &c, "tablet"), 2);
  EXPECT_EQ(r.others_of("alice", &c, "phone"), 1);   // takes the phone's session over
  EXPECT_EQ(r.others_of("alice", &a, "phone"), 1);   // re-authentication of a live connection
  EXPECT_EQ(r.others_of("bob", &c, "phone"), 0);     // someone else's client id is not alice's
  r.on_disconnect(&a);
  EXPECT_EQ(r.others_of("alice", &c, "tablet"), 1);
}
