// Issue 17 in the plugin's pure logic: the new room channels and users/<me>/requests/<kind>, who may
// publish and read them, the optional reply_to of a message, and replies held back for the bridge.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "common/message.h"
#include "common/room.h"
#include "plugin/access_policy.h"
#include "plugin/ingest_row.h"
#include "plugin/message_pipeline.h"
#include "tests/unit/pipeline_fixture.h"

using namespace mqchat;
using nlohmann::json;

namespace {
const std::set<std::string> kUsers = {"alice", "bob", "carol"};
const UserExists kExists = [](std::string_view n) { return kUsers.count(std::string(n)) > 0; };
bool allowed(std::string_view user, std::string_view topic, int access) {
  return is_allowed(Principal{user, false}, topic, access, kExists);
}
const std::string kId = "01a20f9a-ffca-725d-a243-6b84bdd75e0c";
}  // namespace

TEST(Features, NewRoomChannelsAreRequests) {
  for (const char* c : {"react", "archive", "mute"}) {
    const auto t = parse_chat_topic(std::string("chat/alice_bob/") + c);
    ASSERT_TRUE(t) << c;
    EXPECT_TRUE(is_request_channel(t->channel)) << c;
    EXPECT_EQ(channel_name(t->channel), c);
  }
  EXPECT_EQ(channel_name(parse_chat_topic("chat/alice_bob/events")->channel), "events");  // order kept
}

TEST(Features, ParticipantsPublishRequestsNobodyReadsThem) {
  for (const char* c : {"react", "archive", "mute"}) {
    const std::string topic = std::string("chat/alice_bob/") + c;
    EXPECT_TRUE(allowed("alice", topic, kAccessWrite)) << c;
    EXPECT_TRUE(allowed("bob", topic, kAccessWrite)) << c;
    EXPECT_FALSE(allowed("carol", topic, kAccessWrite)) << c;
    EXPECT_FALSE(allowed("alice", topic, kAccessRead)) << c;
    EXPECT_FALSE(allowed("alice", topic, kAccessSubscribe)) << c;
    EXPECT_EQ(max_publish_bytes(topic, MessageLimits{}), MessageLimits{}.max_request_bytes);
  }
  EXPECT_EQ(explain_write_refusal(Principal{"carol", false}, "chat/alice_bob/react", kExists).code, "not_participant");
}

TEST(Features, UserRequestTopics) {
  const auto r = parse_user_request_topic("users/alice/requests/search");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->user, "alice");
  EXPECT_EQ(r->kind, UserRequest::Search);
  EXPECT_EQ(parse_user_request_topic("users/alice/requests/archived")->kind, UserRequest::Archived);
  for (const char* t : {"users/alice/requests/nope", "users/alice/requests/search/x", "users/alice/requests/+",
                        "users/alice/requests/#", "users/Alice/requests/search", "users/alice/search"})
    EXPECT_FALSE(parse_user_request_topic(t)) << t;

  // Only the owner publishes; nobody but the bridge receives (no echo through users/<me>/#).
  EXPECT_TRUE(allowed("alice", "users/alice/requests/search", kAccessWrite));
  EXPECT_TRUE(allowed("alice", "users/alice/requests/archived", kAccessWrite));
  EXPECT_FALSE(allowed("alice", "users/alice/requests/search", kAccessRead));
  EXPECT_FALSE(allowed("alice", "users/alice/requests/search", kAccessSubscribe));
  EXPECT_FALSE(allowed("bob", "users/alice/requests/search", kAccessWrite));
  EXPECT_FALSE(allowed("bob", "users/alice/requests/search", kAccessRead));
  EXPECT_FALSE(allowed("alice", "users/alice/requests/other", kAccessWrite));
  EXPECT_FALSE(allowed("alice", "users/alice/search", kAccessWrite));
  EXPECT_TRUE(allowed("alice", "users/alice/search", kAccessRead));
  EXPECT_TRUE(allowed("alice", "users/alice/#", kAccessSubscribe));
  EXPECT_EQ(max_publish_bytes("users/alice/requests/search", MessageLimits{}), MessageLimits{}.max_request_bytes);
  // A reply never goes to a request topic (the bridge would read its own answer as a request).
  EXPECT_FALSE(is_private_reply_topic("users/alice/requests/search", "alice"));
  EXPECT_TRUE(is_private_reply_topic("users/alice/search", "alice"));
}

TEST(Features, ReplyToIsAnOptionalCanonicalId) {
  const MessageLimits limits;
  // Flat (fast scanner) and full-parser payloads agree.
  for (const std::string& payload : {R"({"content":"hi","reply_to":")" + kId + R"("})",
                                    R"({"content":"hi","metadata":{"a":1},"reply_to":")" + kId + R"("})"}) {
    const auto m = parse_message_payload(payload, limits);
    ASSERT_TRUE(m) << payload;
    EXPECT_EQ(m.value->reply_to, kId);
  }
  const auto upper = parse_message_payload(R"({"content":"hi","reply_to":"01A20F9A-FFCA-725D-A243-6B84BDD75E0C"})", limits);
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper.value->reply_to, kId);
  EXPECT_TRUE(parse_message_payload(R"({"content":"hi","reply_to":null})", limits).value->reply_to.empty());
  EXPECT_TRUE(parse_message_payload("plain text", limits).value->reply_to.empty());
  for (const char* payload : {R"({"content":"hi","reply_to":"x"})", R"({"content":"hi","reply_to":""})",
                                    R"({"content":"hi","reply_to":42})", R"({"content":"hi","reply_to":{}})",
                                    R"({"content":"hi","reply_to":"01a20f9a-ffca-725d-a243-6b84bdd75e0c0"})"}) {
    const auto m = parse_message_payload(payload, limits);
    ASSERT_FALSE(m) << payload;
    EXPECT_EQ(m.error.code, "bad_reply_to") << payload;
  }

  StoredMessage s{"id", "conv", "alice_bob", "alice", {}, "2026-01-01T00:00:00.000000Z"};
  s.draft.content = "hi";
  EXPECT_EQ(json::parse(to_json(s)).count("reply_to"), 0u) << "no key when it answers nothing";
  s.draft.reply_to = kId;
  EXPECT_EQ(json::parse(to_json(s))["reply_to"], kId);
  const auto row = parse_ingest_row(to_json(s));
  ASSERT_TRUE(row);
  EXPECT_EQ(*row->reply_to, kId);
}

namespace {
using ReplyPipeline = test::PipelineFixture;
}  // namespace

TEST_F(ReplyPipeline, RepliesAreSpooledAndLeftToTheBridge) {
  const Principal bob{"bob", false};
  const std::string payload = R"({"content":"noon","client_id":"c1","reply_to":")" + kId + R"("})";
  auto d = pipeline_->on_publish(bob, "chat/alice_bob/messages", payload);
  EXPECT_EQ(d.action, PublishDecision::Action::Replace);
  EXPECT_TRUE(d.payload.empty()) << "delivered to nobody by the broker";
  const auto records = spooled();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(json::parse(records[0])["reply_to"], kId);
  // A retry is a duplicate, delivered to nobody either, stored once.
  d = pipeline_->on_publish(bob, "chat/alice_bob/messages", payload);
  EXPECT_EQ(d.action, PublishDecision::Action::Duplicate);
  EXPECT_TRUE(d.payload.empty());
  EXPECT_EQ(spooled().size(), 1u);
  // A message that answers nothing is delivered as before.
  d = pipeline_->on_publish(bob, "chat/alice_bob/messages", "plain");
  EXPECT_FALSE(d.payload.empty());
}

TEST_F(ReplyPipeline, UserRequestsAreStampedWithTheirPublisher) {
  auto d = pipeline_->on_publish(Principal{"alice", false}, "users/alice/requests/search",
                                 R"({"query":"x","requester":"mallory","request_id":"r"})");
  ASSERT_EQ(d.action, PublishDecision::Action::Replace);
  EXPECT_EQ(json::parse(d.payload)["requester"], "alice");
  EXPECT_EQ(d.client_id, "r");
  EXPECT_EQ(pipeline_->on_publish(Principal{"alice", false}, "users/alice/requests/search", "not json").action,
            PublishDecision::Action::Refuse);
  EXPECT_TRUE(spooled().empty());
}
