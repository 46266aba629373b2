// mqchat-bench-login-storm: do logins stall the broker? (issue 12)
//   restart: N users reconnect at once (each retries 1 s after a refusal, as clients do); reports
//            the time until all N are connected.
//   flood:   wrong-password CONNECTs as fast as C connections can send them, spread over A accounts,
//            for D seconds; meanwhile the first account's owner reconnects with her known client id
//            once a second.
//   warm:    every user logs in once (what happens in normal operation before a restart).
// Both measured modes run P publishers sending QoS 1 every 20 ms and report their PUBACK
// latency (p50/p99/max). MQTT 3.1.1 over raw sockets: thousands of connections, one thread.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  int port = 1883;
  std::string prefix = "storm", password = "bench-password";
  int users = 5000, publishers = 3, accounts = 40, attackers = 8;
  double duration_s = 30;
  std::string out;
};

void put_str(std::string& b, const std::string& s) {
  b.push_back(char(s.size() >> 8));
  b.push_back(char(s.size() & 0xff));
  b += s;
}

std::string frame(uint8_t header, const std::string& body) {
  std::string p(1, char(header));
  for (size_t n = body.size();;) {
    const char d = char(n % 128);
    n /= 128;
    p.push_back(n ? char(d | 0x80) : d);
    if (!n) break;
  }
  return p + body;
}

std::string connect_packet(const std::string& user, const std::string& pw, const std::string& id) {
  std::string b;
  put_str(b, "MQTT");
  b += std::string("\x04\xC2\x00\x3C", 4);  // 3.1.1, username + password + clean session, keepalive 60
  put_str(b, id);
  put_str(b, user);
  put_str(b, pw);
  return frame(0x10, b);
}

int open_socket(int port, bool nonblocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool read_exact(int fd, char* buf, size_t n, int timeout_ms) {
  size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    const ssize_t r = ::recv(fd, buf + got, n - got, 0);
    if (r <= 0) return false;
    got += size_t(r);
  }
  return true;
}

// A blocking login: the CONNACK code, or -1.
int login(int port, const std::string& user, const std::string& pw, const std::string& id, int* fd_out = nullptr) {
  const int fd = open_socket(port, false);
  if (fd < 0) return -1;
  const std::string p = connect_packet(user, pw, id);
  char ack[4];
  int rc = -1;
  if (::send(fd, p.data(), p.size(), MSG_NOSIGNAL) == ssize_t(p.size()) && read_exact(fd, ack, 4, 30000) &&
      ack[0] == 0x20)
    rc = uint8_t(ack[3]);
  if (rc == 0 && fd_out) *fd_out = fd;
  else ::close(fd);
  return rc;
}

// --- publishers -------------------------------------------------------------------------------
struct Latencies {
  std::mutex mu;
  std::vector<double> ms;
  std::atomic<long> failed{0};
};

void publisher(const Options& o, int i, std::atomic<bool>& stop, Latencies& lat) {
  const std::string s = o.prefix + "-pub-s" + std::to_string(i), r = o.prefix + "-pub-r" + std::to_string(i);
  int fd = -1;
  while (!stop && login(o.port, s, o.password, s + "-bench", &fd) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string topic = "chat/" + std::min(s, r) + "_" + std::max(s, r) + "/messages";  // byte order
  uint16_t mid = 0;
  while (!stop) {
    mid = uint16_t(mid % 60000 + 1);
    std::string b;
    put_str(b, topic);
    b.push_back(char(mid >> 8));
    b.push_back(char(mid & 0xff));
    b += "ping " + std::to_string(mid);
    const std::string p = frame(0x32, b);
    const auto t0 = Clock::now();
    char ack[4];
    if (::send(fd, p.data(), p.size(), MSG_NOSIGNAL) != ssize_t(p.size()) || !read_exact(fd, ack, 4, 30000) ||
        uint8_t(ack[0]) != 0x40) {
      ++lat.failed;
      ::close(fd);
      fd = -1;
      while (!stop && login(o.port, s, o.password, s + "-bench", &fd) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    {
      std::lock_guard<std::mutex> l(lat.mu);
      lat.ms.push_back(ms);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (fd >= 0) ::close(fd);
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

// --- the storm --------------------------------------------------------------------------------
// All users connect at once over non-blocking sockets; a refused one retries after 1 s.
struct StormResult {
  double all_back_s = -1;
  long refusals = 0;
  int connected = 0;
};

StormResult storm(const Options& o, double give_up_s) {
  struct Conn {
    int fd = -1;
    std::string packet, in;
    size_t sent = 0;
    bool done = false;
    Clock::time_point retry_at{};
  };
  std::vector<Conn> conns(size_t(o.users));
  const int ep = ::epoll_create1(0);
  const auto t0 = Clock::now();
  StormResult r;
  const auto start = [&](size_t i) {
    Conn& c = conns[i];
    const std::string user = o.prefix + "-u" + std::to_string(i);
    c.packet = connect_packet(user, o.password, user + "-phone");
    c.sent = 0;
    c.in.clear();
    c.fd = open_socket(o.port, true);
    if (c.fd < 0) {
      c.retry_at = Clock::now() + std::chrono::seconds(1);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  };
  for (size_t i = 0; i < conns.size(); ++i) start(i);
  std::vector<epoll_event> events(1024);
  while (r.connected < o.users) {
    if (std::chrono::duration<double>(Clock::now() - t0).count() > give_up_s) break;
    const int n = ::epoll_wait(ep, events.data(), int(events.size()), 50);
    for (int k = 0; k < n; ++k) {
      const size_t i = events[k].data.u64;
      Conn& c = conns[i];
      if (c.fd < 0 || c.done) continue;
      if ((events[k].events & EPOLLOUT) && c.sent < c.packet.size()) {
        const ssize_t w = ::send(c.fd, c.packet.data() + c.sent, c.packet.size() - c.sent, MSG_NOSIGNAL);
        if (w > 0) c.sent += size_t(w);
        if (c.sent == c.packet.size()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = i;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf[16];
        const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) c.in.append(buf, size_t(got));
        if (c.in.size() >= 4 && uint8_t(c.in[0]) == 0x20 && c.in[3] == 0) {
          c.done = true;
          ++r.connected;
          ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);  // stays connected
        } else if (got <= 0 || c.in.size() >= 4) {
          ++r.refusals;
          ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          ::close(c.fd);
          c.fd = -1;
          c.retry_at = Clock::now() + std::chrono::seconds(1);
        }
      }
    }
    const auto now = Clock::now();
    for (size_t i = 0; i < conns.size(); ++i)
      if (!conns[i].done && conns[i].fd < 0 && conns[i].retry_at <= now) start(i);
  }
  if (r.connected == o.users) r.all_back_s = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& c : conns)
    if (c.fd >= 0) ::close(c.fd);
  ::close(ep);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--mode") o.mode = next();
    else if (a == "--port") o.port = std::stoi(next());
    else if (a == "--prefix") o.prefix = next();
    else if (a == "--password") o.password = next();
    else if (a == "--users") o.users = std::stoi(next());
    else if (a == "--publishers") o.publishers = std::stoi(next());
    else if (a == "--accounts") o.accounts = std::stoi(next());
    else if (a == "--attackers") o.attackers = std::stoi(next());
    else if (a == "--duration") o.duration_s = std::stod(next());
    else if (a == "--out") o.out = next();
    else {
      std::cerr << "usage: mqchat-bench-login-storm --mode warm|restart|flood [--port P] [--prefix X] [--users N] "
                   "[--publishers P] [--accounts A] [--attackers C] [--duration S] [--out FILE]\n";
      return 2;
    }
  }
  if (o.mode == "warm") {
    // Everyone logs in once, 32 at a time; retried until accepted.
    std::atomic<int> next{0}, ok{0};
    std::vector<std::thread> ts;
    const auto t0 = Clock::now();
    for (int t = 0; t < 32; ++t)
      ts.emplace_back([&] {
        for (int i; (i = next++) < o.users;) {
          const std::string user = o.prefix + "-u" + std::to_string(i);
          while (login(o.port, user, o.password, user + "-phone") != 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
          if (++ok % 500 == 0) std::cerr << "  warm: " << ok << " / " << o.users << "\n";
        }
      });
    for (auto& t : ts) t.join();
    std::cerr << "warm: " << ok << " users logged in once in "
              << std::chrono::duration<double>(Clock::now() - t0).count() << " s\n";
    return 0;
  }

  std::atomic<bool> stop{false};
  Latencies lat;
  std::vector<std::thread> pubs;
  for (int i = 0; i < o.publishers; ++i) pubs.emplace_back(publisher, std::cref(o), i, std::ref(stop), std::ref(lat));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a baseline before the storm
  std::vector<double> baseline;
  {
    std::lock_guard<std::mutex> l(lat.mu);
    baseline.swap(lat.ms);
  }
  std::string result;
  if (o.mode == "restart") {
    const StormResult r = storm(o, 1800);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    char buf[256];
    std::snprintf(buf, sizeof buf, "\"users\":%d,\"connected\":%d,\"all_back_s\":%.2f,\"refusals\":%ld", o.users,
                  r.connected, r.all_back_s, r.refusals);
    result = buf;
  } else if (o.mode == "flood") {
    std::atomic<long> attempts{0}, accepted{0};
    std::atomic<int> owner_ok{0}, owner_tries{0};
    std::vector<std::thread> atk;
    const auto until = Clock::now() + std::chrono::duration<double>(o.duration_s);
    for (int t = 0; t < o.attackers; ++t)
      atk.emplace_back([&, t] {
        std::mt19937_64 rng(uint64_t(t) * 7919 + 1);
        while (Clock::now() < until) {
          const int a = int(rng() % uint64_t(o.accounts));
          const std::string user = o.prefix + "-u" + std::to_string(a);
          const int rc = login(o.port, user, "guess-" + std::to_string(rng()), "atk-" + std::to_string(rng()));
          ++attempts;
          if (rc == 0) ++accepted;
        }
      });
    // The owner of the first account, from her usual client, once a second.
    const std::string owner = o.prefix + "-u0";
    while (Clock::now() < until) {
      ++owner_tries;
      if (login(o.port, owner, o.password, owner + "-phone") == 0) ++owner_ok;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    for (auto& t : atk) t.join();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "\"accounts\":%d,\"attempts\":%ld,\"attempts_per_s\":%.0f,\"wrongly_accepted\":%ld,"
                  "\"owner_logins\":\"%d/%d\"",
                  o.accounts, attempts.load(), double(attempts) / o.duration_s, accepted.load(), owner_ok.load(),
                  owner_tries.load());
    result = buf;
  } else {
    std::cerr << "--mode warm|restart|flood\n";
    return 2;
  }
  stop = true;
  for (auto& t : pubs) t.join();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"mode\":\"%s\",%s,\"puback_ms\":{\"n\":%zu,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f,\"failed\":%ld},"
                "\"baseline_puback_ms\":{\"p50\":%.2f,\"p99\":%.2f}}",
                o.mode.c_str(), result.c_str(), lat.ms.size(), pct(lat.ms, 0.5), pct(lat.ms, 0.99),
                pct(lat.ms, 1.0), lat.failed.load(), pct(baseline, 0.5), pct(baseline, 0.99));
  std::cout << buf << "\n";
  if (!o.out.empty()) std::ofstream(o.out) << buf << "\n";
  return 0;
}
