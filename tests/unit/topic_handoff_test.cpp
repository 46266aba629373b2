#include "plugin/topic_handoff.h"

#include <gtest/gtest.h>

#include <string>

using namespace mqchat;

namespace {
int client_a, client_b;  // their addresses stand for two connections
}

TEST(TopicHandoff, TheMessageEventTakesTheParseOfItsOwnWriteCheckOnce) {
  const std::string topic = "chat/alice_bob/messages";
  TopicHandoff h;
  h.keep(&client_a, topic.c_str(), *parse_chat_topic(topic));
  const auto taken = h.take(&client_a, topic.c_str());
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->room_name, "alice_bob");
  EXPECT_EQ(taken->channel, ChatChannel::Messages);
  EXPECT_FALSE(h.take(&client_a, topic.c_str()));  // once only
}

TEST(TopicHandoff, AnotherClientOrTopicOrAnythingInBetweenGetsNothing) {
  const std::string topic = "chat/alice_bob/messages", same_text = topic;
  TopicHandoff h;
  h.keep(&client_a, topic.c_str(), *parse_chat_topic(topic));
  EXPECT_FALSE(h.take(&client_b, topic.c_str()));
  EXPECT_FALSE(h.take(&client_a, topic.c_str()));  // the miss above forgot it
  h.keep(&client_a, topic.c_str(), *parse_chat_topic(topic));
  EXPECT_FALSE(h.take(&client_a, same_text.c_str()));  // the same text elsewhere: another publish's topic
  h.keep(&client_a, topic.c_str(), *parse_chat_topic(topic));
  h.forget();  // e.g. another ACL check came first
  EXPECT_FALSE(h.take(&client_a, topic.c_str()));
  EXPECT_FALSE(TopicHandoff().take(&client_a, topic.c_str()));
}
