// Parsing of the issue 17 requests: react, archive, mute (rooms) and search, archived (a user's own
// users/<me>/requests/<kind>), and where their answers may go.
#include <gtest/gtest.h>

#include "bridge/request.h"

namespace mqchat::bridge {

namespace {
const std::string kMsg = "01a20f9a-ffca-725d-a243-6b84bdd75e0c";

Request ok(const std::string& topic, const std::string& payload) {
  auto parsed = parse_request(topic, payload, "", "");
  EXPECT_TRUE(std::holds_alternative<Request>(parsed)) << std::get<RequestError>(parsed).reason;
  return std::holds_alternative<Request>(parsed) ? std::get<Request>(parsed) : Request{};
}

RequestError bad(const std::string& topic, const std::string& payload, const std::string& response_topic = "") {
  auto parsed = parse_request(topic, payload, response_topic, "");
  EXPECT_TRUE(std::holds_alternative<RequestError>(parsed));
  return std::holds_alternative<RequestError>(parsed) ? std::get<RequestError>(parsed) : RequestError{};
}
}  // namespace

TEST(FeatureRequest, React) {
  auto r = ok("chat/alice_bob/react", R"({"requester":"bob","id":")" + kMsg + R"(","emoji":"👍"})");
  EXPECT_EQ(r.kind, RequestKind::React);
  EXPECT_EQ(r.target, kMsg);
  EXPECT_EQ(r.emoji, "👍");
  EXPECT_FALSE(r.remove);
  EXPECT_TRUE(ok("chat/alice_bob/react", R"({"requester":"bob","id":")" + kMsg + R"(","emoji":"👍","remove":true})").remove);
  EXPECT_EQ(bad("chat/alice_bob/react", R"({"requester":"bob","emoji":"👍"})").code, "bad_request");
  EXPECT_EQ(bad("chat/alice_bob/react", R"({"requester":"bob","id":")" + kMsg + R"("})").code, "bad_emoji");
  EXPECT_EQ(bad("chat/alice_bob/react", R"({"requester":"bob","id":")" + kMsg + R"(","emoji":""})").code, "bad_emoji");
  EXPECT_EQ(bad("chat/alice_bob/react", R"({"requester":"bob","id":")" + kMsg + R"(","emoji":")" +
                                            std::string(65, 'x') + R"("})")
                .code,
            "bad_emoji");
  EXPECT_EQ(bad("chat/alice_bob/react", R"({"requester":"bob","id":")" + kMsg + R"(","emoji":"👍","remove":1})").code,
            "bad_request");
  EXPECT_EQ(bad("chat/alice_bob/react", R"({"requester":"mallory","id":")" + kMsg + R"(","emoji":"👍"})").code,
            "not_participant");
}

TEST(FeatureRequest, ArchiveAndMute) {
  auto r = ok("chat/alice_bob/archive", R"({"requester":"alice"})");
  EXPECT_EQ(r.kind, RequestKind::Archive);
  EXPECT_TRUE(r.on);
  EXPECT_FALSE(ok("chat/alice_bob/archive", R"({"requester":"alice","archived":false})").on);
  r = ok("chat/alice_bob/mute", R"({"requester":"alice","muted":false})");
  EXPECT_EQ(r.kind, RequestKind::Mute);
  EXPECT_FALSE(r.on);
  EXPECT_EQ(bad("chat/alice_bob/mute", R"({"requester":"alice","muted":"yes"})").code, "bad_request");
  EXPECT_EQ(bad("chat/alice_bob/archive", R"({"requester":"carol"})").code, "not_participant");
}

TEST(FeatureRequest, SearchIsTheTopicOwnersOnly) {
  auto r = ok("users/alice/requests/search", R"({"requester":"alice","query":"hello world","request_id":"s"})");
  EXPECT_EQ(r.kind, RequestKind::Search);
  EXPECT_EQ(r.requester, "alice");
  EXPECT_EQ(r.query, "hello world");
  EXPECT_EQ(r.limit, kDefaultSearchLimit);
  EXPECT_TRUE(r.room.empty());
  r = ok("users/alice/requests/search",
         R"({"requester":"alice","query":"x","room":"alice_bob","before":")" + kMsg + R"(","limit":50})");
  EXPECT_EQ(r.room, "alice_bob");
  EXPECT_EQ(*r.before, kMsg);
  EXPECT_EQ(r.limit, 50);
  // The stamp must be the topic's user: a plugin that let another through would still be caught.
  EXPECT_EQ(bad("users/alice/requests/search", R"({"requester":"bob","query":"x"})").code, "forbidden");
  EXPECT_EQ(bad("users/alice/requests/search", R"({"query":"x"})").code, "no_requester");
  EXPECT_EQ(bad("users/alice/requests/search", R"({"requester":"alice","query":"   "})").code, "bad_request");
  EXPECT_EQ(bad("users/alice/requests/search", R"({"requester":"alice"})").code, "bad_request");
  EXPECT_EQ(bad("users/alice/requests/search", R"({"requester":"alice","query":")" + std::string(257, 'x') + R"("})").code,
            "bad_request");
  EXPECT_EQ(bad("users/alice/requests/search", R"({"requester":"alice","query":"x","limit":51})").code, "bad_request");
  EXPECT_EQ(bad("users/alice/requests/search", R"({"requester":"alice","query":"x","room":"bob_alice"})").code,
            "bad_request");
  EXPECT_EQ(bad("users/alice/requests/nope", R"({"requester":"alice"})").code, "bad_topic");
  EXPECT_EQ(ok("users/alice/requests/archived", R"({"requester":"alice"})").kind, RequestKind::Archived);
}

TEST(FeatureRequest, AnswersNeverGoToRequestTopics) {
  EXPECT_FALSE(is_allowed_response_topic("users/alice/requests/search", "alice"));
  EXPECT_TRUE(is_allowed_response_topic("users/alice/search", "alice"));
  EXPECT_EQ(bad("users/alice/requests/search", R"({"requester":"alice","query":"x"})", "users/alice/requests/archived").code,
            "bad_response_topic");
  // A user's own requests are queued per user; a room's per room.
  EXPECT_EQ(queue_key("users/alice/requests/search"), "users/alice");
  EXPECT_EQ(queue_key("chat/alice_bob/react"), "alice_bob");
}

}  // namespace mqchat::bridge
