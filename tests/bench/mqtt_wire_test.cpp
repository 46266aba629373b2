// The load generator's MQTT client (bench/mqtt_wire.h) against a loopback socket that plays the
// broker byte for byte: packets cut anywhere across reads, several in one read, and what the client
// writes back.
#include "bench/mqtt_wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

struct Seen {
  std::vector<int> connacks, subacks;
  std::vector<uint16_t> pubacks;
  std::vector<std::string> messages;
};

bench::WireCallbacks record_all() {
  bench::WireCallbacks cb;
  cb.on_connack = [](void* o, int rc) { static_cast<Seen*>(o)->connacks.push_back(rc); };
  cb.on_suback = [](void* o, int q) { static_cast<Seen*>(o)->subacks.push_back(q); };
  cb.on_puback = [](void* o, uint16_t id) { static_cast<Seen*>(o)->pubacks.push_back(id); };
  cb.on_message = [](void* o, std::string_view p) { static_cast<Seen*>(o)->messages.emplace_back(p); };
  return cb;
}

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listener_, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  void TearDown() override {
    if (broker_ >= 0) ::close(broker_);
    ::close(listener_);
  }
  void open(bench::WireClient& c, const std::string& password) {
    ASSERT_EQ(c.connect("127.0.0.1", port_, "id-1", "alice", password, 60), "");
    broker_ = ::accept(listener_, nullptr, nullptr);
    ASSERT_GE(broker_, 0);
  }
  std::string written_by(bench::WireClient& c) {
    bool drained = false;
    EXPECT_EQ(c.flush(drained), "");
    EXPECT_TRUE(drained);
    std::string got(4096, '\0');
    const ssize_t n = ::recv(broker_, got.data(), got.size(), MSG_DONTWAIT);  // loopback: already there
    got.resize(n > 0 ? size_t(n) : 0);
    return got;
  }
  // Sends `bytes` to the client in pieces of `piece` bytes, reading after each.
  void feed(bench::WireClient& c, const std::string& bytes, size_t piece) {
    for (size_t at = 0; at < bytes.size(); at += piece) {
      const std::string part = bytes.substr(at, piece);
      ASSERT_EQ(::send(broker_, part.data(), part.size(), 0), ssize_t(part.size()));
      usleep(1000);
      ASSERT_EQ(c.on_readable(), "");
    }
  }

  int listener_ = -1, broker_ = -1, port_ = 0;
};

TEST_F(WireTest, ConnectCarriesUsernameAndPasswordOnlyWhenGiven) {
  Seen seen;
  bench::WireClient with(&seen, record_all());
  open(with, "pw");
  EXPECT_EQ(written_by(with), std::string("\x10\x1b\x00\x04MQTT\x04\xc2\x00\x3c\x00\x04id-1\x00\x05" "alice\x00\x02pw", 29));
  ::close(broker_);
  bench::WireClient without(&seen, record_all());
  open(without, "");
  EXPECT_EQ(written_by(without), std::string("\x10\x17\x00\x04MQTT\x04\x82\x00\x3c\x00\x04id-1\x00\x05" "alice", 25));
}

TEST_F(WireTest, PacketsSplitAnywhereOrPackedTogetherAreAllParsed) {
  Seen seen;
  bench::WireClient c(&seen, record_all());
  open(c, "pw");
  written_by(c);
  const std::string big(300, 'x');  // a two-byte remaining length
  std::string stream = std::string("\x20\x02\x00\x00", 4) +                          // CONNACK
                       std::string("\x90\x03\x00\x01\x01", 5) +                      // SUBACK, QoS 1
                       std::string("\x40\x02\x12\x34", 4) +                          // PUBACK 0x1234
                       std::string("\x32\xb3\x02\x00\x03t/x\x00\x07", 10) + big +    // PUBLISH QoS 1, id 7
                       std::string("\x30\x05\x00\x01t", 5) + std::string("hi") +     // PUBLISH QoS 0
                       std::string("\xd0\x00", 2);                                   // PINGRESP
  for (size_t piece : {size_t(1), size_t(3), size_t(7), stream.size()}) {
    seen = Seen{};
    feed(c, stream, piece);
    EXPECT_EQ(seen.connacks, std::vector<int>{0}) << "piece " << piece;
    EXPECT_EQ(seen.subacks, std::vector<int>{1});
    EXPECT_EQ(seen.pubacks, std::vector<uint16_t>{0x1234});
    EXPECT_EQ(seen.messages, (std::vector<std::string>{big, "hi"}));
    EXPECT_EQ(written_by(c), std::string("\x40\x02\x00\x07", 4)) << "only the QoS 1 message is acknowledged";
  }
}

TEST_F(WireTest, PublishAndSubscribeAreFramedWithPacketIds) {
  Seen seen;
  bench::WireClient c(&seen, record_all());
  open(c, "");
  written_by(c);
  c.subscribe("a/b", 1);
  EXPECT_EQ(c.publish("a/b", "xyz", 1), 2);
  EXPECT_EQ(c.publish("a/b", "q0", 0), 0);
  EXPECT_EQ(written_by(c), std::string("\x82\x08\x00\x01\x00\x03" "a/b\x01", 10) +
                               std::string("\x32\x0a\x00\x03" "a/b\x00\x02xyz", 12) +
                               std::string("\x30\x07\x00\x03" "a/bq0", 9));
}

TEST_F(WireTest, ABrokenStreamOrAClosedSocketIsAnError) {
  Seen seen;
  bench::WireClient c(&seen, record_all());
  open(c, "");
  const std::string bad("\xf0\x00", 2);  // type 15 (AUTH) is not 3.1.1
  ASSERT_EQ(::send(broker_, bad.data(), bad.size(), 0), 2);
  usleep(1000);
  EXPECT_NE(c.on_readable().find("unexpected packet type"), std::string::npos);
  bench::WireClient d(&seen, record_all());
  ::close(broker_);
  open(d, "");
  ::close(broker_);
  broker_ = -1;
  usleep(1000);
  EXPECT_EQ(d.on_readable(), "connection closed by the broker");
}

}  // namespace
