#include "common/message.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>

using namespace mqchat;

namespace {
const MessageLimits kLimits;

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string error_code(std::string_view payload) {
  auto parsed = parse_message_payload(payload, kLimits);
  return parsed ? "ok" : parsed.error.code;
}
}  // namespace

TEST(Message, PlainTextBecomesATextMessage) {
  auto parsed = parse_message_payload("hello there", kLimits);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed.value->content, "hello there");
  EXPECT_EQ(parsed.value->type, "text");
  EXPECT_EQ(parsed.value->metadata_json, "{}");
  EXPECT_EQ(parsed.value->client_id, "");
}

TEST(Message, JsonObjectWithAllFields) {
  auto parsed = parse_message_payload(
      R"({"content":"pic","type":"image","metadata":{"url":"x.png","w":3},"client_id":"c-1","sender":"mallory"})",
      kLimits);
  ASSERT_TRUE(parsed) << parsed.error.reason;
  EXPECT_EQ(parsed.value->content, "pic");
  EXPECT_EQ(parsed.value->type, "image");
  EXPECT_EQ(nlohmann::json::parse(parsed.value->metadata_json), nlohmann::json::parse(R"({"url":"x.png","w":3})"));
  EXPECT_EQ(parsed.value->client_id, "c-1");
}

TEST(Message, LengthLimitCountsCharactersNotBytes) {
  EXPECT_EQ(error_code(repeat("a", 4000)), "ok");
  EXPECT_EQ(error_code(repeat("a", 4001)), "too_long");
  EXPECT_EQ(error_code(repeat("日", 4000)), "ok");  // 12000 bytes, 4000 characters
  EXPECT_EQ(error_code(repeat("日", 4001)), "too_long");
  EXPECT_EQ(error_code(repeat("😀", 4000)), "ok");
  EXPECT_EQ(error_code(R"({"content":")" + repeat("é", 4001) + R"("})"), "too_long");
}

TEST(Message, RejectsBlankAndEmpty) {
  EXPECT_EQ(error_code(""), "blank");
  EXPECT_EQ(error_code("   \n\t"), "blank");
  EXPECT_EQ(error_code(R"({"content":"  "})"), "blank");
  EXPECT_EQ(error_code(R"({"content":""})"), "blank");
}

TEST(Message, RejectsInvalidUtf8) {
  EXPECT_EQ(error_code("bad \xff byte"), "invalid_utf8");
  EXPECT_EQ(error_code("{\"content\":\"\xc0\xaf\"}"), "invalid_utf8");
  EXPECT_EQ(error_code(R"({"content":"nul \u0000 inside"})"), "invalid_utf8");
}

TEST(Message, RejectsBadJsonAndBadFields) {
  EXPECT_EQ(error_code("{not json"), "bad_json");
  EXPECT_EQ(error_code(R"({"type":"text"})"), "bad_content");
  EXPECT_EQ(error_code(R"({"content":5})"), "bad_content");
  EXPECT_EQ(error_code(R"({"content":"x","type":"video"})"), "bad_type");
  EXPECT_EQ(error_code(R"({"content":"x","metadata":[1]})"), "bad_metadata");
  EXPECT_EQ(error_code(R"({"content":"x","client_id":7})"), "bad_client_id");
  EXPECT_EQ(error_code(R"({"content":"x","client_id":")" + repeat("c", 65) + R"("})"), "bad_client_id");
  EXPECT_EQ(error_code(R"({"content":"x","client_id":")" + repeat("c", 64) + R"("})"), "ok");
  EXPECT_EQ(error_code(R"({"content":"x","metadata":{"a":")" + repeat("m", 9000) + R"("}})"), "metadata_too_large");
}

TEST(Message, ARefusalNamesTheClientIdSoThePublisherCanMatchIt) {
  const auto parsed = mqchat::parse_message_payload(R"({"content":"   ","client_id":"k-9"})", {});
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error.code, "blank");
  EXPECT_EQ(parsed.error.client_id, "k-9");
}

TEST(Message, RejectsDeepNestingAndHugePayloads) {
  EXPECT_EQ(error_code(R"({"content":"x","metadata":)" + repeat("{\"a\":", 40) + "1" + repeat("}", 40) + "}"),
            "bad_json");
  EXPECT_EQ(error_code(repeat("x", 70000)), "payload_too_large");
}

// Flat objects of plain strings take a scanning fast path; "metadata":null (which changes nothing)
// sends the same object through the full JSON parser. Both must give the same answer.
TEST(Message, TheFlatObjectFastPathAgreesWithTheFullParser) {
  const std::vector<std::string> payloads = {
      R"({"content":"hi"})", R"( { "content" : "hi" , "client_id" : "c-1" } )", R"({"content":"hi","type":"file"})",
      R"({"content":"hi","type":"video","client_id":"k"})", R"({"content":"  ","client_id":"k"})",
      R"({"content":"x","client_id":""})", R"({"content":"x","sender":"mallory","id":"0"})",
      R"({"type":"text"})", R"({"content":"a\"b"})", R"({"content":"x","content":"y"})",
      R"({"content":"x","n":5})", "{\"content\":\"caf\xc3\xa9\"}", "{\"content\":\"x\",\"z\":\"\xff\"}",
      R"({"content":"x",})", R"({"content":"x"} trailing)", R"({"content":"x" "type":"text"})",
      std::string("{\"content\":\"a\0b\"}", 15), std::string("{\"content\":\"x\",\"client_id\":\"k\0\"}", 29),
      R"({"content":"x\u0000"})", R"({"content":"x","client_id":"\u0000"})", R"({"content":"\ud800"})",
      "{\"content\":\"x\",\"\xff\":\"z\"}", "{\"client_id\":\"\xc3\",\"content\":\"x\"}",
      R"({"content":"x","reply_to":"nope"})", R"({"content":"x","type":"image","client_id":"k","sender":"m"})",
      R"({"content" :"x"})", R"({"contents":"x"})", R"({"content":"x","metadata":"m"})",
  };
  for (const auto& fast_payload : payloads) {
    std::string slow_payload = fast_payload;
    slow_payload.insert(slow_payload.find('{') + 1, R"("metadata":null,)");
    const auto fast = parse_message_payload(fast_payload, kLimits);
    const auto slow = parse_message_payload(slow_payload, kLimits);
    ASSERT_EQ(bool(fast), bool(slow)) << fast_payload;
    if (fast) {
      EXPECT_EQ(fast.value->content, slow.value->content) << fast_payload;
      EXPECT_EQ(fast.value->type, slow.value->type) << fast_payload;
      EXPECT_EQ(fast.value->client_id, slow.value->client_id) << fast_payload;
      // The fast path writes its strings back without escaping them again: the same stored text.
      StoredMessage a{"i", "c", "r", "s", *fast.value, "t"}, b{"i", "c", "r", "s", *slow.value, "t"};
      EXPECT_FALSE(b.draft.plain_json) << fast_payload;
      EXPECT_EQ(to_json(a), to_json(b)) << fast_payload;
    } else {
      EXPECT_EQ(fast.error.code, slow.error.code) << fast_payload;
      EXPECT_EQ(fast.error.client_id, slow.error.client_id) << fast_payload;
    }
  }
  EXPECT_TRUE(parse_message_payload(R"({"content":"hi","client_id":"c-1"})", kLimits).value->plain_json);
  // An all-ASCII flat payload skips the UTF-8 check: a byte with bit 7 in any place of any string
  // (key or value, known or not, around the eight-byte steps) must be judged as the full parser does.
  const std::string base = R"({"content":"a longer text, to cross words","client_id":"c-123","sender":"someone"})";
  for (size_t at = 0; at < base.size(); ++at) {
    if (!std::isalnum(static_cast<unsigned char>(base[at])) && base[at] != ' ') continue;  // inside strings only
    for (const std::string odd : {"\xff", "\xc3", "\x80", "\xed\xa0\x80", "\xc3\xa9", "\xf0\x9f\x98\x80"}) {
      std::string fast_payload = base;
      fast_payload.replace(at, 1, odd);
      std::string slow_payload = fast_payload;
      slow_payload.insert(1, R"("metadata":null,)");
      const auto fast = parse_message_payload(fast_payload, kLimits);
      const auto slow = parse_message_payload(slow_payload, kLimits);
      ASSERT_EQ(bool(fast), bool(slow)) << at << " " << fast_payload;
      if (!fast) {
        EXPECT_EQ(fast.error.code, slow.error.code) << at << " " << fast_payload;
      }
    }
  }
  EXPECT_EQ(parse_message_payload(R"({"content":"a\"b"})", kLimits).value->content, "a\"b");
  EXPECT_EQ(parse_message_payload(R"({"content":"x","content":"y"})", kLimits).value->content, "y");
}

TEST(Message, StoredJsonHasTheDocumentedShape) {
  StoredMessage m{"id-1", "conv-1", "alice_bob", "alice", {"say \"hi\"\n\\", "text", R"({"k":1})", ""},
                  "2026-11-24T18:19:38.123456Z"};
  const auto json = nlohmann::json::parse(to_json(m));
  EXPECT_EQ(json["id"], "id-1");
  EXPECT_EQ(json["conversation_id"], "conv-1");
  EXPECT_EQ(json["room"], "alice_bob");
  EXPECT_EQ(json["sender"], "alice");
  EXPECT_EQ(json["content"], "say \"hi\"\n\\");
  EXPECT_EQ(json["type"], "text");
  EXPECT_EQ(json["metadata"]["k"], 1);
  EXPECT_TRUE(json["client_id"].is_null());
  EXPECT_EQ(json["created_at"], "2026-11-24T18:19:38.123456Z");
  EXPECT_EQ(json.size(), 9u);
  m.draft.client_id = "c\x01";
  EXPECT_EQ(nlohmann::json::parse(to_json(m))["client_id"], "c\x01");
}

namespace {
bool holds_nul_anywhere(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>().find('\0') != std::string::npos;
  if (!j.is_structured()) return false;
  for (const auto& [k, v] : j.items())
    if ((j.is_object() && k.find('\0') != std::string::npos) || holds_nul_anywhere(v)) return true;
  return false;
}
}  // namespace

// What Postgres would refuse is refused here: NUL anywhere (text and jsonb cannot hold it), lone
// surrogate escapes, numbers no double holds, invalid UTF-8. Everything accepted is storable.
TEST(Message, EverythingAcceptedIsStorable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"content":"x","metadata":{"k":"a\u0000b"}})", "bad_metadata"},
      {R"({"content":"x","metadata":{"a\u0000":"v"}})", "bad_metadata"},
      {R"({"content":"x","metadata":{"deep":[{"k":["\u0000"]}]}})", "bad_metadata"},
      {R"({"content":"x\u0000"})", "invalid_utf8"},
      {R"({"content":"x","client_id":"c\u0000"})", "bad_client_id"},
      {R"({"content":"\ud800"})", "bad_json"},
      {R"({"content":"\udc00x"})", "bad_json"},
      {R"({"content":"x","metadata":{"k":"\ud83d"}})", "bad_json"},
      {R"({"content":"x","metadata":{"n":1e400}})", "bad_json"},
      {R"({"content":"x","metadata":{"n":-1e400}})", "bad_json"},
      {"{\"content\":\"x\",\"metadata\":{\"k\":\"\xed\xa0\x80\"}}", "invalid_utf8"},
      {R"({"content":"x","metadata":{"n":123456789012345678901234567890,"f":1e308,"z":-0.0}})", "ok"},
      {R"({"content":"\ud83d\ude00","metadata":{"emoji":"\ud83d\ude00","esc":"\u0001\t"}})", "ok"},
  };
  for (const auto& [payload, code] : cases) {
    const auto parsed = parse_message_payload(payload, kLimits);
    EXPECT_EQ(parsed ? "ok" : parsed.error.code, code) << payload;
    if (!parsed) continue;
    StoredMessage m;
    m.id = "0";
    m.conversation_id = "0";
    m.room = "a_b";
    m.sender = "a";
    m.draft = *parsed.value;
    m.created_at = "2026-01-01T00:00:00Z";
    const auto stored = nlohmann::json::parse(to_json(m));
    EXPECT_FALSE(holds_nul_anywhere(stored)) << payload;
  }
}

// Quotes, backslashes and control characters are found at any position around the eight-byte
// steps of the scans, in what is read and in what is written.
TEST(Message, EscapesAreFoundAtEveryPosition) {
  for (size_t at = 0; at < 24; ++at) {
    const std::string before(at, 'x');
    for (const std::string& special : {std::string("\""), std::string("\\"), std::string("\n"), std::string("\x01"),
                                       std::string("\x1f")}) {
      const std::string content = before + special + "tail-tail-tail";
      StoredMessage m;
      m.id = "i";
      m.draft.content = content;
      const auto stored = nlohmann::json::parse(to_json(m));
      EXPECT_EQ(stored["content"], content) << at;
      const auto payload = nlohmann::json{{"content", content}, {"client_id", "c" + before}}.dump();
      const auto parsed = parse_message_payload(payload, MessageLimits{});
      ASSERT_TRUE(parsed) << payload;
      EXPECT_EQ(parsed.value->content, content);
      EXPECT_EQ(parsed.value->client_id, "c" + before);
    }
  }
}

TEST(Message, ParsingIntoAReusedDraftLeavesNothingOfTheLastMessage) {
  DraftMessage draft;
  ASSERT_FALSE(parse_message_payload(R"({"content":"one","type":"image","client_id":"c1","metadata":{"a":1}})",
                                     MessageLimits{}, draft));
  EXPECT_EQ(draft.type, "image");
  ASSERT_FALSE(parse_message_payload(R"({"content":"two"})", MessageLimits{}, draft));
  EXPECT_EQ(draft.content, "two");
  EXPECT_EQ(draft.type, "text");
  EXPECT_EQ(draft.metadata_json, "{}");
  EXPECT_EQ(draft.client_id, "");
  ASSERT_FALSE(parse_message_payload("plain three", MessageLimits{}, draft));
  EXPECT_EQ(draft.content, "plain three");
  const auto refused = parse_message_payload(R"({"content":" ","client_id":"c9"})", MessageLimits{}, draft);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, "blank");
  EXPECT_EQ(refused->client_id, "c9");
}
