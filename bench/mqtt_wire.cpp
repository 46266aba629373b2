#include "bench/mqtt_wire.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bench {

namespace {

void put_u16(std::string& out, uint16_t v) {
  out.push_back(char(v >> 8));
  out.push_back(char(v & 0xff));
}

void put_string(std::string& out, std::string_view s) {
  put_u16(out, uint16_t(s.size()));
  out.append(s);
}

void put_header(std::string& out, uint8_t first, size_t remaining) {
  out.push_back(char(first));
  do {
    uint8_t b = remaining & 0x7f;
    remaining >>= 7;
    if (remaining) b |= 0x80;
    out.push_back(char(b));
  } while (remaining);
}

uint16_t get_u16(std::string_view s, size_t at) { return uint16_t(uint8_t(s[at]) << 8 | uint8_t(s[at + 1])); }

}  // namespace

void put_connect(std::string& out, std::string_view client_id, std::string_view username, std::string_view password,
                 uint16_t keepalive_s) {
  uint8_t flags = 0x02;  // clean session
  size_t remaining = 10 + 2 + client_id.size();
  if (!username.empty()) flags |= 0x80, remaining += 2 + username.size();
  if (!password.empty()) flags |= 0x40, remaining += 2 + password.size();
  put_header(out, 0x10, remaining);
  put_string(out, "MQTT");
  out.push_back(4);  // protocol level 3.1.1
  out.push_back(char(flags));
  put_u16(out, keepalive_s);
  put_string(out, client_id);
  if (!username.empty()) put_string(out, username);
  if (!password.empty()) put_string(out, password);
}

void put_subscribe(std::string& out, uint16_t id, std::string_view topic, int qos) {
  put_header(out, 0x82, 2 + 2 + topic.size() + 1);
  put_u16(out, id);
  put_string(out, topic);
  out.push_back(char(qos));
}

void put_publish(std::string& out, std::string_view topic, std::string_view payload, int qos, uint16_t id) {
  put_header(out, uint8_t(0x30 | qos << 1), 2 + topic.size() + (qos ? 2 : 0) + payload.size());
  put_string(out, topic);
  if (qos) put_u16(out, id);
  out.append(payload);
}

void put_puback(std::string& out, uint16_t id) {
  out.push_back(char(0x40));
  out.push_back(2);
  put_u16(out, id);
}

void put_pingreq(std::string& out) { out.append("\xc0\x00", 2); }
void put_disconnect(std::string& out) { out.append("\xe0\x00", 2); }

long take_packet(std::string_view in, Packet& p) {
  size_t remaining = 0, at = 1;
  for (int shift = 0;; shift += 7, ++at) {
    if (at >= in.size()) return 0;
    if (shift > 21) return -1;
    const uint8_t b = uint8_t(in[at]);
    remaining |= size_t(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  ++at;
  if (in.size() - at < remaining) return 0;
  p.type = uint8_t(in[0]) >> 4;
  p.flags = uint8_t(in[0]) & 0x0f;
  p.body = in.substr(at, remaining);
  return long(at + remaining);
}

bool parse_publish(const Packet& p, Publish& out) {
  const std::string_view b = p.body;
  if (b.size() < 2) return false;
  const size_t topic_len = get_u16(b, 0);
  out.qos = (p.flags >> 1) & 3;
  size_t at = 2 + topic_len;
  if (b.size() < at + (out.qos ? 2 : 0)) return false;
  out.topic = b.substr(2, topic_len);
  out.id = 0;
  if (out.qos) {
    out.id = get_u16(b, at);
    at += 2;
  }
  out.payload = b.substr(at);
  return true;
}

int connack_code(const Packet& p) { return p.body.size() >= 2 ? uint8_t(p.body[1]) : -1; }
int suback_first_granted(const Packet& p) { return p.body.size() >= 3 ? uint8_t(p.body[2]) : -1; }

Connection::Connection(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) throw std::runtime_error("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::string error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd_ < 0) continue;
    if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
    error = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port) + ": " + error);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool Connection::flush() {
  while (out_sent_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += size_t(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }
  out_.clear();
  out_sent_ = 0;
  return true;
}

bool Connection::read_available() {
  // Keep what is not yet taken at the front, with room for a large read behind it.
  const size_t left = in_len_ - in_taken_;
  if (in_taken_ > 0) std::memmove(in_.data(), in_.data() + in_taken_, left);
  in_len_ = left;
  in_taken_ = 0;
  for (;;) {
    if (in_.size() - in_len_ < kReadChunk) in_.resize(in_len_ + 2 * kReadChunk);
    const size_t room = in_.size() - in_len_;
    const ssize_t n = ::recv(fd_, in_.data() + in_len_, room, 0);
    if (n > 0) {
      in_len_ += size_t(n);
      if (size_t(n) < room) return true;  // drained; level-triggered polling says when there is more
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

bool Connection::next(Packet& p) {
  const long took = take_packet(std::string_view(in_.data() + in_taken_, in_len_ - in_taken_), p);
  if (took < 0) malformed_ = true;
  if (took <= 0) return false;
  in_taken_ += size_t(took);
  return true;
}

}  // namespace bench
