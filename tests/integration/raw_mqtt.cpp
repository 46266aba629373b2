#include "tests/integration/raw_mqtt.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "tests/support/stack.h"

namespace mqchat::test {

namespace {
void put_str(std::string& out, const std::string& s) {
  out.push_back(char(s.size() >> 8));
  out.push_back(char(s.size() & 0xff));
  out += s;
}
void put_u16(std::string& out, uint16_t v) {
  out.push_back(char(v >> 8));
  out.push_back(char(v & 0xff));
}
}  // namespace

RawMqtt::~RawMqtt() { close(); }

void RawMqtt::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawMqtt::send(uint8_t header, const std::string& body) {
  std::string packet(1, char(header));
  for (size_t n = body.size();;) {
    const char digit = char(n % 128);
    n /= 128;
    packet.push_back(n ? char(digit | 0x80) : digit);
    if (!n) break;
  }
  packet += body;
  if (fd_ >= 0) (void)::send(fd_, packet.data(), packet.size(), MSG_NOSIGNAL);
}

int RawMqtt::connect(const std::string& user, const std::string& password, const std::string& client_id, bool clean) {
  close();
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(Stack::mqtt_port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  std::string body;
  put_str(body, "MQTT");
  body.push_back(4);                               // 3.1.1
  body.push_back(char(0xC0 | (clean ? 0x02 : 0)));  // username, password
  put_u16(body, 60);
  put_str(body, client_id);
  put_str(body, user);
  put_str(body, password);
  send(0x10, body);
  const auto connack = expect(2);
  return connack && connack->body.size() == 2 ? uint8_t(connack->body[1]) : -1;
}

void RawMqtt::publish(const std::string& topic, const std::string& payload, int qos, uint16_t packet_id, bool dup) {
  std::string body;
  put_str(body, topic);
  if (qos) put_u16(body, packet_id);
  body += payload;
  send(uint8_t(0x30 | (dup ? 0x08 : 0) | (qos << 1)), body);
}

void RawMqtt::pubrel(uint16_t packet_id) {
  std::string body;
  put_u16(body, packet_id);
  send(0x62, body);
}

std::optional<RawPacket> RawMqtt::read(int timeout_ms) {
  if (fd_ < 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const auto read_exact = [&](char* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) <= 0) return false;
      const ssize_t r = ::recv(fd_, buf + got, n - got, 0);
      if (r <= 0) return false;
      got += size_t(r);
    }
    return true;
  };
  RawPacket packet;
  char c;
  if (!read_exact(&c, 1)) return std::nullopt;
  packet.header = uint8_t(c);
  size_t length = 0, mult = 1;
  do {
    if (!read_exact(&c, 1)) return std::nullopt;
    length += size_t(c & 0x7f) * mult;
    mult *= 128;
  } while (c & 0x80);
  packet.body.resize(length);
  if (length && !read_exact(packet.body.data(), length)) return std::nullopt;
  return packet;
}

std::optional<RawPacket> RawMqtt::expect(int type, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    auto p = read(std::max(left, 1));
    if (!p) return std::nullopt;
    if ((p->header >> 4) == type) return p;
  }
  return std::nullopt;
}

}  // namespace mqchat::test
