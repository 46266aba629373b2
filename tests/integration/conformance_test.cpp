// General MQTT behaviour, checked against bare Mosquitto and against brokers where mqchat
// coexists with a password_file (with and without an acl_file): a device user's traffic outside
// chat/ and users/ must behave exactly the same. Each check returns an observation; the suites
// must pass the same checks and observe the same things. Paho C/C++ clients, MQTT 3.1.1 and 5.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tests/support/broker.h"
#include "tests/support/stack.h"

namespace mqchat::test {

namespace {

using namespace std::chrono_literals;
using Msg = mqtt::const_message_ptr;

std::string hex8() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(buf, 8);
}

struct Endpoint {
  std::string uri, user, password;
};

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
void require(bool ok, const std::string& what) {
  if (!ok) throw Failure(what);
}

// One Paho client with a consumer queue (no persistence files: sessions live in the broker).
class Conn {
 public:
  Conn(const Endpoint& ep, int version = MQTTVERSION_5, std::string id = "")
      : ep_(ep), version_(version), cli_(ep.uri, id.empty() ? "conf-" + hex8() : id, mqtt::create_options(version)) {
    cli_.start_consuming();
  }
  ~Conn() {
    try {
      cli_.stop_consuming();
      if (cli_.is_connected()) cli_.disconnect()->wait_for(1s);
    } catch (...) {
    }
  }
  // Returns session_present.
  bool connect(bool clean = true, uint32_t expiry = 0, std::optional<mqtt::message> will = std::nullopt,
               std::string password = "") {
    mqtt::connect_options_builder b;
    b.mqtt_version(version_).user_name(ep_.user).password(password.empty() ? ep_.password : password)
        .connect_timeout(5s).automatic_reconnect(false);
    if (version_ == MQTTVERSION_5) {
      b.clean_start(clean);
      if (expiry) b.properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, expiry)});
    } else {
      b.clean_session(clean);
    }
    if (will) b.will(*will);
    auto tok = cli_.connect(b.finalize());
    tok->wait();
    return tok->get_connect_response().is_session_present();
  }
  void sub(const std::string& filter, int qos = 1, mqtt::subscribe_options so = {}, const mqtt::properties& props = {}) {
    auto tok = cli_.subscribe(filter, qos, so, props);
    require(tok->wait_for(5s), "no SUBACK for " + filter);
    if (version_ == MQTTVERSION_5) {
      const auto codes = tok->get_subscribe_response().get_reason_codes();
      require(!codes.empty() && codes[0] < 0x80, "subscription refused: " + filter);
    }
  }
  void unsub(const std::string& filter) { require(cli_.unsubscribe(filter)->wait_for(5s), "no UNSUBACK"); }
  void pub(mqtt::message_ptr m) { require(cli_.publish(m)->wait_for(5s), "publish not acknowledged: " + m->get_topic()); }
  void pub(const std::string& topic, const std::string& payload, int qos = 1, bool retain = false) {
    pub(mqtt::make_message(topic, payload, qos, retain));
  }
  Msg next(std::chrono::milliseconds timeout = 8s) {
    Msg m;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cli_.try_consume_message_for(&m, 100ms) && m) return m;
    }
    return nullptr;
  }
  std::vector<Msg> drain(std::chrono::milliseconds window) {
    std::vector<Msg> all;
    const auto deadline = std::chrono::steady_clock::now() + window;
    while (std::chrono::steady_clock::now() < deadline) {
      Msg m;
      if (cli_.try_consume_message_for(&m, 50ms) && m) all.push_back(m);
    }
    return all;
  }
  void disconnect() { cli_.disconnect()->wait_for(5s); }
  // MQTT 5 DISCONNECT with reason 0x04: the broker publishes the will, as on a broken connection.
  mqtt::async_client& client() { return cli_; }

 private:
  Endpoint ep_;
  int version_;
  mqtt::async_client cli_;
};

// An MQTT 3.1.1 CONNECT with a will over a plain socket, then the socket closed without a
// DISCONNECT: a broken connection, for which the broker must publish the will.
void connect_with_will_and_drop(const Endpoint& ep, const std::string& topic, const std::string& payload) {
  const int port = std::stoi(ep.uri.substr(ep.uri.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  require(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0, "cannot connect");
  const auto field = [](const std::string& v) {
    return std::string{static_cast<char>(v.size() >> 8), static_cast<char>(v.size() & 0xff)} + v;
  };
  // username, password, will QoS 1, will flag, clean session; keep-alive 60 s
  std::string body = field("MQTT") + std::string{4, static_cast<char>(0xCE), 0, 60};
  body += field("conf-will-" + hex8()) + field(topic) + field(payload) + field(ep.user) + field(ep.password);
  std::string packet{0x10};
  for (size_t n = body.size();;) {  // remaining length, 7 bits a byte
    const char byte = static_cast<char>(n % 128);
    n /= 128;
    packet += n ? static_cast<char>(byte | 0x80) : byte;
    if (!n) break;
  }
  packet += body;
  require(::write(fd, packet.data(), packet.size()) == static_cast<ssize_t>(packet.size()), "write");
  pollfd p{fd, POLLIN, 0};
  char connack[4] = {};
  require(::poll(&p, 1, 5000) == 1 && ::read(fd, connack, 4) == 4 && connack[3] == 0, "no CONNACK");
  ::close(fd);
}

std::string expect_payload(Msg m, const std::string& payload) {
  require(m != nullptr, "nothing arrived");
  require(m->to_string() == payload, "payload " + m->to_string() + " != " + payload);
  return "qos" + std::to_string(m->get_qos());
}

using CheckFn = std::function<std::string(const Endpoint&, const std::string& base)>;

const std::vector<std::pair<std::string, CheckFn>>& checks() {
  static const std::vector<std::pair<std::string, CheckFn>> list = {
      {"qos0 round trip",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t, 0);
         c.pub(t, "zero", 0);
         return expect_payload(c.next(), "zero");
       }},
      {"qos1 round trip",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t, 1);
         c.pub(t, "one", 1);
         return expect_payload(c.next(), "one");
       }},
      {"qos2 round trip",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep), p(ep);
         c.connect();
         p.connect();
         c.sub(t, 2);
         p.pub(t, "two", 2);
         const auto r = expect_payload(c.next(), "two");
         require(c.drain(300ms).empty(), "a QoS 2 message arrived twice");
         return r;
       }},
      {"qos downgraded to the subscription's",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t, 0);
         c.pub(t, "down", 2);
         return expect_payload(c.next(), "down");
       }},
      {"retained message reaches a later subscriber",
       [](const Endpoint& ep, const std::string& t) {
         Conn p(ep), s(ep);
         p.connect();
         p.pub(t, "kept", 1, true);
         s.connect();
         s.sub(t, 1);
         auto m = s.next();
         require(m && m->is_retained(), "no retained flag");
         const auto r = expect_payload(m, "kept");
         p.pub(t, "", 1, true);  // clean up
         return r;
       }},
      {"retained message replaced and cleared",
       [](const Endpoint& ep, const std::string& t) {
         Conn p(ep);
         p.connect();
         p.pub(t, "old", 1, true);
         p.pub(t, "new", 1, true);
         {
           Conn s(ep);
           s.connect();
           s.sub(t, 1);
           expect_payload(s.next(), "new");
           require(s.drain(300ms).empty(), "more than the last retained message");
         }
         p.pub(t, "", 1, true);
         Conn s(ep);
         s.connect();
         s.sub(t, 1);
         require(s.drain(500ms).empty(), "a cleared retained message arrived");
         return std::string("ok");
       }},
      {"single-level wildcard +",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t + "/+/c", 1);
         for (const auto& leaf : {"/b/c", "/b/d", "/b/c/d", "/x/c", "/c"}) c.pub(t + leaf, leaf, 1);
         std::string got;
         for (const auto& m : c.drain(700ms)) got += m->get_topic().substr(t.size()) + " ";
         require(got == "/b/c /x/c ", "got " + got);
         return got;
       }},
      {"multi-level wildcard # matches the parent too",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t + "/#", 1);
         for (const auto& leaf : {"", "/a", "/a/b/c"}) c.pub(t + leaf, "x", 1);
         c.pub(t + "x", "not me", 1);
         const auto got = c.drain(700ms);
         require(got.size() == 3, "got " + std::to_string(got.size()));
         return std::to_string(got.size());
       }},
      {"will published on an abnormal disconnect",
       [](const Endpoint& ep, const std::string& t) {
         Conn s(ep);
         s.connect();
         s.sub(t, 1);
         connect_with_will_and_drop(ep, t, "gone");
         return expect_payload(s.next(), "gone");
       }},
      {"no will on a normal disconnect",
       [](const Endpoint& ep, const std::string& t) {
         Conn w(ep), s(ep);
         s.connect();
         s.sub(t, 1);
         w.connect(true, 0, mqtt::message(t, "gone", 1, false));
         w.disconnect();
         require(s.drain(700ms).empty(), "a will after a normal disconnect");
         return std::string("none");
       }},
      {"MQTT 5 persistent session queues QoS 1 while offline, in order",
       [](const Endpoint& ep, const std::string& t) {
         const std::string id = "conf-persist-" + hex8();
         {
           Conn b(ep, MQTTVERSION_5, id);
           require(!b.connect(false, 300), "a new session was present");
           b.sub(t, 1);
           b.disconnect();
         }
         Conn a(ep);
         a.connect();
         for (int i = 0; i < 5; ++i) a.pub(t, std::to_string(i), 1);
         Conn b(ep, MQTTVERSION_5, id);
         require(b.connect(false, 300), "session not present");
         std::string got;
         for (const auto& m : b.drain(1000ms)) got += m->to_string();
         require(got == "01234", "got " + got);
         b.disconnect();
         Conn gone(ep, MQTTVERSION_5, id);
         gone.connect(true, 0);  // end the session
         return got;
       }},
      {"MQTT 3.1.1 persistent session queues QoS 1 while offline",
       [](const Endpoint& ep, const std::string& t) {
         const std::string id = "conf-v311-" + hex8();
         {
           Conn b(ep, MQTTVERSION_3_1_1, id);
           b.connect(false);
           b.sub(t, 1);
           b.disconnect();
         }
         Conn a(ep, MQTTVERSION_3_1_1);
         a.connect();
         a.pub(t, "while away", 1);
         Conn b(ep, MQTTVERSION_3_1_1, id);
         require(b.connect(false), "session not present");
         const auto r = expect_payload(b.next(), "while away");
         b.disconnect();
         Conn gone(ep, MQTTVERSION_3_1_1, id);
         gone.connect(true);
         return r;
       }},
      {"clean start drops the old session",
       [](const Endpoint& ep, const std::string& t) {
         const std::string id = "conf-clean-" + hex8();
         {
           Conn b(ep, MQTTVERSION_5, id);
           b.connect(false, 300);
           b.sub(t, 1);
           b.disconnect();
         }
         Conn a(ep);
         a.connect();
         a.pub(t, "lost", 1);
         Conn b(ep, MQTTVERSION_5, id);
         require(!b.connect(true, 0), "session present after clean start");
         require(b.drain(500ms).empty(), "queued message after clean start");
         return std::string("dropped");
       }},
      {"unsubscribe stops delivery",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t, 1);
         c.pub(t, "before", 1);
         expect_payload(c.next(), "before");
         c.unsub(t);
         c.pub(t, "after", 1);
         require(c.drain(500ms).empty(), "delivered after unsubscribe");
         return std::string("ok");
       }},
      {"MQTT 5 user properties, response topic, correlation data, content type",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t, 1);
         auto m = mqtt::make_message(t, "props", 1, false);
         mqtt::properties props{mqtt::property(mqtt::property::USER_PROPERTY, "k1", "v1"),
                                mqtt::property(mqtt::property::USER_PROPERTY, "k2", "v2"),
                                mqtt::property(mqtt::property::RESPONSE_TOPIC, t + "/reply"),
                                mqtt::property(mqtt::property::CORRELATION_DATA, std::string("\x01\x02", 2)),
                                mqtt::property(mqtt::property::CONTENT_TYPE, "text/plain"),
                                mqtt::property(mqtt::property::PAYLOAD_FORMAT_INDICATOR, 1)};
         m->set_properties(props);
         c.pub(m);
         auto r = c.next();
         require(r != nullptr, "nothing arrived");
         const auto& p = r->get_properties();
         require(mqtt::get<std::string>(p, mqtt::property::RESPONSE_TOPIC) == t + "/reply", "response topic");
         require(mqtt::get<std::string>(p, mqtt::property::CORRELATION_DATA) == std::string("\x01\x02", 2), "correlation");
         require(mqtt::get<std::string>(p, mqtt::property::CONTENT_TYPE) == "text/plain", "content type");
         require(p.count(mqtt::property::USER_PROPERTY) == 2, "user properties");
         const auto up0 = mqtt::get<mqtt::string_pair>(p, mqtt::property::USER_PROPERTY, 0);
         const auto up1 = mqtt::get<mqtt::string_pair>(p, mqtt::property::USER_PROPERTY, 1);
         require(std::get<0>(up0) == "k1" && std::get<1>(up0) == "v1" && std::get<0>(up1) == "k2" &&
                     std::get<1>(up1) == "v2",
                 "user property values or order");
         return std::string("all kept");
       }},
      {"MQTT 5 message expiry while queued",
       [](const Endpoint& ep, const std::string& t) {
         const std::string id = "conf-expiry-" + hex8();
         {
           Conn b(ep, MQTTVERSION_5, id);
           b.connect(false, 300);
           b.sub(t, 1);
           b.disconnect();
         }
         Conn a(ep);
         a.connect();
         for (const auto& [payload, expiry] : {std::pair<const char*, int>{"short", 1}, {"long", 100}}) {
           auto m = mqtt::make_message(t, payload, 1, false);
           m->set_properties({mqtt::property(mqtt::property::MESSAGE_EXPIRY_INTERVAL, expiry)});
           a.pub(m);
         }
         std::this_thread::sleep_for(2200ms);
         Conn b(ep, MQTTVERSION_5, id);
         b.connect(false, 300);
         const auto got = b.drain(800ms);
         require(got.size() == 1 && got[0]->to_string() == "long", "expected only the unexpired message");
         const int left = mqtt::get<int>(got[0]->get_properties(), mqtt::property::MESSAGE_EXPIRY_INTERVAL);
         require(left > 90 && left < 100, "expiry left " + std::to_string(left));
         b.disconnect();
         Conn gone(ep, MQTTVERSION_5, id);
         gone.connect(true, 0);
         return std::string("expired one, kept one");
       }},
      {"MQTT 5 topic alias",
       [](const Endpoint& ep, const std::string& t) {
         Conn s(ep), p(ep);
         s.connect();
         s.sub(t, 1);
         p.connect();
         auto first = mqtt::make_message(t, "named", 1, false);
         first->set_properties({mqtt::property(mqtt::property::TOPIC_ALIAS, 1)});
         p.pub(first);
         auto second = mqtt::make_message("", "aliased", 1, false);
         second->set_properties({mqtt::property(mqtt::property::TOPIC_ALIAS, 1)});
         p.pub(second);
         auto a = s.next(), b = s.next();
         require(a && b, "missing messages");
         require(a->get_topic() == t && b->get_topic() == t && b->to_string() == "aliased", "alias not resolved");
         return std::string("resolved");
       }},
      {"overlapping subscriptions",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t + "/#", 1);
         c.sub(t + "/+", 0);
         c.pub(t + "/x", "o", 1);
         const auto got = c.drain(700ms);
         require(!got.empty(), "nothing arrived");
         std::string qos;
         for (const auto& m : got) qos += std::to_string(m->get_qos());
         return std::to_string(got.size()) + " copies, qos " + qos;
       }},
      {"order of 100 QoS 1 messages",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep), p(ep);
         c.connect();
         p.connect();
         c.sub(t, 1);
         std::vector<mqtt::delivery_token_ptr> toks;
         for (int i = 0; i < 100; ++i) toks.push_back(p.client().publish(t, std::to_string(i), 1, false));
         for (auto& tok : toks) require(tok->wait_for(5s), "not acknowledged");
         for (int i = 0; i < 100; ++i) {
           auto m = c.next();
           require(m && m->to_string() == std::to_string(i), "out of order at " + std::to_string(i));
         }
         return std::string("in order");
       }},
      {"large and binary payloads pass untouched",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t, 1);
         std::string big(256 * 1024, '\0');
         for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 256);
         c.pub(t, big, 1);
         c.pub(t, "", 1);
         auto a = c.next(), b = c.next();
         require(a && a->to_string() == big, "binary payload changed");
         require(b && b->to_string().empty(), "empty payload changed");
         return std::string("identical");
       }},
      {"shared subscription splits the messages",
       [](const Endpoint& ep, const std::string& t) {
         Conn a(ep), b(ep), p(ep);
         a.connect();
         b.connect();
         p.connect();
         a.sub("$share/grp/" + t, 1);
         b.sub("$share/grp/" + t, 1);
         for (int i = 0; i < 20; ++i) p.pub(t, std::to_string(i), 1);
         const auto ga = a.drain(800ms), gb = b.drain(200ms);
         require(ga.size() + gb.size() == 20, "total " + std::to_string(ga.size() + gb.size()));
         require(!ga.empty() && !gb.empty(), "one member got everything");
         return std::to_string(ga.size()) + "+" + std::to_string(gb.size());
       }},
      {"no local",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep), other(ep);
         c.connect();
         other.connect();
         c.sub(t, 1, mqtt::subscribe_options(true));
         c.pub(t, "mine", 1);
         other.pub(t, "theirs", 1);
         const auto got = c.drain(700ms);
         require(got.size() == 1 && got[0]->to_string() == "theirs", "no local not honoured");
         return std::string("ok");
       }},
      {"subscription identifier",
       [](const Endpoint& ep, const std::string& t) {
         Conn c(ep);
         c.connect();
         c.sub(t, 1, {}, {mqtt::property(mqtt::property::SUBSCRIPTION_IDENTIFIER, 7)});
         c.pub(t, "id", 1);
         auto m = c.next();
         require(m != nullptr, "nothing arrived");
         require(mqtt::get<int>(m->get_properties(), mqtt::property::SUBSCRIPTION_IDENTIFIER) == 7, "identifier");
         return std::string("7");
       }},
      {"MQTT 3.1.1 publisher to MQTT 5 subscriber",
       [](const Endpoint& ep, const std::string& t) {
         Conn s(ep), p(ep, MQTTVERSION_3_1_1);
         s.connect();
         p.connect();
         s.sub(t, 2);
         p.pub(t, "old client", 2);
         return expect_payload(s.next(), "old client");
       }},
      {"wrong password refused",
       [](const Endpoint& ep, const std::string&) {
         Conn c(ep);
         try {
           c.connect(true, 0, std::nullopt, "not-the-password");
         } catch (const mqtt::exception& e) {
           return std::string("refused");
         }
         throw Failure("a wrong password was accepted");
       }},
  };
  return list;
}

struct SuiteResult {
  int passed = 0;
  std::map<std::string, std::string> outcome;  // check → observation or "FAIL: why"
  std::map<std::string, long> ms;
};

// The checks run side by side (own topics, own client ids): a new Paho connection waits up to a
// second for the library's network thread, so one after another they would take minutes.
SuiteResult run_suite(const Endpoint& ep) {
  SuiteResult r;
  const std::string run = "conformance/" + hex8();
  std::mutex mu;
  std::vector<std::thread> threads;
  int n = 0;
  for (const auto& [name, fn] : checks()) {
    threads.emplace_back([&, name = name, fn = fn, topic = run + "/" + std::to_string(n++)] {
      std::string outcome;
      bool ok = false;
      const auto t0 = std::chrono::steady_clock::now();
      try {
        outcome = fn(ep, topic);
        ok = true;
      } catch (const std::exception& e) {
        outcome = std::string("FAIL: ") + e.what();
      }
      const long ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard<std::mutex> lock(mu);
      r.passed += ok;
      r.outcome[name] = outcome;
      r.ms[name] = ms;
    });
  }
  for (auto& t : threads) t.join();
  return r;
}

}  // namespace

TEST(Conformance, CoexistingBrokerBehavesAsBareMosquittoForOtherClients) {
  MQCHAT_REQUIRE_STACK();
  const std::string device = "device-" + hex8(), password = "device-pw-" + hex8();
  const std::string acl = "user " + device + "\ntopic readwrite #\n";
  struct Variant {
    std::string name;
    BrokerSetup setup;
  };
  std::vector<Variant> variants(3);
  variants[0].name = "bare Mosquitto (password_file + acl_file)";
  variants[0].setup.mqchat = false;
  variants[0].setup.acl = acl;
  variants[1].name = "mqchat coexisting (password_file + acl_file)";
  variants[1].setup.acl = acl;
  variants[2].name = "mqchat coexisting (password_file only)";
  std::vector<SuiteResult> results;
  for (auto& v : variants) {
    v.setup.passwords = {{device, password}};
    TestBroker broker(v.setup);
    if (v.setup.mqchat) {
      ASSERT_NE(broker.log().find("mqchat: coexist mode"), std::string::npos) << broker.log();
    }
    results.push_back(run_suite({broker.uri(), device, password}));
    std::cout << "[conformance] " << v.name << ": " << results.back().passed << "/" << checks().size() << " passed\n";
    for (const auto& [name, outcome] : results.back().outcome)
      std::cout << "    " << name << ": " << outcome << " (" << results.back().ms[name] << " ms)\n";
  }
  EXPECT_EQ(results[0].passed, static_cast<int>(checks().size())) << "the suite fails on bare Mosquitto";
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].passed, results[0].passed) << variants[i].name;
    for (const auto& [name, outcome] : results[0].outcome)
      EXPECT_EQ(results[i].outcome[name], outcome) << variants[i].name << ": " << name;
  }
}

}  // namespace mqchat::test
