// Webhook notifications for offline users (issue 17), end to end: a real bridge process (started
// here, with its own notify settings, in place of the stack's bridge), the real broker + plugin and
// Postgres, and a real HTTP receiver on 127.0.0.1 in this process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/room.h"
#include "tests/bridge/person.h"
#include "tests/support/http_get.h"

namespace mqchat::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A port nothing listens on (for a while): bound once by us, then released.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A webhook receiver: HTTP/1.1 POSTs on 127.0.0.1, one per connection, answered with the next
// scripted status (then 200), or never answered when hanging.
class Receiver {
 public:
  struct Request {
    std::map<std::string, std::string> headers;  // lowercase names
    std::string body;
    int answered = 0;  // the status sent back (0: none)
  };
  explicit Receiver(int port = 0, std::deque<int> script = {}, bool hang = false)
      : script_(std::move(script)), hang_(hang) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("receiver: cannot listen on port " + std::to_string(port));
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  std::vector<Request> requests_for(const std::string& user) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Request> out;
    for (const auto& r : requests_) {
      try {
        if (json::parse(r.body).value("user", "") == user) out.push_back(r);
      } catch (const std::exception&) {
      }
    }
    return out;
  }
  // Waits until `user` has at least `n` requests; returns them all.
  std::vector<Request> wait_for(const std::string& user, size_t n, std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    auto got = requests_for(user);
    while (got.size() < n && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
      got = requests_for(user);
    }
    return got;
  }
  int connections() const { return connections_; }
  std::string describe() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out = std::to_string(connections_) + " connection(s), " + std::to_string(requests_.size()) + " request(s):";
    for (const auto& r : requests_) out += "\n  " + std::to_string(r.answered) + " " + r.body.substr(0, 300);
    return out;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      handle(c);
      ::close(c);
    }
  }
  // Reads one request (headers, Content-Length body) with a deadline; false when it did not come.
  bool read_request(int c, Request& r) {
    std::string data;
    const auto deadline = Clock::now() + 5s;
    size_t header_end = std::string::npos, length = 0;
    while (Clock::now() < deadline && !stop_) {
      if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return false;
      data.append(buf, size_t(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::istringstream lines(data.substr(0, header_end));
        std::string line;
        std::getline(lines, line);  // request line
        while (std::getline(lines, line)) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          const auto colon = line.find(':');
          if (colon == std::string::npos) continue;
          std::string name = line.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
          r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
        }
        length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
      }
    }
    if (header_end == std::string::npos || data.size() < header_end + 4 + length) return false;
    r.body = data.substr(header_end + 4, length);
    return true;
  }
  void handle(int c) {
    Request r;
    if (!read_request(c, r)) return;
    int status = 200;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!hang_ && !script_.empty()) {
        status = script_.front();
        script_.pop_front();
      }
      r.answered = hang_ ? 0 : status;
      requests_.push_back(r);
    }
    if (hang_) {  // never answer: hold the connection until the client gives up or we stop
      while (!stop_) {
        pollfd p{c, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
          char buf[256];
          if (::read(c, buf, sizeof buf) <= 0) return;
        }
      }
      return;
    }
    const std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!::write(c, reply.data(), reply.size());
  }

  int fd_ = -1, port_ = 0;
  std::deque<int> script_;
  bool hang_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       mac, &len);
  char hex[3];
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

std::string env_or_die(const char* name) {
  const char* v = std::getenv(name);
  if (!v) throw std::runtime_error(std::string(name) + " is not set");
  return v;
}

// The bridge under test: its own process with a notify config file, in place of the stack's.
class BridgeProcess {
 public:
  BridgeProcess(const std::string& notify_yaml, int metrics_port) : metrics_port_(metrics_port) {
    const std::string dir = Stack::run_dir();
    const std::string config = dir + "/notify-test.yaml";
    std::ofstream(config) << notify_yaml;
    log_ = dir + "/notify-test-bridge.log";
    std::ofstream(log_, std::ios::trunc).flush();
    std::vector<std::string> args = {MQCHAT_BRIDGE_BIN,
                                     "--mqtt-host", "127.0.0.1",
                                     "--mqtt-port", env_or_die("MQCHAT_BROKER_MQTT_PORT"),
                                     "--password-file", env_or_die("MQCHAT_BRIDGE_PASSWORD_FILE"),
                                     "--dsn", Stack::dsn(),
                                     "--metrics-port", std::to_string(metrics_port),
                                     "--notify-config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // It goes when this test process goes, however it ends: a bridge left behind with the stack
      // bridge's client id would fight the restarted one over the session.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
  }
  ~BridgeProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string log_text() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Until it subscribed to the messages it notifies about.
  bool wait_ready(std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (log_text().find("-notify/chat/+/messages") != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  // A series of the metrics endpoint (e.g. `mqchat_bridge_notifications_total{result="dropped"}`); -1 if absent.
  double metric(const std::string& series) const {
    std::istringstream lines(http_get(metrics_port_, "/metrics"));
    for (std::string line; std::getline(lines, line);)
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
  }
  double notifications(const std::string& result) const {
    return metric("mqchat_bridge_notifications_total{result=\"" + result + "\"}");
  }

 private:
  pid_t pid_ = -1;
  int metrics_port_;
  std::string log_;
};

class Notify : public PairAndMalloryTest {
 protected:
  // The stack's bridge makes way for the one each test starts (same client id: it takes over the
  // session, and the stack's bridge, restarted, drops the notify subscriptions again).
  static void SetUpTestSuite() {
    if (Stack::available()) Stack::svc("stop", "bridge");
  }
  static void TearDownTestSuite() {
    if (Stack::available()) Stack::svc("start", "bridge");
  }
  void TearDown() override {
    if (bridge_ && HasFailure()) std::cerr << "--- the bridge's log:\n" << bridge_->log_text();
    bridge_.reset();
  }

  void start_bridge(const std::string& url, const std::string& settings) {
    std::ofstream(Stack::run_dir() + "/notify-test.secret") << secret_ << "\n";
    const std::string yaml = "notify:\n  url: \"" + url + "\"\n  secret_file: notify-test.secret\n" + settings;
    bridge_ = std::make_unique<BridgeProcess>(yaml, free_port());
    ASSERT_TRUE(bridge_->wait_ready(10s)) << bridge_->log_text();
  }

  // Every notification of `requests`, in order.
  static std::vector<json> notifications(const std::vector<Receiver::Request>& requests) {
    std::vector<json> out;
    for (const auto& r : requests) {
      const json body = json::parse(r.body);
      for (const auto& n : body["notifications"]) out.push_back(n);
    }
    return out;
  }

  const std::string secret_ = "webhook-secret-" + random_hex();
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(Notify, AnOfflineMemberGetsOneSignedBatchOfWhatTheyMissed) {
  Receiver rx;
  start_bridge(rx.url(), "  batch_window_ms: 1500\n  preview_chars: 20\n");
  Person alice(pair_.alice, pair_.room);  // bob is not connected
  std::vector<std::string> ids;
  for (const std::string& text : std::vector<std::string>{"are you there?", "call me", std::string(50, 'x')})
    ids.push_back(alice.send(text)["id"].get<std::string>());

  auto got = rx.wait_for(pair_.bob, 1, 10s);
  ASSERT_EQ(got.size(), 1u) << "no POST for the offline member";
  std::this_thread::sleep_for(1500ms);
  got = rx.requests_for(pair_.bob);
  ASSERT_EQ(got.size(), 1u) << "one batch for the three messages";
  const auto& r = got[0];

  // Signed: HMAC-SHA256 of "<timestamp>.<body>" with the shared secret, a fresh timestamp.
  ASSERT_TRUE(r.headers.count("x-mqchat-timestamp") && r.headers.count("x-mqchat-signature"));
  const std::string ts = r.headers.at("x-mqchat-timestamp");
  EXPECT_EQ(r.headers.at("x-mqchat-signature"), "sha256=" + hmac_hex(secret_, ts + "." + r.body));
  EXPECT_NE(r.headers.at("x-mqchat-signature"), "sha256=" + hmac_hex("not-the-secret", ts + "." + r.body));
  EXPECT_LE(std::abs(std::stol(ts) - long(std::time(nullptr))), 60L);
  EXPECT_EQ(r.headers.at("content-type"), "application/json");

  const json body = json::parse(r.body);
  EXPECT_EQ(body["user"], pair_.bob);
  EXPECT_FALSE(body["id"].get<std::string>().empty());
  ASSERT_EQ(body["notifications"].size(), 3u) << body;
  for (size_t i = 0; i < 3; ++i) {
    const json& n = body["notifications"][i];
    EXPECT_EQ(n["message_id"], ids[i]);
    EXPECT_EQ(n["sender"], pair_.alice);
    EXPECT_EQ(n["room"], pair_.room);
    EXPECT_EQ(n["conversation_id"], query_value("select mqchat_conversation_id('" + pair_.room + "')"));
    EXPECT_FALSE(n["created_at"].get<std::string>().empty());
  }
  EXPECT_EQ(body["notifications"][0]["preview"], "are you there?");
  EXPECT_EQ(body["notifications"][2]["preview"], std::string(20, 'x') + "\xE2\x80\xA6") << "a preview, not the message";
  EXPECT_TRUE(rx.requests_for(pair_.alice).empty()) << "the sender is online, and the sender";
  EXPECT_EQ(bridge_->notifications("delivered"), 3);
}

// A group's offline members are notified like a pair's: every member but the sender.
TEST_F(Notify, AGroupsOfflineMembersAreNotified) {
  Receiver rx;
  start_bridge(rx.url(), "  batch_window_ms: 500\n");
  AppSession app(pair_.alice, kPassword);
  const json g = app.json_value("select create_group('Notify group', array[$1, $2])", pair_.bob, mallory_);
  const std::string room = g["room"];
  std::this_thread::sleep_for(1500ms);  // the plugin's group directory learns the group (LISTEN)
  Person alice(pair_.alice, room);  // bob and mallory are not connected
  const std::string id = alice.send("group news")["id"];
  for (const std::string& member : {pair_.bob, mallory_}) {
    const auto got = rx.wait_for(member, 1, 10s);
    ASSERT_EQ(got.size(), 1u) << "no POST for the offline member " << member;
    const auto n = notifications(got);
    ASSERT_EQ(n.size(), 1u);
    EXPECT_EQ(n[0]["message_id"], id);
    EXPECT_EQ(n[0]["room"], room);
  }
  EXPECT_TRUE(rx.requests_for(pair_.alice).empty()) << "not the sender";
}

TEST_F(Notify, AnOnlineMemberGetsNothingUntilTheyGoOffline) {
  Receiver rx;
  start_bridge(rx.url(), "  batch_window_ms: 300\n");
  Person alice(pair_.alice, pair_.room);
  {
    Person bob(pair_.bob, pair_.room);
    std::this_thread::sleep_for(300ms);
    alice.send("you are here");
    ASSERT_TRUE(bob.client.wait_message(topic(pair_.room, "messages"), 5s)) << "bob got it live";
    std::this_thread::sleep_for(2s);
    EXPECT_TRUE(rx.requests_for(pair_.bob).empty()) << "bob was online";
    bob.client.disconnect();
  }
  std::this_thread::sleep_for(500ms);
  const std::string later = alice.send("you left")["id"];
  const auto got = rx.wait_for(pair_.bob, 1, 10s);
  ASSERT_EQ(got.size(), 1u) << "offline now: notified; " << rx.describe() << "\nqueued "
                            << bridge_->notifications("queued") << " delivered " << bridge_->notifications("delivered");
  const auto n = notifications(got);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0]["message_id"], later);
}

TEST_F(Notify, AMutedConversationSendsNothing) {
  Receiver rx;
  start_bridge(rx.url(), "  batch_window_ms: 500\n");
  {
    Person bob(pair_.bob, pair_.room);
    Person alice(pair_.alice, pair_.room);
    alice.send("before muting");  // the conversation exists
    const json settings = bob.request("mute", json{{"muted", true}}, "settings");
    ASSERT_EQ(settings["muted"], true) << settings;
    bob.client.disconnect();
    std::this_thread::sleep_for(500ms);
    alice.send("muted: no notification");
  }
  // bob's other conversation is not muted: it notifies (so the silence above is the mute).
  const auto other_room = *make_room(pair_.bob, mallory_);
  Person mallory(mallory_, other_room);
  const std::string id = mallory.send("not muted")["id"];
  auto got = rx.wait_for(pair_.bob, 1, 10s);
  ASSERT_FALSE(got.empty());
  std::this_thread::sleep_for(1500ms);
  const auto n = notifications(rx.requests_for(pair_.bob));
  ASSERT_EQ(n.size(), 1u) << "only mallory's message";
  EXPECT_EQ(n[0]["message_id"], id);
  EXPECT_EQ(n[0]["room"], other_room);
}

TEST_F(Notify, ServerErrorsAndTooManyRequestsAreRetriedUntilDeliveredOnce) {
  Receiver rx(0, {500, 429, 200});
  start_bridge(rx.url(), "  batch_window_ms: 200\n  backoff_initial_ms: 200\n  backoff_max_ms: 400\n");
  Person alice(pair_.alice, pair_.room);
  const std::string id = alice.send("retry me")["id"];
  const auto got = rx.wait_for(pair_.bob, 3, 10s);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].answered, 500);
  EXPECT_EQ(got[1].answered, 429);
  EXPECT_EQ(got[2].answered, 200);
  for (const auto& r : got) {
    EXPECT_EQ(r.body, got[0].body) << "the same batch (receivers de-duplicate by its id)";
    EXPECT_EQ(r.headers.at("x-mqchat-signature"), "sha256=" + hmac_hex(secret_, r.headers.at("x-mqchat-timestamp") + "." + r.body));
  }
  EXPECT_EQ(json::parse(got[0].body)["notifications"][0]["message_id"], id);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(rx.requests_for(pair_.bob).size(), 3u) << "delivered once: not sent again";
  EXPECT_EQ(bridge_->metric("mqchat_bridge_notify_retries_total"), 2);
  EXPECT_EQ(bridge_->notifications("delivered"), 1);
}

TEST_F(Notify, ARejectedBatchIsNotRetried) {
  Receiver rx(0, {400});
  start_bridge(rx.url(), "  batch_window_ms: 200\n  backoff_initial_ms: 100\n");
  Person alice(pair_.alice, pair_.room);
  alice.send("you will refuse this");
  ASSERT_EQ(rx.wait_for(pair_.bob, 1, 10s).size(), 1u);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(rx.requests_for(pair_.bob).size(), 1u) << "a 400 is final";
  EXPECT_EQ(bridge_->notifications("rejected"), 1);
  EXPECT_EQ(bridge_->metric("mqchat_bridge_notify_retries_total"), 0);
}

TEST_F(Notify, AHangingReceiverBlocksNeitherRequestsNorStorage) {
  Receiver rx(0, {}, /*hang=*/true);
  start_bridge(rx.url(), "  batch_window_ms: 100\n  timeout_ms: 2000\n  max_attempts: 2\n  backoff_initial_ms: 100\n");
  Person alice(pair_.alice, pair_.room);
  alice.send("first: its POST hangs");
  ASSERT_EQ(rx.wait_for(pair_.bob, 1, 10s).size(), 1u) << "the POST is under way";
  // While the POST hangs, the bridge serves requests and messages are stored.
  for (int i = 0; i < 10; ++i) alice.send("message " + std::to_string(i));
  const auto t0 = Clock::now();
  const json page = alice.history(json::object());
  EXPECT_LT(Clock::now() - t0, 1500ms) << "history waited for the webhook";
  EXPECT_EQ(page["messages"].size(), 11u) << page;
  EXPECT_EQ(query_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" +
                        pair_.room + "')"),
            "11");
  // Each batch is tried twice, then given up and counted.
  const auto deadline = Clock::now() + 20s;
  while (bridge_->notifications("gave_up") < 11 && Clock::now() < deadline) std::this_thread::sleep_for(200ms);
  EXPECT_EQ(bridge_->notifications("gave_up"), 11);
  EXPECT_EQ(bridge_->notifications("delivered"), 0);
  EXPECT_TRUE(bridge_->running());
}

TEST_F(Notify, TheQueueIsBoundedAndTheOldestAreDropped) {
  const int port = free_port();  // nothing listens yet: every POST is refused and retried
  start_bridge("http://127.0.0.1:" + std::to_string(port) + "/hook",
               "  batch_window_ms: 300\n  max_queue: 20\n  max_attempts: 100\n  backoff_initial_ms: 200\n"
               "  backoff_max_ms: 400\n  timeout_ms: 1000\n");
  Person alice(pair_.alice, pair_.room);
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(alice.send("queued " + std::to_string(i))["id"]);
  auto deadline = Clock::now() + 10s;
  while (bridge_->notifications("dropped") < 30 && Clock::now() < deadline) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(bridge_->notifications("dropped"), 30);
  EXPECT_LE(bridge_->metric("mqchat_bridge_notify_waiting"), 20);
  EXPECT_GT(bridge_->metric("mqchat_bridge_notify_retries_total"), 0) << "it was trying meanwhile";

  Receiver rx(port);  // the receiver comes up: what is left is delivered
  deadline = Clock::now() + 15s;
  while (notifications(rx.requests_for(pair_.bob)).size() < 20 && Clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(1s);
  std::set<std::string> delivered;
  for (const auto& n : notifications(rx.requests_for(pair_.bob))) delivered.insert(n["message_id"].get<std::string>());
  const std::set<std::string> newest(ids.end() - 20, ids.end());
  EXPECT_EQ(delivered, newest) << "the 20 newest, each once";
  EXPECT_EQ(notifications(rx.requests_for(pair_.bob)).size(), 20u);
  EXPECT_EQ(bridge_->notifications("dropped"), 30);
  EXPECT_EQ(bridge_->notifications("delivered"), 20);
}

}  // namespace
}  // namespace mqchat::test
