// The client's view of the protocol: parsing replies and events, building requests, rendering.
#include <gtest/gtest.h>

#include "client-demo/chat_api.h"
#include "client-demo/protocol.h"
#include "client-demo/render.h"

namespace mqchat::client {

const char* kStored =
    R"({"id":"019ab1c2-0000-7000-8000-00000000abcd","conversation_id":"c","room":"alice_bob","sender":"alice",)"
    R"("content":"hi","type":"text","metadata":{},"client_id":"k1","created_at":"2026-11-24T18:19:38.123456Z"})";

TEST(ClientProtocol, ParsesALiveMessage) {
  const auto m = parse_chat_message(kStored);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sender, "alice");
  EXPECT_EQ(*m->content, "hi");
  EXPECT_EQ(m->client_id, "k1");
  EXPECT_FALSE(m->edited);
  EXPECT_FALSE(m->read);
  EXPECT_EQ(m->raw["room"], "alice_bob");
}

TEST(ClientProtocol, RejectsWhatIsNotAMessage) {
  EXPECT_FALSE(parse_chat_message("hello"));
  EXPECT_FALSE(parse_chat_message("[]"));
  EXPECT_FALSE(parse_chat_message(R"({"content":"no id"})"));
}

TEST(ClientProtocol, HistoryCarriesEditedDeletedAndReadState) {
  const auto page = parse_history_page(
      R"({"room":"alice_bob","request_id":"r1","has_more":true,"messages":[)"
      R"({"id":"a","sender":"alice","content":"x","is_edited":true,"edited_at":"2026-11-24T18:20:00.000000Z","read_at":"2026-11-24T18:21:00.000000Z"},)"
      R"({"id":"b","sender":"bob","content":null,"deleted":true,"deleted_at":"2026-11-24T18:22:00.000000Z"}]})");
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->has_more);
  EXPECT_EQ(page->request_id, "r1");
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_TRUE(page->messages[0].edited);
  EXPECT_TRUE(page->messages[0].read);
  EXPECT_TRUE(page->messages[1].deleted);
  EXPECT_FALSE(page->messages[1].content);
  EXPECT_FALSE(parse_history_page(R"({"room":"alice_bob"})"));
}

TEST(ClientProtocol, SummariesAndEvents) {
  const auto list = parse_summaries(
      R"([{"room":"alice_bob","with":"bob","unread_count":3,"updated_at":"2026-11-24T18:19:38.123456Z",)"
      R"("last_message":{"id":"a","sender":"bob","content":"yo"}}])");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].unread_count, 3);
  EXPECT_EQ(*(*list)[0].last_message->content, "yo");
  EXPECT_FALSE(parse_summaries(R"({"room":"x"})"));

  const auto read = parse_event(R"({"event":"read","reader":"bob","up_to":"a","read_at":"t"})");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->kind, ChatEvent::Kind::Read);
  EXPECT_EQ(read->up_to, "a");
  EXPECT_EQ(read->at, "t");
  EXPECT_EQ(parse_event(R"({"event":"edited","id":"a","content":"new"})")->kind, ChatEvent::Kind::Edited);
  EXPECT_EQ(parse_event(R"({"event":"something-new"})")->kind, ChatEvent::Kind::Other);
}

TEST(ClientProtocol, RequestsAreTheDocumentedJson) {
  EXPECT_EQ(nlohmann::json::parse(send_payload("hi", "image", {{"url", "a.png"}}, "k")),
            nlohmann::json::parse(R"({"content":"hi","type":"image","metadata":{"url":"a.png"},"client_id":"k"})"));
  EXPECT_EQ(nlohmann::json::parse(send_payload("hi", "text", nlohmann::json::object(), "k")).count("metadata"), 0u);
  EXPECT_EQ(nlohmann::json::parse(history_request("r", 20, "b")),
            nlohmann::json::parse(R"({"request_id":"r","limit":20,"before":"b"})"));
  EXPECT_EQ(nlohmann::json::parse(read_request("x")), nlohmann::json::parse(R"({"up_to":"x"})"));
  EXPECT_EQ(nlohmann::json::parse(edit_request("i", "t", "r")),
            nlohmann::json::parse(R"({"id":"i","content":"t","request_id":"r"})"));
}

TEST(ClientProtocol, NextUuidIsTheImmediateSuccessor) {
  EXPECT_EQ(next_uuid("019ab1c2-0000-7000-8000-00000000abcd"), "019ab1c2-0000-7000-8000-00000000abce");
  EXPECT_EQ(next_uuid("019ab1c2-0000-7000-8000-0000000000ff"), "019ab1c2-0000-7000-8000-000000000100");
  EXPECT_EQ(next_uuid("not-a-uuid"), "not-a-uuid");
}

TEST(ClientRender, MessageLinesShowReceiptsEditsAndDeletions) {
  auto m = *parse_chat_message(kStored);
  EXPECT_EQ(message_line(m, "alice"), "[11-24 18:19] alice: hi ✓ #0000abcd");
  m.read = true;
  m.edited = true;
  EXPECT_EQ(message_line(m, "alice"), "[11-24 18:19] alice: hi (edited) ✓✓ #0000abcd");
  EXPECT_EQ(message_line(m, "bob"), "[11-24 18:19] alice: hi (edited) #0000abcd");  // receipts are the sender's
  m.deleted = true;
  m.content.reset();
  EXPECT_EQ(message_line(m, "bob"), "[11-24 18:19] alice: (message deleted) #0000abcd");
}

TEST(ClientRender, ConversationListAndPreview) {
  EXPECT_EQ(conversation_lines({}).size(), 1u);
  EXPECT_NE(conversation_lines({})[0].find("No conversations"), std::string::npos);
  ConversationSummary s;
  s.with = "bob";
  s.unread_count = 2;
  s.updated_at = "2026-11-24T18:19:38.123456Z";
  s.last_message = parse_chat_message(kStored);
  const auto line = conversation_lines({s})[0];
  EXPECT_NE(line.find("bob"), std::string::npos);
  EXPECT_NE(line.find("(2 unread)"), std::string::npos);
  EXPECT_NE(line.find("alice: hi"), std::string::npos);
  // A group's entry: its name and room, no "with".
  const auto groups = parse_summaries(
      R"([{"room":"g:0123456789abcdef","group":true,"name":"Lunch","members":3,"unread_count":1,"updated_at":"2026-11-24T18:19:38.123456Z"}])");
  ASSERT_TRUE(groups);
  EXPECT_NE(conversation_lines(*groups)[0].find("# Lunch (g:0123456789abcdef)"), std::string::npos);
  EXPECT_NE(conversation_lines(*groups)[0].find("(1 unread)"), std::string::npos);
  EXPECT_EQ(preview("héllo wörld", 5), "héllo…");  // characters, not bytes
  EXPECT_EQ(preview("a\nb", 10), "a b");
}

}  // namespace mqchat::client
