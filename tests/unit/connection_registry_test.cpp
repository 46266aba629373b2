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
