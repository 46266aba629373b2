// The coexist table (plugin/access_policy.h) against exclusive mode's is_allowed.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "plugin/access_policy.h"

using namespace mqchat;

namespace {
const std::set<std::string> kUsers = {"alice", "bob", "carol"};
const UserExists kExists = [](std::string_view n) { return kUsers.count(std::string(n)) > 0; };
constexpr int kAll[] = {kAccessRead, kAccessWrite, kAccessSubscribe, kAccessUnsubscribe};

Verdict verdict(Member m, std::string_view user, std::string_view topic, int access, bool others = true,
                bool here = true) {
  return coexist_verdict({m, here, others}, user, topic, access, kExists);
}

// Topics and filters that reach chat/ or users/, by any spelling a client may try.
const char* kOurs[] = {"chat/alice_bob/messages", "chat/alice_bob/#",    "chat/#",   "chat",
                       "chat/+/messages",         "users/alice/presence", "users/#", "users/alice/errors",
                       "$share/g/chat/#",         "$share/g/chat/alice_bob/messages", "$share/g/users/+/presence"};
}  // namespace

TEST(TopicScope, FirstLevelDecidesAfterShareGroup) {
  for (const char* t : kOurs) EXPECT_EQ(topic_scope(t), TopicScope::Ours) << t;
  for (const char* t : {"#", "+/+/messages", "+", "+/alice_bob/#", "$share/g/#", "$share/g/+/x"})
    EXPECT_EQ(topic_scope(t), TopicScope::Wildcard) << t;
  for (const char* t : {"sensors/t1", "sensors/#", "chatter/x", "user/x", "$SYS/broker/uptime", "$share/g/sensors/#",
                        "Chat/x", "", "/chat/x", "$CONTROL/dynamic-security/v1", "$share"})
    EXPECT_EQ(topic_scope(t), TopicScope::Other) << t;
}

TEST(CoexistPolicy, OthersAreDeniedInOurNamespacesNeverDeferred) {
  for (const char* t : kOurs)
    for (int access : {kAccessRead, kAccessWrite, kAccessSubscribe})
      for (bool others : {true, false}) {
        EXPECT_EQ(verdict(Member::Other, "device1", t, access, others), Verdict::Deny) << t << " " << access;
        // A device named like a profile is still not that profile unless mqchat authenticated it.
        EXPECT_EQ(verdict(Member::Other, "alice", t, access, others), Verdict::Deny) << t;
      }
}

TEST(CoexistPolicy, OthersElsewhereAreDeferredOrAllowedAsOnTheBareBroker) {
  for (const char* t : {"sensors/t1", "sensors/#", "#", "+/+/messages", "$SYS/broker/uptime", "$share/g/#"})
    for (int access : kAll) {
      EXPECT_EQ(verdict(Member::Other, "device1", t, access, true), Verdict::Defer) << t;
      EXPECT_EQ(verdict(Member::Other, "device1", t, access, false), Verdict::Allow) << t;
    }
}

TEST(CoexistPolicy, MqchatUsersKeepExclusiveRulesInOurNamespaces) {
  for (const char* t : kOurs)
    for (int access : kAll)
      for (const char* user : {"alice", "bob", "carol"}) {
        const Verdict expected = is_allowed(Principal{user, false}, t, access, kExists) ? Verdict::Allow : Verdict::Deny;
        EXPECT_EQ(verdict(Member::User, user, t, access), expected) << user << " " << t << " " << access;
        EXPECT_EQ(verdict(Member::User, user, t, access, false), expected) << user << " " << t;
      }
  EXPECT_EQ(verdict(Member::User, "alice", "chat/alice_bob/messages", kAccessWrite), Verdict::Allow);
  EXPECT_EQ(verdict(Member::User, "carol", "chat/alice_bob/messages", kAccessWrite), Verdict::Deny);
}

TEST(CoexistPolicy, MqchatUsersElsewhereAreDeferredOrDenied) {
  for (const char* t : {"sensors/t1", "sensors/#", "#", "+/+/messages", "$SYS/broker/uptime"})
    for (int access : {kAccessRead, kAccessWrite, kAccessSubscribe}) {
      EXPECT_EQ(verdict(Member::User, "alice", t, access, true), Verdict::Defer) << t;
      EXPECT_EQ(verdict(Member::User, "alice", t, access, false), Verdict::Deny) << t;
    }
}

TEST(CoexistPolicy, AProfileNameTheMqchatPluginDidNotAuthenticateCannotReachChat) {
  for (const char* t : {"chat/alice_bob/messages", "chat/alice_bob/#", "#", "+/alice_bob/messages", "users/alice/#"}) {
    EXPECT_EQ(verdict(Member::User, "alice", t, kAccessSubscribe, true, false), Verdict::Deny) << t;
    EXPECT_EQ(verdict(Member::User, "alice", t, kAccessWrite, true, false), Verdict::Deny) << t;
  }
  // An offline persistent session still receives what it subscribed to while connected.
  EXPECT_EQ(verdict(Member::User, "alice", "chat/alice_bob/messages", kAccessRead, true, false), Verdict::Allow);
}

TEST(CoexistPolicy, ServiceAccountsOwnOurNamespacesOnly) {
  for (const char* t : kOurs) EXPECT_EQ(verdict(Member::Service, "svc:bridge", t, kAccessSubscribe), Verdict::Allow) << t;
  EXPECT_EQ(verdict(Member::Service, "svc:bridge", "sensors/t1", kAccessRead, true), Verdict::Defer);
  EXPECT_EQ(verdict(Member::Service, "svc:bridge", "sensors/t1", kAccessRead, false), Verdict::Deny);
}

TEST(CoexistPolicy, TheCheapPathAgreesWithTheTable) {
  // The plugin answers Defer for scope Other before looking the client up: every member must
  // get Defer there when another mechanism decides.
  for (Member m : {Member::Other, Member::User, Member::Service})
    for (const char* t : {"sensors/t1", "$SYS/#", "a/b/c"})
      for (int access : kAll)
        for (bool here : {true, false})
          EXPECT_EQ(verdict(m, "alice", t, access, true, here), Verdict::Defer) << t << " " << access;
}
