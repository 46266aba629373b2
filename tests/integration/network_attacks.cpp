#include "tests/integration/network_attacks.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "tests/support/stack.h"

namespace mqchat::test::net {

namespace {
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string(name) + " is not set (run through ./mqchat test)");
  return std::stoi(v);
}

pid_t pid_file(const std::string& name) {
  std::ifstream in(Stack::run_dir() + "/" + name);
  pid_t pid = 0;
  in >> pid;
  if (pid <= 0) throw std::runtime_error("no pid in " + Stack::run_dir() + "/" + name);
  return pid;
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}
}  // namespace

int public_mqtt_port() { return env_int("MQCHAT_MQTT_PORT"); }
int public_ws_port() { return env_int("MQCHAT_WS_PORT"); }
int broker_mqtt_port() { return env_int("MQCHAT_BROKER_MQTT_PORT"); }
int broker_ws_port() { return env_int("MQCHAT_BROKER_WS_PORT"); }
pid_t broker_pid() { return pid_file("mosquitto.pid"); }
pid_t proxy_pid() { return pid_file("haproxy.pid"); }

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

int fd_count(pid_t pid) {
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return -1;
  int n = 0;
  while (const dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

std::string varint(size_t n) {
  std::string out;
  do {
    char digit = char(n % 128);
    n /= 128;
    if (n) digit = char(digit | 0x80);
    out.push_back(digit);
  } while (n);
  return out;
}

std::string connect_packet(const std::string& user, const std::string& password, const std::string& client_id,
                           int level) {
  std::string body;
  const auto str = [&body](const std::string& s) {
    body.push_back(char(s.size() >> 8));
    body.push_back(char(s.size() & 0xff));
    body += s;
  };
  str("MQTT");
  body.push_back(char(level));
  body += std::string("\xC2\x00\x3C", 3);  // username, password, clean start; keepalive 60
  if (level == 5) body.push_back('\0');    // no properties
  str(client_id);
  str(user);
  str(password);
  return "\x10" + varint(body.size()) + body;
}

int tcp_connect(const std::string& source, int port, bool nonblocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

std::string read_exact(int fd, size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return "";
    char buf[4096];
    const ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0) return "";
    out.append(buf, size_t(r));
  }
  return out;
}

bool wait_closed(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready <= 0) return false;
    char buf[4096];
    const ssize_t r = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
  }
}

int connack_after(int fd, const std::string& packet, std::chrono::milliseconds timeout) {
  if (!send_all(fd, packet)) return -1;
  const std::string head = read_exact(fd, 2, timeout);
  if (head.size() != 2 || static_cast<unsigned char>(head[0]) != 0x20) return -1;
  const std::string rest = read_exact(fd, static_cast<unsigned char>(head[1]), timeout);
  if (rest.size() < 2) return -1;
  return static_cast<unsigned char>(rest[1]);
}

int http_get_status(int port, const std::string& path, std::string* body) {
  const int fd = tcp_connect("127.0.0.1", port);
  if (fd < 0) return 0;
  send_all(fd, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string response;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;
    char buf[8192];
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    response.append(buf, size_t(r));
  }
  ::close(fd);
  if (body) {
    const auto at = response.find("\r\n\r\n");
    *body = at == std::string::npos ? "" : response.substr(at + 4);
  }
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

long raise_fd_limit(long n) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (long(lim.rlim_cur) >= n) return long(lim.rlim_cur);
  rlimit want{rlim_t(n), std::max(lim.rlim_max, rlim_t(n))};
  if (setrlimit(RLIMIT_NOFILE, &want) != 0) {  // not root: up to the hard limit only
    want = {lim.rlim_max, lim.rlim_max};
    setrlimit(RLIMIT_NOFILE, &want);
  }
  getrlimit(RLIMIT_NOFILE, &lim);
  return long(lim.rlim_cur);
}

bool long_run() {
  const char* v = std::getenv("MQCHAT_ATTACK_LONG");
  return v && *v && std::string(v) != "0";
}

double connect_timeout_s() {
  const char* v = std::getenv("MQCHAT_CONNECT_TIMEOUT");
  if (!v || !*v) return 5.0;
  std::string s(v);
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") return std::stod(s) / 1000.0;
  return std::stod(s);  // "5s" or "5"
}

}  // namespace mqchat::test::net
