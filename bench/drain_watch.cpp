// Times a drain from the plugin's own count of committed messages: mqchat_shipper_messages_total on
// its Prometheus endpoint, read every --interval-ms by this one process. The shell loop it replaces
// started curl, awk, date and sleep for every read, ten times a second: ~10 % of the box's CPU
// during a drain went to that loop (perf, docs/PERFORMANCE-LOG.md session 26), taken from what it timed.
//
//   mqchat-bench-drain-watch --port P --messages N [--interval-ms 20] [--timeout-s 900]
// Reads the counter once and prints it on a line of its own (the caller waits for that line
// before it lets the drain begin), then prints "<start> <end> <reached>" on another: the epoch
// seconds of the last read that still saw the count it started with (the first commit came after
// it), of the first read at least N above that count, and 1 if that happened before the timeout (0
// otherwise; then <end> is when it gave up). So the drain took at most <end> - <start>, within
// one interval of it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace {

double epoch_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One GET of /metrics; the response's body and headers as they came.
std::optional<std::string> fetch_metrics(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<std::string> out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      std::string body;
      char buf[65536];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf, 0)) > 0) body.append(buf, static_cast<size_t>(n));
      if (n == 0) out = std::move(body);
    }
  }
  close(fd);
  return out;
}

// The counter's value in a Prometheus text page, if it is there.
std::optional<long long> shipped(const std::string& page) {
  static const std::string name = "\nmqchat_shipper_messages_total ";
  const size_t at = page.find(name);
  if (at == std::string::npos) return std::nullopt;
  return std::atoll(page.c_str() + at + name.size());
}

std::optional<long long> read_shipped(int port) {
  const auto page = fetch_metrics(port);
  return page ? shipped(*page) : std::nullopt;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: mqchat-bench-drain-watch --port P --messages N [--interval-ms 20] [--timeout-s 900]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, interval_ms = 20;
  long long messages = 0;
  double timeout_s = 900;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    else if (flag == "--messages") messages = std::atoll(argv[i + 1]);
    else if (flag == "--interval-ms") interval_ms = std::atoi(argv[i + 1]);
    else if (flag == "--timeout-s") timeout_s = std::atof(argv[i + 1]);
    else usage();
  }
  if (argc % 2 == 0 || port <= 0 || messages <= 0 || interval_ms <= 0) usage();

  const double started = epoch_seconds();
  double unchanged_at = started;  // the last read that saw *before
  const auto before = read_shipped(port);
  if (!before) {
    std::fprintf(stderr, "mqchat-bench-drain-watch: no mqchat_shipper_messages_total on 127.0.0.1:%d/metrics\n", port);
    return 1;
  }
  std::printf("%lld\n", *before);
  std::fflush(stdout);
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    const double now = epoch_seconds();
    const auto count = read_shipped(port);  // none if the endpoint did not answer: read again
    if (count && *count == *before) unchanged_at = now;
    if (count && *count - *before >= messages) {
      std::printf("%.3f %.3f 1\n", unchanged_at, now);
      return 0;
    }
    if (now - started > timeout_s) {
      std::printf("%.3f %.3f 0\n", unchanged_at, now);
      return 0;
    }
  }
}
