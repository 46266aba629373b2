// Request parsing: who asked (only the plugin's stamp counts), what, and where the answer may go.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bridge/request.h"
#include "bridge/request_handler.h"
#include "common/clock.h"
#include "common/uuid.h"

namespace mqchat::bridge {

const std::string kId = "01a20f9a-ffca-725d-a243-6b84bdd75e0c";

Request ok(const std::string& topic, const std::string& payload, const std::string& response_topic = "") {
  auto parsed = parse_request(topic, payload, response_topic, "corr");
  EXPECT_TRUE(std::holds_alternative<Request>(parsed)) << std::get<RequestError>(parsed).reason;
  return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
}

RequestError bad(const std::string& topic, const std::string& payload, const std::string& response_topic = "") {
  auto parsed = parse_request(topic, payload, response_topic, "");
  EXPECT_TRUE(std::holds_alternative<RequestError>(parsed));
  return std::holds_alternative<RequestError>(parsed) ? std::get<RequestError>(parsed) : RequestError{};
}

TEST(BridgeRequest, HistoryWithDefaultsAndBounds) {
  auto r = ok("chat/alice_bob/history", R"({"requester":"bob"})");
  EXPECT_EQ(r.kind, RequestKind::History);
  EXPECT_EQ(r.room, "alice_bob");
  EXPECT_EQ(r.requester, "bob");
  EXPECT_EQ(r.limit, 50);
  r = ok("chat/alice_bob/history", R"({"requester":"bob","limit":200,"before":")" + kId + R"(","request_id":"r1"})");
  EXPECT_EQ(r.limit, 200);
  EXPECT_EQ(*r.before, kId);
  EXPECT_EQ(*r.request_id, "r1");
  EXPECT_EQ(bad("chat/alice_bob/history", R"({"requester":"bob","limit":201})").code, "bad_request");
  EXPECT_EQ(bad("chat/alice_bob/history", R"({"requester":"bob","limit":0})").code, "bad_request");
  EXPECT_EQ(bad("chat/alice_bob/history", R"({"requester":"bob","before":"x"})").code, "bad_request");
}

TEST(BridgeRequest, OnlyTheStampedParticipantCounts) {
  // No stamp: nobody to answer, and the error names no requester.
  auto e = bad("chat/alice_bob/history", R"({})");
  EXPECT_EQ(e.code, "no_requester");
  EXPECT_TRUE(e.requester.empty());
  e = bad("chat/alice_bob/history", R"({"requester":"mallory"})");
  EXPECT_EQ(e.code, "not_participant");
  EXPECT_EQ(bad("chat/bob_alice/history", R"({"requester":"bob"})").code, "bad_topic");
  EXPECT_EQ(bad("chat/alice_bob/messages", R"({"requester":"bob"})").code, "bad_topic");
  EXPECT_EQ(bad("chat/alice_bob/history", "not json").requester, "");
}

TEST(BridgeRequest, ResponseTopicMustBeTheRequestersOwn) {
  auto r = ok("chat/alice_bob/history", R"({"requester":"bob"})", "users/bob/replies/1");
  EXPECT_EQ(r.response_topic, "users/bob/replies/1");
  EXPECT_EQ(r.correlation_data, "corr");
  EXPECT_EQ(bad("chat/alice_bob/history", R"({"requester":"bob"})", "users/alice/history").code, "bad_response_topic");
  EXPECT_EQ(bad("chat/alice_bob/history", R"({"requester":"bob"})", "users/bob/#").code, "bad_response_topic");
  EXPECT_EQ(bad("chat/alice_bob/history", R"({"requester":"bob"})", "chat/alice_bob/messages").code,
            "bad_response_topic");
}

TEST(BridgeRequest, ResponseTopicsOthersReadOrThatHoldStateAreRefused) {
  for (const char* topic : {"users/bob/presence", "users/bob/presence/x", "users/bob/conversations",
                            "users/bob/conversations/1", "users/bob/", "users/bob//x", "users/bob/+", "users/bob/a/#",
                            "users/bobby/history", "users/bo/history", "users/alice/rpc", "chat/alice_bob/events",
                            "$SYS/x", "users/bob"})
    EXPECT_EQ(bad("chat/alice_bob/history", R"({"requester":"bob"})", topic).code, "bad_response_topic") << topic;
  for (const char* topic : {"users/bob/history", "users/bob/errors", "users/bob/rpc/7", "users/bob/presence-replies"})
    EXPECT_TRUE(is_allowed_response_topic(topic, "bob")) << topic;
  EXPECT_FALSE(is_allowed_response_topic("users/bob/history", ""));
}

TEST(BridgeRequest, RepliesGoOnlyToTheRoomsEventsOrTheRequestersOwnTopics) {
  // Checked again before every publish, whatever built the topic.
  EXPECT_TRUE(is_allowed_reply_topic("chat/alice_bob/events", "alice_bob", "bob"));
  EXPECT_TRUE(is_allowed_reply_topic("users/bob/errors", "alice_bob", "bob"));
  EXPECT_TRUE(is_allowed_reply_topic("users/bob/rpc/1", "", "bob"));
  for (const char* topic : {"chat/alice_carol/events", "chat/alice_bob/messages", "chat/alice_bob/history",
                            "users/alice/errors", "users/bob/presence", "users/bob/conversations", "users/bob/#",
                            "chat/+/events", ""})
    EXPECT_FALSE(is_allowed_reply_topic(topic, "alice_bob", "bob")) << topic;
  EXPECT_FALSE(is_allowed_reply_topic("users/bob/errors", "alice_bob", ""));
}

TEST(BridgeRequest, ReadEditDelete) {
  auto r = ok("chat/alice_bob/read", R"({"requester":"bob","up_to":")" + kId + "\"}");
  EXPECT_TRUE(r.up_to);
  EXPECT_EQ(r.target, kId);
  r = ok("chat/alice_bob/read", R"({"requester":"bob","message_id":")" + kId + "\"}");
  EXPECT_FALSE(r.up_to);
  EXPECT_EQ(bad("chat/alice_bob/read", R"({"requester":"bob"})").code, "bad_request");
  EXPECT_EQ(bad("chat/alice_bob/read", R"({"requester":"bob","up_to":")" + kId + R"(","message_id":")" + kId + "\"}")
                .code,
            "bad_request");
  r = ok("chat/alice_bob/edit", R"({"requester":"alice","id":")" + kId + R"(","content":"fixed"})");
  EXPECT_EQ(r.content, "fixed");
  EXPECT_EQ(bad("chat/alice_bob/edit", R"({"requester":"alice","id":")" + kId + R"(","content":"  "})").code, "blank");
  EXPECT_EQ(bad("chat/alice_bob/edit", R"({"requester":"alice","id":")" + kId + R"(","content":")" +
                                           std::string(4001, 'x') + "\"}")
                .code,
            "too_long");
  EXPECT_EQ(ok("chat/alice_bob/delete", R"({"requester":"alice","id":")" + kId + "\"}").kind, RequestKind::Delete);
  EXPECT_EQ(bad("chat/alice_bob/delete", R"({"requester":"alice"})").code, "bad_request");
}

TEST(BridgeRequest, ErrorsAndEventsAreTheDocumentedJson) {
  auto e = bad("chat/alice_bob/history", R"({"requester":"bob","request_id":"r9","limit":0})");
  EXPECT_EQ(nlohmann::json::parse(error_json(e)),
            nlohmann::json::parse(R"({"topic":"chat/alice_bob/history","request_id":"r9","code":"bad_request",)"
                                  R"("reason":"\"limit\" must be an integer from 1 to 200"})"));
  EXPECT_EQ(nlohmann::json::parse(read_event_json("bob", kId, true, "t")),
            nlohmann::json::parse(R"({"event":"read","reader":"bob","up_to":")" + kId + R"(","read_at":"t"})"));
  EXPECT_EQ(nlohmann::json::parse(edited_event_json(kId, "x\"y", "t"))["content"], "x\"y");
}

TEST(BridgeRequest, OnlyRecentUuidv7IdsAreWaitedFor) {
  // One generator per id: a generator never goes back in time.
  const uint64_t now_ms = static_cast<uint64_t>(now_unix_us() / 1000);
  EXPECT_TRUE(is_recent_message_id(to_string(Uuidv7Generator().next(now_ms)), std::chrono::seconds(5)));
  EXPECT_FALSE(is_recent_message_id(to_string(Uuidv7Generator().next(now_ms - 60000)), std::chrono::seconds(5)));
  EXPECT_FALSE(is_recent_message_id(to_string(Uuidv7Generator().next(now_ms + 60000)), std::chrono::seconds(5)));
  EXPECT_FALSE(is_recent_message_id("6f9619ff-8b86-4011-b42d-00c04fc964ff", std::chrono::seconds(5)));  // v4
}

}  // namespace mqchat::bridge
