// Everything the plugin accepts is storable (issue 12): a table of tricky payloads, each either
// refused with a report on users/<me>/errors or stored in real Postgres — never acknowledged and
// then set aside in ingest_rejects.
#include "tests/integration/fixtures.h"

namespace mqchat::test {

class Storable : public PairTest {};

TEST_F(Storable, EveryTrickyPayloadIsRefusedWithAReportOrStored) {
  struct Row {
    std::string what, payload;
  };
  const std::vector<Row> rows = {
      {"NUL escaped in content", R"({"content":"a\u0000b"})"},
      {"NUL escaped in a metadata value", R"({"content":"x","metadata":{"k":"a\u0000b"}})"},
      {"NUL escaped in a metadata key", R"({"content":"x","metadata":{"k\u0000":"v"}})"},
      {"NUL deep in metadata", R"({"content":"x","metadata":{"a":[{"b":["\u0000"]}]}})"},
      {"NUL escaped in client_id", R"({"content":"x","client_id":"c\u0000"})"},
      {"raw NUL in plain text", std::string("a\0b", 3)},
      {"raw NUL in a JSON string", std::string("{\"content\":\"a\0b\"}", 17)},
      {"lone high surrogate", R"({"content":"\ud800"})"},
      {"lone low surrogate", R"({"content":"x\udc00"})"},
      {"lone surrogate in metadata", R"({"content":"x","metadata":{"s":"\ud83d"}})"},
      {"a surrogate pair", R"({"content":"\ud83d\ude00","metadata":{"e":"\ud83d\ude00"}})"},
      {"number overflow", R"({"content":"x","metadata":{"n":1e400}})"},
      {"huge integer", R"({"content":"x","metadata":{"n":123456789012345678901234567890123456789}})"},
      {"tiny and negative zero", R"({"content":"x","metadata":{"a":1e-400,"b":-0.0,"c":1.7976931348623157e308}})"},
      {"deep nesting", R"({"content":"x","metadata":)" + std::string(40, '[') + std::string(40, ']') + "}"},
      {"nesting at the limit", R"({"content":"x","metadata":{"a":)" + std::string(13, '[') + std::string(13, ']') + "}}"},
      {"invalid UTF-8", "{\"content\":\"caf\xc3\"}"},
      {"UTF-8 surrogate bytes", "{\"content\":\"\xed\xa0\x80\"}"},
      {"overlong UTF-8", "\xc0\xaf"},
      {"above U+10FFFF", "\xf4\x90\x80\x80"},
      {"NBSP only", "\xc2\xa0"},
      {"ideographic space only", "\xe3\x80\x80"},
      {"zero-width space only", "\xe2\x80\x8b"},
      {"BOM only", "\xef\xbb\xbf"},
      {"control characters", R"({"content":"\u0001\u001f\u007f"})"},
      {"4000 characters", std::string(4000, 'a')},
      {"4001 characters", std::string(4001, 'a')},
      {"4000 four-byte characters", [] {
         std::string s;
         for (int i = 0; i < 4000; ++i) s += "\xf0\x9f\x98\x80";
         return s;
       }()},
      {"metadata not an object", R"({"content":"x","metadata":[1]})"},
      {"metadata escapes", R"({"content":"x","metadata":{"q":"\"\\\/\b\f\n\r\t"}})"},
      {"client_id of 65 characters", R"({"content":"x","client_id":")" + std::string(65, 'c') + "\"}"},
      {"type not allowed", R"({"content":"x","type":"video"})"},
  };
  const std::string rejects_before = query_value("select count(*) from ingest_rejects");
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  alice.subscribe("users/" + pair_.alice + "/errors");
  alice.subscribe(messages_topic(pair_.room));
  int accepted = 0;
  for (const auto& row : rows) {
    const int rc = alice.publish(messages_topic(pair_.room), row.payload);
    if (rc == 0) {
      ++accepted;
      const auto echo = alice.wait_message(messages_topic(pair_.room));
      EXPECT_TRUE(echo) << row.what << ": accepted but not delivered";
      if (echo) {
        const std::string id = nlohmann::json::parse(echo->payload)["id"];
        EXPECT_EQ(wait_for_value("select count(*) from messages where id = '" + id + "'", "1", std::chrono::seconds(5)),
                  "1")
            << row.what << ": acknowledged but not stored";
      }
    } else {
      EXPECT_EQ(rc, 0x87) << row.what;
      const auto report = alice.wait_message("users/" + pair_.alice + "/errors");
      ASSERT_TRUE(report) << row.what << ": refused without a report";
      const auto err = nlohmann::json::parse(report->payload);
      EXPECT_FALSE(err["code"].get<std::string>().empty()) << row.what;
      std::cerr << "[storable] refused " << row.what << ": " << err["code"] << "\n";
    }
  }
  EXPECT_GT(accepted, 5);  // the table has both kinds
  EXPECT_LT(accepted, int(rows.size()));
  const std::string count = std::to_string(accepted);
  EXPECT_EQ(wait_for_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" +
                               pair_.room + "')",
                           count, std::chrono::seconds(5)),
            count);
  EXPECT_EQ(query_value("select count(*) from ingest_rejects"), rejects_before) << "something acknowledged was set aside";
}

}  // namespace mqchat::test
