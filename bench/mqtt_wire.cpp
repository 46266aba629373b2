#include "bench/mqtt_wire.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>

namespace bench {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

int64_t monotonic_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

uint16_t get_u16(const char* p) { return uint16_t(uint8_t(p[0]) << 8 | uint8_t(p[1])); }

}  // namespace

WireClient::~WireClient() {
  if (fd_ >= 0) ::close(fd_);
}

uint16_t WireClient::next_packet_id() {
  if (++next_id_ == 0) ++next_id_;  // 0 is not a packet id
  return next_id_;
}

void WireClient::put_u16(uint16_t v) {
  out_.push_back(char(v >> 8));
  out_.push_back(char(v & 0xff));
}

void WireClient::put_string(std::string_view s) {
  put_u16(uint16_t(s.size()));
  out_.append(s);
}

void WireClient::put_remaining_length(size_t n) {
  do {
    char byte = char(n % 128);
    n /= 128;
    if (n > 0) byte = char(byte | 0x80);
    out_.push_back(byte);
  } while (n > 0);
}

std::string WireClient::connect(const std::string& host, int port, const std::string& client_id,
                                const std::string& username, const std::string& password, uint16_t keepalive_s) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
    return "cannot resolve " + host;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return "cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fd_ = fd;

  const size_t body = 10 + 2 + client_id.size() + (username.empty() ? 0 : 2 + username.size()) +
                      (password.empty() ? 0 : 2 + password.size());
  out_.push_back(char(0x10));
  put_remaining_length(body);
  put_string("MQTT");
  out_.push_back(char(4));  // 3.1.1
  out_.push_back(char(0x02 | (username.empty() ? 0 : 0x80) | (password.empty() ? 0 : 0x40)));
  put_u16(keepalive_s);
  put_string(client_id);
  if (!username.empty()) put_string(username);
  if (!password.empty()) put_string(password);
  return "";
}

void WireClient::subscribe(const std::string& topic, int qos) {
  out_.push_back(char(0x82));
  put_remaining_length(2 + 2 + topic.size() + 1);
  put_u16(next_packet_id());
  put_string(topic);
  out_.push_back(char(qos));
}

uint16_t WireClient::publish(const std::string& topic, std::string_view payload, int qos) {
  const uint16_t id = qos > 0 ? next_packet_id() : 0;
  out_.push_back(char(0x30 | (qos << 1)));
  put_remaining_length(2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size());
  put_string(topic);
  if (qos > 0) put_u16(id);
  out_.append(payload);
  return id;
}

std::string WireClient::on_readable() {
  for (;;) {
    if (in_.size() - in_end_ < kReadChunk / 2) {  // room for a good read: compact, then grow
      if (in_begin_ > 0) {
        std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
      }
      if (in_.size() - in_end_ < kReadChunk / 2) in_.resize(in_end_ + kReadChunk);
    }
    const size_t space = in_.size() - in_end_;
    const ssize_t n = ::read(fd_, in_.data() + in_end_, space);
    if (n == 0) return "connection closed by the broker";
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return "";
      if (errno == EINTR) continue;
      return std::string("read failed: ") + std::strerror(errno);
    }
    in_end_ += size_t(n);
    std::string error = parse();
    if (!error.empty()) return error;
    if (size_t(n) < space) return "";  // a short read: the socket is empty
  }
}

std::string WireClient::parse() {
  while (in_end_ - in_begin_ >= 2) {
    const char* p = in_.data() + in_begin_;
    const size_t avail = in_end_ - in_begin_;
    size_t length = 0, header = 1;
    for (int shift = 0;; shift += 7) {
      if (header >= avail) return "";  // the length is not all here yet
      if (shift > 21) return "malformed remaining length";
      const uint8_t byte = uint8_t(p[header++]);
      length |= size_t(byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    if (avail < header + length) return "";
    const uint8_t type = uint8_t(p[0]) >> 4;
    const char* body = p + header;
    switch (type) {
      case 2:  // CONNACK
        if (length < 2) return "short CONNACK";
        if (cb_.on_connack) cb_.on_connack(obj_, uint8_t(body[1]));
        break;
      case 3: {  // PUBLISH
        const int qos = (uint8_t(p[0]) >> 1) & 3;
        if (length < 2) return "short PUBLISH";
        size_t at = 2 + get_u16(body);
        uint16_t id = 0;
        if (qos > 0) {
          if (at + 2 > length) return "short PUBLISH";
          id = get_u16(body + at);
          at += 2;
        }
        if (at > length) return "short PUBLISH";
        if (cb_.on_message) cb_.on_message(obj_, std::string_view(body + at, length - at));
        if (qos == 1) {
          out_.append("\x40\x02", 2);
          put_u16(id);
        } else if (qos == 2) {
          return "QoS 2 is not supported by the load generator";
        }
        break;
      }
      case 4:  // PUBACK
        if (length < 2) return "short PUBACK";
        if (cb_.on_puback) cb_.on_puback(obj_, get_u16(body));
        break;
      case 9:  // SUBACK
        if (length < 3) return "short SUBACK";
        if (cb_.on_suback) cb_.on_suback(obj_, uint8_t(body[2]));
        break;
      case 13:  // PINGRESP
        break;
      default:
        return "unexpected packet type " + std::to_string(type);
    }
    in_begin_ += header + length;
  }
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  return "";
}

std::string WireClient::flush(bool& drained) {
  while (out_sent_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        drained = false;
        return "";
      }
      return std::string("write failed: ") + std::strerror(errno);
    }
    out_sent_ += size_t(n);
  }
  out_.clear();
  out_sent_ = 0;
  drained = true;
  return "";
}

WireLoop::WireLoop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {}

WireLoop::~WireLoop() {
  if (epfd_ >= 0) ::close(epfd_);
}

void WireLoop::add(WireClient* c) {
  clients_.push_back(c);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c->fd(), &ev);
  events_.resize(clients_.size());
}

std::string WireLoop::flush_all() {
  for (WireClient* c : clients_) {
    if (!c->wants_write() && !c->watching_out) continue;
    bool drained = true;
    std::string error = c->flush(drained);
    if (!error.empty()) return error;
    if (drained != c->watching_out) continue;
    // Rare (the socket's buffer is full): wake when it is writable, then back to reads only.
    c->watching_out = !drained;
    epoll_event ev{};
    ev.events = uint32_t(EPOLLIN) | (drained ? 0u : uint32_t(EPOLLOUT));
    ev.data.ptr = c;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd(), &ev);
  }
  return "";
}

std::string WireLoop::run_once(int64_t timeout_us) {
  std::string error = flush_all();
  if (!error.empty()) return error;
  const timespec timeout{time_t(timeout_us / 1000000), long(timeout_us % 1000000) * 1000};
  const int n = epoll_pwait2(epfd_, events_.data(), int(events_.size()), &timeout, nullptr);
  if (n < 0 && errno != EINTR) return std::string("epoll failed: ") + std::strerror(errno);
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<WireClient*>(events_[i].data.ptr);
    if (events_[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      error = c->on_readable();
      if (!error.empty()) return error;
    }
  }
  const int64_t now = monotonic_us();
  if (now >= next_ping_us_) {
    if (next_ping_us_ != 0)
      for (WireClient* c : clients_) c->ping();
    next_ping_us_ = now + 30 * 1000000;
  }
  return flush_all();
}

}  // namespace bench
