#include "plugin/broker_packet.h"

#include <gtest/gtest.h>

#include <cstring>
#include <ctime>
#include <vector>

using namespace mqchat;

namespace {
// The head of Mosquitto 2.0.11's struct mosquitto as Debian builds it (WITH_EPOLL: `ident` first).
struct Packet {
  uint8_t* payload;
  void* next;
  uint32_t remaining_mult, remaining_length, packet_length, to_process, pos;
  uint16_t mid;
  uint8_t command;
  int8_t remaining_count;
};
struct FakeClient {
  int ident;
  int sock;
  uint32_t maximum_packet_size;
  int protocol;
  char* address;
  char* id;
  char* username;
  char* password;
  uint16_t keepalive, last_mid;
  int state;
  time_t last_msg_in, next_msg_out, ping_t;
  Packet in_packet;
};

struct Fixture {
  char address[16] = "127.0.0.1", id[16] = "phone", username[16] = "alice";
  std::vector<uint8_t> body;
  FakeClient c{};
  Fixture(const std::string& topic, uint16_t mid, int qos, bool dup) {
    body = {uint8_t(topic.size() >> 8), uint8_t(topic.size())};
    body.insert(body.end(), topic.begin(), topic.end());
    body.push_back(uint8_t(mid >> 8));
    body.push_back(uint8_t(mid));
    const std::string payload = "hello";
    body.insert(body.end(), payload.begin(), payload.end());
    c.address = address;
    c.id = id;
    c.username = username;
    c.in_packet.payload = body.data();
    c.in_packet.remaining_length = uint32_t(body.size());
    c.in_packet.command = uint8_t(0x30 | (dup ? 0x08 : 0) | (qos << 1));
  }
  std::optional<PublishHeader> peek(std::string_view topic, int qos) {
    return peek_publish_header(reinterpret_cast<const mosquitto*>(&c), address, id, username, topic, qos);
  }
};
}  // namespace

TEST(BrokerPacket, ReadsThePacketIdAndDupOfTheCurrentPublish) {
  Fixture f("chat/alice_bob/messages", 4242, 2, true);
  const auto h = f.peek("chat/alice_bob/messages", 2);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->packet_id, 4242);
  EXPECT_TRUE(h->dup);
  Fixture g("chat/alice_bob/messages", 1, 2, false);
  ASSERT_TRUE(g.peek("chat/alice_bob/messages", 2));
  EXPECT_FALSE(g.peek("chat/alice_bob/messages", 2)->dup);
}

TEST(BrokerPacket, AnswersNothingUnlessEveryCheckHolds) {
  Fixture f("chat/alice_bob/messages", 7, 2, true);
  EXPECT_FALSE(f.peek("chat/alice_bob/typing", 2));    // not this packet's topic
  EXPECT_FALSE(f.peek("chat/alice_bob/messages", 1));  // not its QoS
  EXPECT_FALSE(peek_publish_header(reinterpret_cast<const mosquitto*>(&f.c), f.address, "other", f.username,
                                   "chat/alice_bob/messages", 2));  // not where the id pointer is
  f.c.in_packet.command = 0x62;  // a PUBREL
  EXPECT_FALSE(f.peek("chat/alice_bob/messages", 2));
  Fixture short_packet("chat/alice_bob/messages", 7, 2, true);
  short_packet.c.in_packet.remaining_length = 5;
  EXPECT_FALSE(short_packet.peek("chat/alice_bob/messages", 2));
}
