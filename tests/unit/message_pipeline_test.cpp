#include "plugin/message_pipeline.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/uuid.h"
#include "tests/unit/pipeline_fixture.h"

using namespace mqchat;
using Action = PublishDecision::Action;

namespace {
class PipelineTest : public test::PipelineFixture {
 protected:
  PublishDecision publish(std::string_view user, std::string_view topic, std::string_view payload) {
    return pipeline_->on_publish(Principal{user, false}, topic, payload);
  }
};
}  // namespace

TEST_F(PipelineTest, ValidMessageIsRewrittenAndSpooledBeforeDelivery) {
  const auto d = publish("alice", "chat/alice_bob/messages", R"({"content":"hi","sender":"mallory","id":"x"})");
  ASSERT_EQ(d.action, Action::Replace);
  const auto msg = nlohmann::json::parse(d.payload);
  EXPECT_EQ(msg["sender"], "alice");  // never taken from the payload
  EXPECT_EQ(msg["room"], "alice_bob");
  EXPECT_EQ(msg["content"], "hi");
  EXPECT_EQ(msg["conversation_id"], to_string(conversation_id("alice_bob")));
  ASSERT_TRUE(parse_uuid(msg["id"].get<std::string>()));
  EXPECT_NE(msg["id"], "x");
  EXPECT_EQ(spooled(), std::vector<std::string>{d.payload});
}

TEST_F(PipelineTest, InvalidMessageIsRefusedAndNotSpooled) {
  const auto d = publish("alice", "chat/alice_bob/messages", "   ");
  EXPECT_EQ(d.action, Action::Refuse);
  EXPECT_EQ(d.error.code, "blank");
  EXPECT_EQ(publish("alice", "chat/alice_bob/messages", std::string(4001, 'a')).error.code, "too_long");
  EXPECT_TRUE(spooled().empty());
}

TEST_F(PipelineTest, RetryWithTheSameClientIdIsTheSameMessage) {
  const auto first = publish("alice", "chat/alice_bob/messages", R"({"content":"once","client_id":"c-1"})");
  const auto again = publish("alice", "chat/alice_bob/messages", R"({"content":"once","client_id":"c-1"})");
  ASSERT_EQ(first.action, Action::Replace);
  ASSERT_EQ(again.action, Action::Duplicate);
  EXPECT_EQ(again.payload, first.payload);
  EXPECT_EQ(spooled().size(), 1u);
  EXPECT_EQ(publish("bob", "chat/alice_bob/messages", R"({"content":"once","client_id":"c-1"})").action,
            Action::Replace);  // another sender's c-1 is another message
}

TEST_F(PipelineTest, RequestsAreStampedWithTheRequester) {
  const auto d = publish("bob", "chat/alice_bob/history", R"({"limit":5,"requester":"alice","request_id":"r1"})");
  ASSERT_EQ(d.action, Action::Replace);
  const auto req = nlohmann::json::parse(d.payload);
  EXPECT_EQ(req["requester"], "bob");
  EXPECT_EQ(req["limit"], 5);
  EXPECT_EQ(publish("bob", "chat/alice_bob/read", "not json").error.code, "bad_json");
}

TEST_F(PipelineTest, TypingPassesAndServiceAccountsAreTrusted) {
  EXPECT_EQ(publish("alice", "chat/alice_bob/typing", "1").action, Action::Pass);
  EXPECT_EQ(pipeline_->on_publish(Principal{"svc:bridge", true}, "chat/alice_bob/messages", "{}").action, Action::Pass);
  EXPECT_EQ(publish("carol", "chat/alice_bob/messages", "hi").error.code, "not_participant");
  EXPECT_TRUE(spooled().empty());
}

// A message another node accepted and the bridge routed here, then retried here by its sender
// (its PUBACK was lost with that node): the same message (same id), spooled here too so that the
// acknowledgement given here is durable here, and delivered to nobody (subscribers had it).
TEST_F(PipelineTest, ARetryOfAMessageRoutedFromAnotherNodeIsThatMessage) {
  const std::string routed =
      R"({"id":"0190f1e2-0000-7000-8000-000000000001","conversation_id":"6c1b0d2e-0000-5000-8000-000000000002",)"
      R"("room":"alice_bob","sender":"alice","content":"once","type":"text","metadata":{},"client_id":"c-9",)"
      R"("created_at":"2026-11-30T12:00:00Z"})";
  const auto relay = pipeline_->on_publish(Principal{"mqchat-bridge", true}, "chat/alice_bob/messages", routed);
  EXPECT_EQ(relay.action, Action::Pass);
  EXPECT_TRUE(spooled().empty());
  const auto retry = publish("alice", "chat/alice_bob/messages", R"({"content":"once","client_id":"c-9"})");
  ASSERT_EQ(retry.action, Action::Duplicate);
  EXPECT_EQ(retry.payload, routed);
  EXPECT_EQ(spooled(), std::vector<std::string>{routed});
  const auto again = publish("alice", "chat/alice_bob/messages", R"({"content":"once","client_id":"c-9"})");
  EXPECT_EQ(again.action, Action::Duplicate);
  EXPECT_EQ(spooled().size(), 1u);  // a later retry is a local one: spooled once
  // Not the stored form (the shipper could not take it): not remembered.
  pipeline_->on_publish(Principal{"mqchat-bridge", true}, "chat/alice_bob/messages",
                        R"({"id":"x","room":"alice_bob","sender":"alice","content":"y","client_id":"c-8"})");
  EXPECT_EQ(publish("alice", "chat/alice_bob/messages", R"({"content":"y","client_id":"c-8"})").action, Action::Replace);
  // Another sender's c-9, or another room's: new messages.
  EXPECT_EQ(publish("bob", "chat/alice_bob/messages", R"({"content":"x","client_id":"c-9"})").action, Action::Replace);
  EXPECT_EQ(publish("alice", "chat/alice_carol/messages", R"({"content":"x","client_id":"c-9"})").action,
            Action::Replace);
}
