// The attack table: one row per attempt to reach what is not yours or to slip bad input past the
// plugin, each with the exact outcome. Plus content that looks like SQL (stored verbatim) and a
// flood of wrong-password logins (refused, and the broker stays responsive for everyone else).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {

constexpr int kPublished = 0x00;   // PUBACK: success
constexpr int kSubscribed = 0x01;  // SUBACK: granted QoS 1
constexpr int kNotAuthorized = 0x87;

enum class Op { Subscribe, Publish };

struct AttackCase {
  const char* what;
  Op op;
  std::string topic;    // {a}, {b}, {room}, {m} are replaced by alice, bob, their room, mallory
  std::string payload;  // publishes only
  int expected;         // the reason code the attacker gets back
};

std::string fill(std::string s, const Pair& p, const std::string& mallory) {
  const auto put = [&s](const std::string& key, const std::string& value) {
    for (size_t at; (at = s.find(key)) != std::string::npos;) s.replace(at, key.size(), value);
  };
  put("{room}", p.room);
  put("{a}", p.alice);
  put("{b}", p.bob);
  put("{m}", mallory);
  return s;
}

// One MQTT 3.1.1 CONNECT on a raw socket; the CONNACK return code (5 = not authorized), or -1.
int raw_connect(int port, const std::string& user, const std::string& password, const std::string& client_id) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string body;
    const auto str = [&body](const std::string& s) {
      body.push_back(char(s.size() >> 8));
      body.push_back(char(s.size() & 0xff));
      body += s;
    };
    str("MQTT");
    body += std::string("\x04\xC2\x00\x3C", 4);  // level 4; username, password, clean session; keepalive 60
    str(client_id);
    str(user);
    str(password);
    std::string packet(1, '\x10');
    for (size_t n = body.size();;) {  // remaining length, variable-byte encoded
      const char digit = char(n % 128);
      n /= 128;
      packet.push_back(n ? char(digit | 0x80) : digit);
      if (!n) break;
    }
    packet += body;
    unsigned char connack[4];
    if (::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL) == ssize_t(packet.size()) &&
        ::recv(fd, connack, 4, MSG_WAITALL) == 4 && connack[0] == 0x20)
      rc = connack[3];
  }
  ::close(fd);
  return rc;
}

}  // namespace

class Attacks : public PairAndMalloryTest {};

TEST_F(Attacks, EveryRowOfTheTableGetsItsExactOutcome) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const std::vector<AttackCase> table = {
      // Wildcards and system topics.
      {"everything", Op::Subscribe, "#", "", kNotAuthorized},
      {"all rooms", Op::Subscribe, "chat/#", "", kNotAuthorized},
      {"all rooms' messages", Op::Subscribe, "chat/+/messages", "", kNotAuthorized},
      {"single-level wildcard at the top", Op::Subscribe, "+/{room}/messages", "", kNotAuthorized},
      {"$SYS", Op::Subscribe, "$SYS/#", "", kNotAuthorized},
      {"shared subscription on the bridge's requests", Op::Subscribe, "$share/x/chat/+/history", "", kNotAuthorized},
      {"every user's topics", Op::Subscribe, "users/#", "", kNotAuthorized},
      {"every user's errors", Op::Subscribe, "users/+/errors", "", kNotAuthorized},
      // Someone else's room and user topics.
      {"their messages", Op::Subscribe, "chat/{room}/messages", "", kNotAuthorized},
      {"their room, any channel", Op::Subscribe, "chat/{room}/#", "", kNotAuthorized},
      {"post into their room", Op::Publish, "chat/{room}/messages", "hi", kNotAuthorized},
      {"their typing", Op::Publish, "chat/{room}/typing", "1", kNotAuthorized},
      {"their history, as if mine", Op::Publish, "chat/{room}/history", R"({"requester":"{a}"})", kNotAuthorized},
      {"fake events", Op::Publish, "chat/{room}/events", R"({"event":"read"})", kNotAuthorized},
      {"their summaries", Op::Subscribe, "users/{a}/conversations", "", kNotAuthorized},
      {"their errors", Op::Subscribe, "users/{a}/errors", "", kNotAuthorized},
      {"write their summaries", Op::Publish, "users/{a}/conversations", "[]", kNotAuthorized},
      {"fake presence", Op::Publish, "users/{a}/presence", R"({"status":"offline"})", kNotAuthorized},
      // Room names built to confuse the parser.
      {"a room with me and an underscore name", Op::Publish, "chat/{a}_{m}_x/messages", "hi", kNotAuthorized},
      {"uppercase spelling of my room", Op::Publish, "chat/{a}_{M}/messages", "hi", kNotAuthorized},
      {"reversed order", Op::Publish, "chat/{m}_{a}/messages", "hi", kNotAuthorized},
      {"myself", Op::Publish, "chat/{m}_{m}/messages", "hi", kNotAuthorized},
      {"an extra level", Op::Publish, "chat/{a}_{m}/messages/x", "hi", kNotAuthorized},
      {"an empty level", Op::Publish, "chat//messages", "hi", kNotAuthorized},
      {"a very long topic", Op::Publish, "chat/" + std::string(60000, 'a') + "_{m}/messages", "hi", kNotAuthorized},
      {"a very long subscription", Op::Subscribe, "chat/" + std::string(60000, 'a') + "/#", "", kNotAuthorized},
      // Bad input in my own room: refused, not stored, not delivered.
      {"invalid UTF-8", Op::Publish, "chat/{a}_{m}/messages", "\xc3\x28", kNotAuthorized},
      {"deeply nested JSON", Op::Publish, "chat/{a}_{m}/messages", R"({"content":"x","metadata":{"a":)" + deep + "}}", kNotAuthorized},
      {"a payload over the byte limit", Op::Publish, "chat/{a}_{m}/messages", std::string(70000, 'x'), kNotAuthorized},
      {"content over 4000 characters", Op::Publish, "chat/{a}_{m}/messages", std::string(4001, 'x'), kNotAuthorized},
      {"NUL in the content", Op::Publish, "chat/{a}_{m}/messages", std::string("a\0b", 3), kNotAuthorized},
      // And the same mallory, doing it right, is let through: the table is not just "deny all".
      {"my own room, sorted right", Op::Publish, "chat/{a}_{m}/messages", "hello alice", kPublished},
      {"my own user topics", Op::Subscribe, "users/{m}/#", "", kSubscribed},
      {"someone's presence", Op::Subscribe, "users/{a}/presence", "", kSubscribed},
  };
  // Alice's name sorts before mallory's ("alice-…" < "mallory-…"), so chat/{a}_{m} is their room.
  ASSERT_LT(pair_.alice, mallory_);
  TestClient mallory(mallory_, kPassword);
  for (const auto& row : table) {
    std::string topic = fill(row.topic, pair_, mallory_);
    std::string upper = mallory_;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    for (size_t at; (at = topic.find("{M}")) != std::string::npos;) topic.replace(at, 3, upper);
    if (!mallory.connected()) mallory.connect();
    const int rc = row.op == Op::Subscribe ? mallory.subscribe(topic) : mallory.publish(topic, fill(row.payload, pair_, mallory_));
    EXPECT_EQ(rc, row.expected) << row.what << " (" << topic.substr(0, 80) << ")";
  }
  // Of all that, only the one good message is in the database.
  EXPECT_EQ(wait_for_value("select count(*) from messages m join profiles p on p.id = m.sender_id where p.username = '" +
                               mallory_ + "'",
                           "1", std::chrono::seconds(5)),
            "1");
}

TEST_F(Attacks, ContentThatLooksLikeSqlIsStoredVerbatim) {
  const std::vector<std::string> contents = {
      "'); drop table messages; --", "Robert'); DROP TABLE students;--", "\\x00 \\' \" $$ $1 ; select pg_sleep(10)",
      "<script>alert(1)</script>", "{\"content\":\"nested\"}"};
  TestClient alice(pair_.alice, kPassword);
  alice.connect();
  for (const auto& c : contents) {
    nlohmann::json payload = {{"content", c}};
    ASSERT_EQ(alice.publish(messages_topic(pair_.room), payload.dump()), 0) << c;
  }
  const std::string count = std::to_string(contents.size());
  ASSERT_EQ(wait_for_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" + pair_.room + "')",
                           count, std::chrono::seconds(5)),
            count);
  // Dollar quoting with a tag none of the contents holds: what comes back is what went in.
  std::string expected;
  for (const auto& c : contents) expected += (expected.empty() ? "" : "\n") + c;
  EXPECT_EQ(query_value("select string_agg(content, E'\\n' order by id) = $mq$" + expected +
                        "$mq$ from messages where conversation_id = mqchat_conversation_id('" + pair_.room + "')"),
            "t");
  EXPECT_EQ(query_value("select to_regclass('messages') is not null"), "t");
}

TEST_F(Attacks, TenThousandWrongPasswordLoginsAreRefusedAndOthersKeepChatting) {
  constexpr int kAttempts = 10000, kThreads = 4;
  std::atomic<int> refused{0}, other{0};
  std::vector<std::thread> attackers;
  for (int t = 0; t < kThreads; ++t)
    attackers.emplace_back([&, t] {
      for (int i = t; i < kAttempts; i += kThreads) {
        // Half against a real account (password checks), half against names that do not exist.
        const std::string user = i % 2 ? pair_.alice : "nobody-" + std::to_string(i);
        const int rc = raw_connect(Stack::mqtt_port(), user, "wrong-" + std::to_string(i), "atk-" + std::to_string(i));
        (rc == 5 || rc == 4 ? refused : other)++;
      }
    });
  // Meanwhile Bob, already connected, keeps talking to Mallory... in a room of their own.
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  const std::string room = (mallory_ < pair_.bob ? mallory_ + "_" + pair_.bob : pair_.bob + "_" + mallory_);
  std::vector<double> ms;
  while (refused + other < kAttempts) {
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(bob.publish("chat/" + room + "/messages", "still here"), 0);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& a : attackers) a.join();
  EXPECT_EQ(refused.load(), kAttempts);
  EXPECT_EQ(other.load(), 0);
  std::sort(ms.begin(), ms.end());
  ASSERT_FALSE(ms.empty());
  const double p99 = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  std::cerr << "[attack] " << kAttempts << " wrong-password logins refused; bob's publishes meanwhile: " << ms.size()
            << ", median " << ms[ms.size() / 2] << " ms, p99 " << p99 << " ms, max " << ms.back() << " ms\n";
  EXPECT_LT(p99, 250.0) << "the broker stopped being responsive during the login flood";
  // And Alice, whose account was the target, still logs in (her password check is slowed, her
  // earlier good login is remembered).
  EXPECT_TRUE(TestClient(pair_.alice, kPassword).try_connect());
}

}  // namespace mqchat::test
