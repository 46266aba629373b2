// The shipper's COPY rows come from the spool's stored message JSON: every field taken as it is,
// null metadata and client_id handled, anything else refused (it then goes the slow path).
#include <gtest/gtest.h>

#include "plugin/ingest_row.h"

#include <string>
#include <utility>
#include <vector>

namespace mqchat {
namespace {

constexpr char kStored[] =
    R"({"id":"01890a5d-ac96-774b-bcce-b302099a8057","conversation_id":"c3a1b2d4-0000-5000-8000-000000000001",)"
    R"("room":"alice_bob","sender":"alice","content":"tab\there\nand \\ backslash","type":"text",)"
    R"("metadata":{"k":[1,2,{"x":null}]},"client_id":"c-1","created_at":"2026-11-29T22:00:00.123456Z"})";

void replace(std::string& s, const std::string& what, const std::string& with) {
  const auto at = s.find(what);
  ASSERT_NE(at, std::string::npos) << what;
  s.replace(at, what.size(), with);
}

TEST(IngestRow, TakesEveryFieldOfAStoredMessage) {
  const auto row = parse_ingest_row(kStored);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->id, "01890a5d-ac96-774b-bcce-b302099a8057");
  EXPECT_EQ(row->conversation_id, "c3a1b2d4-0000-5000-8000-000000000001");
  EXPECT_EQ(row->room, "alice_bob");
  EXPECT_EQ(row->sender, "alice");
  EXPECT_EQ(row->content, "tab\there\nand \\ backslash");
  EXPECT_EQ(row->type, "text");
  EXPECT_EQ(row->metadata, R"({"k":[1,2,{"x":null}]})");
  ASSERT_TRUE(row->client_id);
  EXPECT_EQ(*row->client_id, "c-1");
  EXPECT_EQ(row->created_at, "2026-11-29T22:00:00.123456Z");
}

// The shipper splits a full batch by conversation: the id comes from the layout the plugin writes,
// from a scan when the members come in another order, and is empty for what is not a message.
TEST(IngestRow, ConversationIdOfARecord) {
  EXPECT_EQ(record_conversation_id(kStored), "c3a1b2d4-0000-5000-8000-000000000001");
  std::string reordered = kStored;
  replace(reordered, R"({"id":"01890a5d-ac96-774b-bcce-b302099a8057",)", "{");
  replace(reordered, R"("room":)", R"("id":"01890a5d-ac96-774b-bcce-b302099a8057","room":)");
  EXPECT_EQ(record_conversation_id(reordered), "c3a1b2d4-0000-5000-8000-000000000001");
  std::string longer_id = kStored;  // not the plugin's layout, though it starts like it
  replace(longer_id, "01890a5d-ac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a8057x");
  EXPECT_EQ(record_conversation_id(longer_id), "c3a1b2d4-0000-5000-8000-000000000001");
  EXPECT_EQ(record_conversation_id(R"({"id":"x"})"), "");
  EXPECT_EQ(record_conversation_id("not json"), "");
  EXPECT_EQ(record_conversation_id(""), "");
}

TEST(IngestRow, NullClientIdAndMetadata) {
  std::string s = kStored;
  replace(s, R"("client_id":"c-1")", R"("client_id":null)");
  replace(s, R"({"k":[1,2,{"x":null}]})", "null");
  const auto row = parse_ingest_row(s);
  ASSERT_TRUE(row);
  EXPECT_FALSE(row->client_id);
  EXPECT_EQ(row->metadata, "{}");
}

TEST(IngestRow, RefusesWhatIsNotAStoredMessage) {
  EXPECT_FALSE(parse_ingest_row(""));
  EXPECT_FALSE(parse_ingest_row("not json"));
  EXPECT_FALSE(parse_ingest_row("[1,2]"));
  EXPECT_FALSE(parse_ingest_row(R"({"id":"x"})"));
  std::string wrong_type = kStored;
  replace(wrong_type, R"("sender":"alice")", R"("sender":42)");
  EXPECT_FALSE(parse_ingest_row(wrong_type));
  std::string array_metadata = kStored;
  replace(array_metadata, R"({"k":[1,2,{"x":null}]})", "[1]");
  EXPECT_FALSE(parse_ingest_row(array_metadata));
}

TEST(IngestRow, StoredMessageKeyIsTakenFromWhatParsesAsARow) {
  const auto key = stored_message_key(kStored);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->sender, "alice");
  EXPECT_EQ(key->room, "alice_bob");
  EXPECT_EQ(key->client_id, "c-1");
  std::string no_client_id = kStored;
  replace(no_client_id, R"("client_id":"c-1")", R"("client_id":null)");
  ASSERT_TRUE(stored_message_key(no_client_id));
  EXPECT_EQ(stored_message_key(no_client_id)->client_id, "");
  // Whatever parse_ingest_row refuses has no key either (a retry would spool it as it is).
  for (const auto& [what, with] : std::vector<std::pair<std::string, std::string>>{
           {R"("sender":"alice")", R"("sender":42)"},
           {R"({"k":[1,2,{"x":null}]})", "[1]"},
           {R"("content":"tab\there\nand \\ backslash",)", ""},
           {R"("client_id":"c-1")", R"("client_id":7)"},
           {R"("created_at")", R"("created_at":1,"x")"}}) {
    std::string s = kStored;
    replace(s, what, with);
    EXPECT_FALSE(parse_ingest_row(s)) << s;
    EXPECT_FALSE(stored_message_key(s)) << s;
  }
}

}  // namespace
}  // namespace mqchat
