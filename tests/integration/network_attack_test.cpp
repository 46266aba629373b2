// The network and resource attacks: what an anonymous client can make the broker hold before it
// has logged in (memory, file descriptors, time), what a logged-in user can make it queue, what is
// reachable from another interface, which files the web listener serves. Each test is a row of
// the table in docs/RELIABILITY.md: the attack, the expected outcome (exact reason code or
// effect) and a MEASURED bound, read from /proc of the broker and of HAProxy. Rows are printed as
// "[attack-row] ..." and appended to .run/test/attack-table.md.
//
// Attacks come from 127.0.0.2 and up: the test stack exempts 127.0.0.1 (where the other tests and
// the "real user" here connect from) from HAProxy's per-source limits, nothing else.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/integration/fixtures.h"
#include "tests/integration/network_attacks.h"

namespace mqchat::test {

namespace {

using Clock = std::chrono::steady_clock;
using namespace net;

void record(const std::string& attack, const std::string& outcome, const std::string& measured) {
  std::cerr << "[attack-row] " << attack << " | " << outcome << " | " << measured << "\n";
  std::ofstream(Stack::run_dir() + "/attack-table.md", std::ios::app)
      << "| " << attack << " | " << outcome << " | " << measured << " |\n";
}

std::string mib(long kib) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(kib) / 1024.0);
  return buf;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A setting from the broker config ./mqchat wrote for this stack.
long broker_setting(const std::string& key) {
  std::ifstream in(Stack::run_dir() + "/mosquitto.conf");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + " ", 0) == 0) return std::stol(line.substr(key.size() + 1));
  throw std::runtime_error(key + " is not set in mosquitto.conf");
}

// Samples a process's RSS and fd count in the background; peak values on stop().
class Watch {
 public:
  explicit Watch(pid_t pid) : pid_(pid), rss0_(rss_kib(pid)), fd0_(fd_count(pid)), peak_rss_(rss0_), peak_fd_(fd0_) {
    thread_ = std::thread([this] {
      while (!stop_) {
        peak_rss_ = std::max(peak_rss_.load(), rss_kib(pid_));
        peak_fd_ = std::max(peak_fd_.load(), fd_count(pid_));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~Watch() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long rss_growth_kib() const { return peak_rss_ - rss0_; }
  int fd_growth() const { return peak_fd_ - fd0_; }
  long rss0() const { return rss0_; }
  long peak_rss() const { return peak_rss_; }
  int fd0() const { return fd0_; }
  int peak_fd() const { return peak_fd_; }

 private:
  pid_t pid_;
  long rss0_;
  int fd0_;
  std::atomic<long> peak_rss_;
  std::atomic<int> peak_fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Streams `total` bytes of junk after `head` on each socket, non-blocking, until the peer closes it
// or `limit` passes; returns how many sockets the peer closed and the bytes it took in.
struct Flood {
  int closed = 0;
  size_t accepted = 0;
  double seconds = 0;
};
Flood flood(const std::vector<int>& fds, const std::string& head, size_t total, std::chrono::milliseconds limit) {
  Flood f;
  const auto t0 = Clock::now();
  std::vector<size_t> sent(fds.size(), 0);
  std::vector<bool> done(fds.size(), false);
  for (size_t i = 0; i < fds.size(); ++i) done[i] = !send_all(fds[i], head);
  const std::string chunk(64 * 1024, 'x');
  while (Clock::now() - t0 < limit) {
    bool any = false;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (done[i]) continue;
      char buf[256];
      const ssize_t r = ::recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
      const ssize_t n = sent[i] < total ? ::send(fds[i], chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL) : 0;
      if (r == 0 || (r < 0 && errno != EAGAIN) || (n < 0 && errno != EAGAIN)) {
        done[i] = true;
        ++f.closed;
        continue;
      }
      if (n > 0) sent[i] += size_t(n);
      any = true;
    }
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (size_t s : sent) f.accepted += s;
  f.seconds = seconds_since(t0);
  return f;
}

class NetworkAttacks : public PairTest {};

}  // namespace

// ---------------------------------------------------------------- before any login

TEST_F(NetworkAttacks, ConnectsAnnouncing200MBAreCutBeforeTheBrokerHoldsThem) {
  constexpr size_t kAnnounced = 200u * 1000 * 1000;
  const size_t stream = long_run() ? 200u * 1000 * 1000 : 20u * 1000 * 1000;  // bytes each socket tries to send
  const std::string head = "\x10" + varint(kAnnounced) + std::string("\x00\x04MQTT\x04\xC2\x00\x3C", 10);
  const double timeout = connect_timeout_s();
  // Through HAProxy: the CONNECT never completes inside its 16 KB buffer, so it is closed and the
  // broker never sees a byte. Directly on the broker's loopback port (a local user): max_packet_size
  // refuses the announced length before Mosquitto allocates anything.
  for (const auto& [where, port] : {std::pair<std::string, int>{"HAProxy", public_mqtt_port()},
                                    std::pair<std::string, int>{"broker port", broker_mqtt_port()}}) {
    Watch broker(broker_pid());
    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) fds.push_back(tcp_connect("127.0.0.2", port));
    ASSERT_TRUE(std::none_of(fds.begin(), fds.end(), [](int fd) { return fd < 0; }));
    for (int fd : fds) ::fcntl(fd, F_SETFL, O_NONBLOCK);
    const Flood f = flood(fds, head, stream, std::chrono::milliseconds(int((timeout + 5) * 1000)));
    for (int fd : fds) ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    broker.stop();
    EXPECT_EQ(f.closed, 5) << where << ": every such connection is closed";
    EXPECT_LT(f.seconds, timeout + 2) << where;
    EXPECT_LT(broker.rss_growth_kib(), 8 * 1024) << where << ": broker RSS " << broker.rss0() << " -> "
                                                 << broker.peak_rss() << " KiB";
    record("CONNECT announcing 200 MB ×5, data streamed (" + where + ")",
           "closed unanswered, before authentication",
           "closed after " + std::to_string(f.seconds).substr(0, 4) + " s, " + std::to_string(f.accepted / 1024) +
               " KiB taken in; broker RSS " + mib(broker.rss0()) + " → peak " + mib(broker.peak_rss()));
  }
}

// Opens `n` idle sockets from `source_prefix`.<k> (15,000 per address, so ephemeral ports never
// run out) in a child process, which reports on `report` when they are all open, then how many the
// peer closed by `deadline_s` seconds after that and how many the kernel refused. A child of its
// own, because one process may hold fewer descriptors than the attack needs.
struct IdleChild {
  pid_t pid = -1;
  int report = -1;
};
IdleChild spawn_idle_sockets(const std::string& source_prefix, int first_address, long n, double deadline_s) {
  std::vector<int> fds(size_t(n), -1);  // allocated before fork: the child only makes syscalls
  std::vector<std::string> sources;
  for (long i = 0; i < n; i += 15000) sources.push_back(source_prefix + std::to_string(first_address + i / 15000));
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  const pid_t pid = ::fork();
  if (pid != 0) {
    ::close(pipe_fds[1]);
    return {pid, pipe_fds[0]};
  }
  ::close(pipe_fds[0]);
  long refused = 0;
  for (long i = 0; i < n; ++i) {
    fds[size_t(i)] = tcp_connect(sources[size_t(i / 15000)], public_mqtt_port(), true);
    if (fds[size_t(i)] < 0) ++refused;
  }
  long header[2] = {n - refused, refused};
  (void)!::write(pipe_fds[1], header, sizeof header);
  long open = n - refused;
  const auto deadline = Clock::now() + std::chrono::milliseconds(long(deadline_s * 1000));
  while (open > 0 && Clock::now() < deadline) {
    for (long i = 0; i < n; ++i) {
      int& fd = fds[size_t(i)];
      if (fd < 0) continue;
      char c;
      const ssize_t r = ::recv(fd, &c, 1, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN)) {
        ::close(fd);
        fd = -1;
        --open;
      }
    }
    ::usleep(100 * 1000);
  }
  (void)!::write(pipe_fds[1], &open, sizeof open);
  ::_exit(0);
}

TEST_F(NetworkAttacks, TwentyThousandIdleSocketsCostTheBrokerNothingAndARealLoginStillWorks) {
  const long n = long_run() ? 40000 : 20000;
  const long per_child = std::min(15000L, raise_fd_limit(n + 1000) - 200);
  ASSERT_GE(per_child, 1000) << "a process may open only " << per_child + 200 << " files here";
  const double deadline_s = connect_timeout_s() + 5;
  Watch broker(broker_pid());
  Watch proxy(proxy_pid());
  const auto t0 = Clock::now();
  std::vector<IdleChild> children;
  for (long done = 0, k = 0; done < n; done += per_child, ++k) {
    // One source address per child: all of them are "one attacker" as far as the limits go.
    children.push_back(spawn_idle_sockets("127.0.1.", int(1 + k), std::min(per_child, n - done), deadline_s));
    ASSERT_GT(children.back().pid, 0);
  }
  long opened = 0, refused = 0;
  for (const auto& c : children) {
    long header[2] = {0, 0};
    ASSERT_EQ(::read(c.report, header, sizeof header), ssize_t(sizeof header));
    opened += header[0];
    refused += header[1];
  }
  const double opening = seconds_since(t0);
  // A real user logs in while all of that is open.
  const auto login0 = Clock::now();
  TestClient alice(pair_.alice, kPassword);
  const bool logged_in = alice.try_connect();
  const double login_s = seconds_since(login0);
  EXPECT_TRUE(logged_in);
  if (logged_in) {
    EXPECT_EQ(alice.publish(messages_topic(pair_.room), "still works"), 0);
  }
  // Every idle socket is closed: at once beyond the per-source limits, the rest when the connect
  // timeout passes without a CONNECT.
  long still_open = 0;
  for (const auto& c : children) {
    long open = -1;
    EXPECT_EQ(::read(c.report, &open, sizeof open), ssize_t(sizeof open));
    still_open += open;
    ::close(c.report);
    ::waitpid(c.pid, nullptr, 0);
  }
  const double all_closed = seconds_since(t0);
  broker.stop();
  proxy.stop();
  EXPECT_EQ(opened + refused, n);
  EXPECT_GE(opened, n * 9 / 10) << "the attack itself did not happen";
  EXPECT_EQ(still_open, 0) << "idle sockets still open after the connect timeout";
  EXPECT_LT(broker.fd_growth(), 20) << "the broker must not see connections that never sent a CONNECT";
  EXPECT_LT(broker.rss_growth_kib(), 8 * 1024);
  const long proxy_max = 2L * (broker_setting("max_connections") + 10);
  EXPECT_LT(proxy.peak_fd(), proxy_max) << "HAProxy holds at most its maxconn";
  record(std::to_string(opened) + " idle TCP sockets (no CONNECT) from " + std::to_string(children.size()) +
             " addresses",
         "refused beyond 100 per address (300 new per 10 s); the rest closed after the connect timeout; a real "
         "login works meanwhile",
         "opened in " + std::to_string(opening).substr(0, 4) + " s (" + std::to_string(refused) +
             " refused by the kernel); all closed within " + std::to_string(all_closed).substr(0, 4) +
             " s; the login took " + std::to_string(login_s).substr(0, 5) + " s; broker fds " +
             std::to_string(broker.fd0()) + " → peak " + std::to_string(broker.peak_fd()) + ", RSS " +
             mib(broker.rss0()) + " → " + mib(broker.peak_rss()) + "; HAProxy fds peak " +
             std::to_string(proxy.peak_fd()));
}

TEST_F(NetworkAttacks, AConnectTrickledOneByteASecondIsClosedWithinTheTimeout) {
  const std::string packet = connect_packet(pair_.alice, kPassword, "trickle-" + pair_.alice);
  const double timeout = connect_timeout_s();
  // The same CONNECT sent at once from the same address logs in: it is the pace that is refused.
  const int quick = tcp_connect("127.0.0.3", public_mqtt_port());
  ASSERT_GE(quick, 0);
  EXPECT_EQ(connack_after(quick, packet), 0);
  ::close(quick);

  for (const auto& [what, port, data] :
       {std::tuple<std::string, int, std::string>{"MQTT CONNECT", public_mqtt_port(), packet},
        std::tuple<std::string, int, std::string>{"HTTP request to the web listener", public_ws_port(),
                                                  "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"}}) {
    const int fd = tcp_connect("127.0.0.3", port);
    ASSERT_GE(fd, 0);
    const auto t0 = Clock::now();
    bool closed = false;
    size_t sent = 0;
    while (!closed && seconds_since(t0) < timeout + 10) {
      if (sent < data.size()) {
        if (::send(fd, &data[sent], 1, MSG_NOSIGNAL) == 1) {
          ++sent;
        } else {
          closed = true;
        }
      }
      closed = closed || wait_closed(fd, std::chrono::seconds(1));
    }
    const double lived = seconds_since(t0);
    ::close(fd);
    EXPECT_TRUE(closed) << what;
    EXPECT_LT(lived, timeout + 2) << what;
    EXPECT_LT(sent, data.size()) << what << ": closed before it was complete";
    record(what + " trickled at 1 byte/s", "closed when the connect timeout (" + std::to_string(int(timeout)) +
                                               " s) passes",
           "closed after " + std::to_string(lived).substr(0, 4) + " s, " + std::to_string(sent) + " of " +
               std::to_string(data.size()) + " bytes sent");
  }
}

TEST_F(NetworkAttacks, APasswordWithANulByteIsRefusedWhateverFollowsIt) {
  // Mosquitto would hand the plugin only the part before the NUL: "<password>\0junk" would log in.
  const std::string pw = kPassword;
  const std::vector<std::string> variants = {pw + std::string("\0junk", 5), pw + std::string(1, '\0'),
                                             std::string(1, '\0') + pw,
                                             pw.substr(0, 3) + std::string(1, '\0') + pw.substr(3)};
  int refused = 0;
  for (int level : {4, 5}) {
    for (const auto& v : variants) {
      const int fd = tcp_connect("127.0.0.1", public_mqtt_port());
      ASSERT_GE(fd, 0);
      const int rc = connack_after(fd, connect_packet(pair_.alice, v, "nul-" + std::to_string(refused), level));
      EXPECT_EQ(rc, -1) << "MQTT level " << level << ", NUL at " << v.find('\0');
      if (rc == -1) ++refused;
      ::close(fd);
    }
    // The real password, same path: accepted, so the refusal above is the NUL's.
    const int fd = tcp_connect("127.0.0.1", public_mqtt_port());
    EXPECT_EQ(connack_after(fd, connect_packet(pair_.alice, pw, "nul-ok", level)), 0);
    ::close(fd);
  }
  record("password with a NUL byte (\"pw\\0junk\", \"pw\\0\", \"\\0pw\", \"p\\0w\"; MQTT 3.1.1 and 5)",
         "connection closed, no CONNACK (HAProxy, before the broker)",
         std::to_string(refused) + " of " + std::to_string(2 * variants.size()) + " refused; the plain password logs in");
}

TEST_F(NetworkAttacks, AWellFormedConnectLargerThanTheProxysBufferIsRefused) {
  // A CONNECT the size of a long token (4 KB password) reaches the broker and gets its answer; one
  // of 100 KB (well-formed, just big) is closed unanswered: HAProxy must see it whole in 16 KB.
  const auto try_size = [&](size_t password_bytes) {
    const int fd = tcp_connect("127.0.0.4", public_mqtt_port());
    const int rc = connack_after(fd, connect_packet(pair_.alice, std::string(password_bytes, 'p'), "size-test"));
    ::close(fd);
    return rc;
  };
  const int token_sized = try_size(4096), huge = try_size(100 * 1024);
  EXPECT_TRUE(token_sized == 4 || token_sized == 5) << "a wrong 4 KB password is the broker's to refuse: " << token_sized;
  EXPECT_EQ(huge, -1);
  record("well-formed CONNECT with a 100 KB password",
         "closed unanswered (a CONNECT must fit HAProxy's 16 KB buffer)",
         "100 KB: closed, no CONNACK; 4 KB (token-sized): CONNACK " + std::to_string(token_sized) + " from the broker");
}

// ---------------------------------------------------------------- a logged-in user

TEST_F(NetworkAttacks, APacketOverMaxPacketSizeIsRefusedBeforeItIsRead) {
  const long max_packet = broker_setting("max_packet_size");
  Watch broker(broker_pid());
  const int fd = tcp_connect("127.0.0.1", public_mqtt_port());
  ASSERT_EQ(connack_after(fd, connect_packet(pair_.alice, kPassword, "big-" + pair_.alice, 5)), 0);
  // A QoS 0 PUBLISH announcing one byte more than the limit: only its fixed header, because the broker
  // answers from that alone (and bytes it never read would turn its close into a reset that can
  // discard the DISCONNECT before this side reads it).
  ASSERT_TRUE(send_all(fd, "\x30" + varint(size_t(max_packet))));
  const std::string reply = read_exact(fd, 3, std::chrono::seconds(5));
  const bool closed = wait_closed(fd, std::chrono::seconds(5));
  ::close(fd);
  broker.stop();
  ASSERT_EQ(reply.size(), 3u) << "expected a DISCONNECT";
  EXPECT_EQ(static_cast<unsigned char>(reply[0]), 0xE0) << "DISCONNECT";
  EXPECT_EQ(static_cast<unsigned char>(reply[2]), 0x95) << "reason: packet too large";
  EXPECT_TRUE(closed);
  EXPECT_LT(broker.rss_growth_kib(), 4 * 1024);
  record("PUBLISH of max_packet_size + 1 byte (" + std::to_string(max_packet) + ") by a logged-in user",
         "DISCONNECT 0x95 (packet too large), nothing allocated",
         "broker RSS " + mib(broker.rss0()) + " → peak " + mib(broker.peak_rss()));
}

TEST_F(NetworkAttacks, BigMessagesQueuedForOfflineSessionsStopAtMaxQueuedBytes) {
  const long max_queued = broker_setting("max_queued_bytes");
  const long max_packet = broker_setting("max_packet_size");
  const std::string typing = "chat/" + pair_.room + "/typing";
  // Two persistent sessions, then offline: the publisher's own (on typing, as in the review) and
  // the other participant's (on messages). Mosquitto's queues are per session.
  ClientOptions own, other;
  own.clean = other.clean = false;
  own.client_id = "offline-typing-" + pair_.alice;
  other.client_id = "offline-" + pair_.bob;
  {
    TestClient a(pair_.alice, kPassword, own), b(pair_.bob, kPassword, other);
    a.connect();
    b.connect();
    ASSERT_EQ(a.subscribe(typing), 1);
    ASSERT_EQ(b.subscribe(messages_topic(pair_.room)), 1);
    a.disconnect();
    b.disconnect();
  }
  Watch broker(broker_pid());
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  // (1) Payloads just under max_packet_size on typing, twice ten (the review sent 10 × 30 MB).
  // Accepted (0x00) or refused by a per-topic limit (0x87): either way the broker must not grow
  // with their number.
  const std::string big(size_t(max_packet) - 1024, 't');
  std::string codes;
  long rss_typing[2] = {0, 0};
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 10; ++i) {
      if (!alice.connected()) alice.connect();
      const int rc = alice.publish(typing, big);
      if (round == 0) codes += (codes.empty() ? "" : ",") + std::to_string(rc);
      EXPECT_TRUE(rc == 0 || rc == 0x87) << "publish " << i << ": " << rc;
    }
    rss_typing[round] = rss_kib(broker_pid());
  }
  // (2) Valid chat messages of 4000 four-byte characters: 2.5 × max_queued_bytes of them, then
  // half as many again.
  std::string content;
  for (int i = 0; i < 4000; ++i) content += "\xF0\x9F\x98\x80";
  const std::string message = nlohmann::json{{"content", content}}.dump();
  const int first = int(max_queued * 5 / 2 / long(message.size())) + 1, second = first / 2;
  long rss_messages[2] = {0, 0};
  int count = 0;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < (round ? second : first); ++i, ++count)
      ASSERT_EQ(alice.publish(messages_topic(pair_.room), message), 0) << count;
    const std::string all = std::to_string(count);
    ASSERT_EQ(wait_for_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" +
                                 pair_.room + "')",
                             all, std::chrono::seconds(60)),
              all)
        << "every acknowledged message is in Postgres";
    rss_messages[round] = rss_kib(broker_pid());
  }
  broker.stop();
  // More of the same costs nothing more: the queues are full and drop, history has the rest.
  // (glibc may keep up to two more packet-sized buffers of the first round: seen +8 and, on a loaded
  // box, +16 MiB; growth with the number of payloads would be ten packets, 80 MiB, here.)
  const long one_packet_kib = max_packet / 1024;
  EXPECT_LT(rss_typing[1] - rss_typing[0], 2 * one_packet_kib + 4 * 1024) << "typing: " << rss_typing[0] << " -> " << rss_typing[1];
  EXPECT_LT(rss_messages[1] - rss_messages[0], one_packet_kib + 4 * 1024)
      << "messages: " << rss_messages[0] << " -> " << rss_messages[1];
  // And in all: two full queues (a queue takes one more message once under its limit), a few copies
  // of the packet in hand (read buffer, stored message, the plugin's), the shipper's batch.
  const long bound_kib = (2 * (max_queued + max_packet) + 8 * max_packet) / 1024 + 32 * 1024;
  EXPECT_LT(broker.rss_growth_kib(), bound_kib) << "broker RSS " << broker.rss0() << " -> " << broker.peak_rss();
  // Back online, each session gets what its queue held.
  TestClient b(pair_.bob, kPassword, other), a(pair_.alice, kPassword, own);
  b.connect();
  a.connect();
  const auto wait = std::chrono::seconds(long_run() ? 10 : 4);
  const auto got_messages = b.collect(messages_topic(pair_.room), wait);
  const auto got_typing = a.collect(typing, std::chrono::seconds(2));
  EXPECT_GT(got_messages.size(), 0u);
  EXPECT_LE(long(got_messages.size()), max_queued / long(message.size()) + 1);
  EXPECT_LE(long(got_typing.size()), max_queued / long(big.size()) + 1);
  record("20 × " + mib(long(big.size()) / 1024) + " on typing for the publisher's own offline session, " +
             std::to_string(count) + " × " + std::to_string(message.size() / 1024) +
             " KiB messages for the other's offline session",
         "typing " + codes + " (first ten); messages 0x00, all stored; each session's queue stops at max_queued_bytes (" +
             mib(max_queued / 1024) + ") + one message",
         "broker RSS " + mib(broker.rss0()) + " → peak " + mib(broker.peak_rss()) + " (bound " + mib(bound_kib) +
             "); second ten typing +" + mib(rss_typing[1] - rss_typing[0]) + ", last " + std::to_string(second) +
             " messages +" + mib(rss_messages[1] - rss_messages[0]) + "; back online: " +
             std::to_string(got_typing.size()) + " typing and " + std::to_string(got_messages.size()) +
             " messages from the queues, all " + std::to_string(count) + " messages in history");
}

// ---------------------------------------------------------------- what is reachable

TEST_F(NetworkAttacks, OnlyThePagesOwnFilesAreServed) {
  const std::vector<std::string> page = {"/", "/index.html", "/app.js", "/protocol.js", "/style.css",
                                         "/node_modules/mqtt/dist/mqtt.min.js"};
  const std::vector<std::string> not_page = {
      "/install.sh", "/package.json", "/package-lock.json", "/node_modules/", "/node_modules/mqtt/package.json",
      "/node_modules/.package-lock.json", "/node_modules/playwright-core/package.json", "/../mqchat",
      "/%2e%2e/%2e%2e/etc/passwd", "/index.html/../install.sh", "/./install.sh", "//install.sh", "/INSTALL.SH",
      "/install.sh%00.js", "/.git/config", "/tests/client/web_e2e.mjs"};
  int served = 0, refused = 0;
  for (const auto& p : page) {
    std::string body;
    EXPECT_EQ(http_get_status(public_ws_port(), p, &body), 200) << p;
    EXPECT_FALSE(body.empty()) << p;
    ++served;
  }
  for (int port : {public_ws_port(), broker_ws_port()}) {
    for (const auto& p : not_page) {
      std::string body;
      const int status = http_get_status(port, p, &body);
      EXPECT_TRUE(status >= 400 || status == 0) << p << " on port " << port << ": " << status;
      EXPECT_EQ(body.find("npm ci"), std::string::npos) << p;
      EXPECT_EQ(body.find("\"lockfileVersion\""), std::string::npos) << p;
      if (status >= 400 || status == 0) ++refused;
    }
  }
  record("web root: install.sh, package*.json, node_modules/, traversal and encoding tricks (" +
             std::to_string(not_page.size()) + " paths, through HAProxy and on the broker's own port)",
         "404 (or 405), nothing of the tree served",
         std::to_string(refused) + " of " + std::to_string(2 * not_page.size()) + " refused; the page's " +
             std::to_string(served) + " files served");
}

TEST_F(NetworkAttacks, ListenersAreOnLoopbackAndUnreachableFromAnotherInterface) {
  // Every TCP listener of the broker, HAProxy and Postgres is on a loopback address.
  std::string ss;
  ASSERT_EQ(run_command("ss -ltnpH", &ss), 0);
  const std::vector<std::pair<std::string, pid_t>> procs = {{"mosquitto", broker_pid()}, {"haproxy", proxy_pid()}};
  int listeners = 0;
  std::istringstream lines(ss);
  for (std::string line; std::getline(lines, line);) {
    for (const auto& [name, pid] : procs) {
      if (line.find("pid=" + std::to_string(pid) + ",") == std::string::npos) continue;
      std::istringstream cols(line);
      std::string state, recvq, sendq, local;
      cols >> state >> recvq >> sendq >> local;
      const std::string addr = local.substr(0, local.rfind(':'));
      ++listeners;
      EXPECT_TRUE(addr == "127.0.0.1" || addr == "[::1]" || addr == "[::ffff:127.0.0.1]")
          << name << " listens on " << local;
    }
    EXPECT_EQ(line.find("postgres"), std::string::npos) << "Postgres listens on TCP: " << line;
  }
  EXPECT_GE(listeners, 4) << ss;  // HAProxy's MQTT and WS (+ TLS), the broker's MQTT and WS

  // From another network namespace, over a veth pair: the host's address is reachable (a listener
  // of this test answers), mqchat's ports are not, and a login fails.
  if (geteuid() != 0) {
    record("listeners from another interface", "only loopback listeners (ss)", "namespace check needs root");
    return;
  }
  const std::string ns = "mqt" + std::to_string(getpid());
  const std::string host_ip = "10.213." + std::to_string(getpid() % 250) + ".1";
  const std::string peer_ip = "10.213." + std::to_string(getpid() % 250) + ".2";
  const std::string vh = "vh" + std::to_string(getpid()), vn = "vn" + std::to_string(getpid());
  ASSERT_EQ(run_command("ip netns add " + ns + " && ip link add " + vh + " type veth peer name " + vn +
                        " && ip link set " + vn + " netns " + ns + " && ip addr add " + host_ip + "/30 dev " + vh +
                        " && ip link set " + vh + " up && ip netns exec " + ns + " ip addr add " + peer_ip +
                        "/30 dev " + vn + " && ip netns exec " + ns + " ip link set " + vn + " up && ip netns exec " +
                        ns + " ip link set lo up"),
            0);
  struct Cleanup {
    std::string ns, vh;
    ~Cleanup() { run_command("ip link del " + vh + " 2>/dev/null; ip netns del " + ns + " 2>/dev/null"); }
  } cleanup{ns, vh};
  const auto reach = [&](int port) {
    return run_command("ip netns exec " + ns + " timeout 3 bash -c 'exec 3<>/dev/tcp/" + host_ip + "/" +
                       std::to_string(port) + "' 2>/dev/null") == 0;
  };
  // The control: a listener of our own on every address.
  const int control = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  ASSERT_EQ(::bind(control, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  ASSERT_EQ(::listen(control, 4), 0);
  socklen_t len = sizeof any;
  ::getsockname(control, reinterpret_cast<sockaddr*>(&any), &len);
  const int control_port = ntohs(any.sin_port);
  EXPECT_TRUE(reach(control_port)) << "the namespace cannot reach the host at all: the check below would prove nothing";
  ::close(control);
  int unreachable = 0;
  const std::vector<std::pair<std::string, int>> ports = {{"MQTT", public_mqtt_port()},
                                                          {"WebSocket", public_ws_port()},
                                                          {"broker MQTT", broker_mqtt_port()},
                                                          {"broker WebSocket", broker_ws_port()}};
  for (const auto& [name, port] : ports) {
    EXPECT_FALSE(reach(port)) << name << " port " << port << " is reachable from " << peer_ip;
    if (!reach(port)) ++unreachable;
  }
  EXPECT_NE(run_command("ip netns exec " + ns + " timeout 5 mosquitto_pub -h " + host_ip + " -p " +
                        std::to_string(public_mqtt_port()) + " -u " + pair_.alice + " -P '" + kPassword +
                        "' -t chat/" + pair_.room + "/messages -m from-elsewhere 2>/dev/null"),
            0);
  // Exposed on purpose (MQCHAT_BIND): the same login from the namespace now works, through HAProxy
  // only — the broker's own ports stay unreachable. Then back to the default.
  const std::string pub = "ip netns exec " + ns + " timeout 5 mosquitto_pub -h " + host_ip + " -p " +
                          std::to_string(public_mqtt_port()) + " -u " + pair_.alice + " -P '" + kPassword +
                          "' -q 1 -t chat/" + pair_.room + "/messages -m exposed 2>&1";
  ASSERT_EQ(run_command("MQCHAT_BIND=" + host_ip + " " + Stack::root() + "/mqchat svc restart proxy >&2"), 0);
  std::string out;
  const int exposed = run_command(pub, &out);
  const bool broker_hidden = !reach(broker_mqtt_port()) && !reach(broker_ws_port());
  EXPECT_EQ(run_command(Stack::root() + "/mqchat svc restart proxy >&2"), 0);
  EXPECT_EQ(exposed, 0) << out;
  EXPECT_TRUE(broker_hidden);
  EXPECT_EQ(wait_for_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" +
                               pair_.room + "') and content = 'exposed'",
                           "1", std::chrono::seconds(10)),
            "1");
  EXPECT_FALSE(reach(public_mqtt_port())) << "back on loopback";
  record("MQTT / WebSocket / the broker's own ports from another interface (network namespace, veth)",
         "connection refused, login fails; with MQCHAT_BIND set to that interface the login works through "
         "HAProxy, the broker's ports stay closed",
         std::to_string(unreachable) + " of " + std::to_string(ports.size()) +
             " ports unreachable (the host itself reachable); exposed: login " + (exposed == 0 ? "worked" : "failed"));
}

}  // namespace mqchat::test
