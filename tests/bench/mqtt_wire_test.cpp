// The load generator's MQTT framing (bench/mqtt_wire.h): packets as the MQTT 3.1.1 spec lays them
// out byte by byte, and a stream split into packets wherever the reads happened to cut it.
#include "bench/mqtt_wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bench {
namespace {

std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(char(b));
  return s;
}

TEST(MqttWire, ConnectCarriesCleanSessionKeepaliveAndCredentials) {
  std::string out;
  put_connect(out, "c", "u", "pw", 60);
  EXPECT_EQ(out, bytes({0x10, 20, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xc2, 0, 60, 0, 1, 'c', 0, 1, 'u', 0, 2, 'p', 'w'}));
  out.clear();
  put_connect(out, "c", "", "", 300);  // anonymous: no username or password flags
  EXPECT_EQ(out, bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 1, 44, 0, 1, 'c'}));
}

TEST(MqttWire, SubscribePublishPubackPingDisconnect) {
  std::string out;
  put_subscribe(out, 7, "a/b", 1);
  EXPECT_EQ(out, bytes({0x82, 8, 0, 7, 0, 3, 'a', '/', 'b', 1}));
  out.clear();
  put_publish(out, "t", "hi", 1, 0x0102);
  EXPECT_EQ(out, bytes({0x32, 7, 0, 1, 't', 1, 2, 'h', 'i'}));
  out.clear();
  put_publish(out, "t", "hi", 0, 9);  // QoS 0 has no packet id
  EXPECT_EQ(out, bytes({0x30, 5, 0, 1, 't', 'h', 'i'}));
  out.clear();
  put_puback(out, 0xabcd);
  put_pingreq(out);
  put_disconnect(out);
  EXPECT_EQ(out, bytes({0x40, 2, 0xab, 0xcd, 0xc0, 0, 0xe0, 0}));
}

TEST(MqttWire, RemainingLengthUsesAsManyBytesAsItNeeds) {
  for (const size_t size : {0u, 122u, 123u, 16378u, 16379u, 200000u}) {  // remaining length 5 + size
    std::string out;
    put_publish(out, "t", std::string(size, 'x'), 1, 1);
    Packet p;
    ASSERT_EQ(take_packet(out, p), long(out.size())) << size;
    Publish m;
    ASSERT_TRUE(parse_publish(p, m));
    EXPECT_EQ(m.payload.size(), size);
    EXPECT_EQ(m.topic, "t");
  }
  std::string out;
  put_publish(out, "t", std::string(123, 'x'), 1, 1);  // remaining length 128: two bytes
  EXPECT_EQ(uint8_t(out[1]), 0x80);
  EXPECT_EQ(uint8_t(out[2]), 0x01);
}

TEST(MqttWire, TakePacketWaitsForWholePacketsAndRefusesOverlongLengths) {
  std::string stream;
  put_publish(stream, "room/1", "first", 1, 1);
  put_puback(stream, 2);
  put_publish(stream, "room/2", std::string(300, 'y'), 0, 0);
  // Every cut of the stream: a prefix yields only the packets it holds whole.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    std::string_view in(stream.data(), cut);
    std::vector<uint8_t> types;
    Packet p;
    long took;
    while ((took = take_packet(in, p)) > 0) {
      types.push_back(p.type);
      in.remove_prefix(size_t(took));
    }
    ASSERT_EQ(took, 0) << cut;
    if (cut == stream.size()) {
      EXPECT_EQ(types, (std::vector<uint8_t>{kPublish, kPuback, kPublish}));
    } else {
      EXPECT_LT(types.size(), 3u) << cut;  // the last packet is never whole before the end
    }
  }
  Packet p;
  EXPECT_EQ(take_packet(bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01}), p), -1);
}

TEST(MqttWire, ParsesPublishFieldsAndAcknowledgements) {
  std::string in;
  put_publish(in, "chat/a_b/messages", "{\"content\":\"x\"}", 1, 513);
  Packet p;
  ASSERT_GT(take_packet(in, p), 0);
  Publish m;
  ASSERT_TRUE(parse_publish(p, m));
  EXPECT_EQ(m.topic, "chat/a_b/messages");
  EXPECT_EQ(m.qos, 1);
  EXPECT_EQ(m.id, 513);
  EXPECT_EQ(m.payload, "{\"content\":\"x\"}");

  Packet short_publish{kPublish, 2, "\x00\x05" "ab"};
  EXPECT_FALSE(parse_publish(short_publish, m));  // topic longer than the body

  ASSERT_GT(take_packet(bytes({0x20, 2, 0, 5}), p), 0);
  EXPECT_EQ(p.type, kConnack);
  EXPECT_EQ(connack_code(p), 5);
  ASSERT_GT(take_packet(bytes({0x90, 3, 0, 1, 0x80}), p), 0);
  EXPECT_EQ(p.type, kSuback);
  EXPECT_EQ(suback_first_granted(p), 0x80);
}

}  // namespace
}  // namespace bench
