// Coexist mode: mqchat next to a fleet that a password_file + acl_file or the dynamic-security
// plugin secures, on one real broker with real Postgres. Devices keep their topics, chat users
// keep theirs, and nothing the other mechanism grants opens chat/ or users/.
#include <thread>

#include "tests/integration/fixtures.h"
#include "tests/support/broker.h"

namespace mqchat::test {

namespace {
constexpr int kNotAuthorized = 0x87;
constexpr char kDevicePassword[] = "device-secret-9";

ClientOptions at(const TestBroker& broker, std::string client_id = "") {
  ClientOptions o;
  o.uri = broker.uri();
  o.client_id = std::move(client_id);
  return o;
}

// The plugin of a fresh broker loads its user directory at start: retry until it knows `user`.
std::unique_ptr<TestClient> connect_when_known(const TestBroker& broker, const std::string& user,
                                               const std::string& password) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = std::make_unique<TestClient>(user, password, at(broker));
    if (c->try_connect()) return c;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error(user + " cannot log in to the test broker with the mqchat password");
}

bool any_under(const std::vector<Received>& got, const std::string& prefix) {
  for (const auto& m : got)
    if (m.topic.rfind(prefix, 0) == 0) return true;
  return false;
}

struct Fleet {
  std::string device = "device-" + random_hex();
  std::string sensors = "sensors/" + random_hex();
};

// Everything a device may try against chat, and the device's own traffic next to it.
void expect_fleet_and_chat_apart(const TestBroker& broker, const Fleet& fleet, const Pair& pair) {
  auto bob = connect_when_known(broker, pair.bob, kPassword);
  auto alice = connect_when_known(broker, pair.alice, kPassword);
  ASSERT_LT(bob->subscribe(messages_topic(pair.room)), 0x80);

  TestClient device(fleet.device, kDevicePassword, at(broker));
  ASSERT_TRUE(device.try_connect()) << broker.log();
  // The device's own topics work as before.
  ASSERT_LT(device.subscribe(fleet.sensors + "/#"), 0x80);
  ASSERT_EQ(device.publish(fleet.sensors + "/temp", "21.5"), 0);
  const auto own = device.wait_message(fleet.sensors + "/temp");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->payload, "21.5");

  // Filters naming chat/ or users/ are refused outright, shared or not.
  for (const std::string& filter : std::vector<std::string>{"chat/#", "chat/+/messages", messages_topic(pair.room), "chat/" + pair.room + "/#",
                                   "users/#", "users/" + pair.alice + "/#", "users/+/presence", "$share/g/chat/#",
                                   "$share/g/" + messages_topic(pair.room), "$share/g/users/#", "chat", "users"})
    EXPECT_EQ(device.subscribe(filter), kNotAuthorized) << filter;
  // Wide filters are the other mechanism's to grant, but deliver nothing from chat/ or users/.
  for (const std::string& filter : std::vector<std::string>{"#", "+/+/messages", "+/" + pair.room + "/#", "$share/g/#", "+/#"})
    EXPECT_LT(device.subscribe(filter), 0x80) << filter;
  for (const std::string& topic : std::vector<std::string>{messages_topic(pair.room), "chat/" + pair.room + "/typing",
                                  "users/" + pair.alice + "/errors", "users/" + pair.bob + "/presence", "chat/x"})
    EXPECT_EQ(device.publish(topic, "let me in"), kNotAuthorized) << topic;

  ASSERT_EQ(alice->publish(messages_topic(pair.room), "hello over the fleet"), 0);
  const auto chat = bob->wait_message(messages_topic(pair.room));
  ASSERT_TRUE(chat);
  EXPECT_EQ(nlohmann::json::parse(chat->payload)["content"], "hello over the fleet");  // validated, stored form
  ASSERT_EQ(device.publish(fleet.sensors + "/after", "1"), 0);
  const auto seen = device.collect("", std::chrono::milliseconds(1500));
  EXPECT_FALSE(any_under(seen, "chat/")) << "the device received chat";
  EXPECT_FALSE(any_under(seen, "users/")) << "the device received users/ (presence is retained)";
  EXPECT_TRUE(any_under(seen, fleet.sensors + "/after"));
  EXPECT_FALSE(bob->wait_message(messages_topic(pair.room), std::chrono::milliseconds(300)))
      << "a device's publish reached the room";

  // Chat users are not let into the fleet's topics unless the other mechanism grants it.
  ASSERT_EQ(bob->publish(fleet.sensors + "/temp", "-40"), kNotAuthorized);
  bob->subscribe(fleet.sensors + "/#");  // granted or not: nothing may arrive
  ASSERT_EQ(device.publish(fleet.sensors + "/temp", "22"), 0);
  EXPECT_FALSE(bob->wait_message(fleet.sensors + "/temp", std::chrono::milliseconds(700)));

  // Logins: wrong passwords are refused on both sides; the device cannot take a chat session's id.
  EXPECT_FALSE(TestClient(fleet.device, "wrong", at(broker)).try_connect());
  EXPECT_FALSE(TestClient(pair.alice, "wrong", at(broker)).try_connect());
}

void expect_session_id_kept(const TestBroker& broker, const Fleet& fleet, const Pair& pair) {
  const std::string id = "alice-phone-" + random_hex();
  {
    auto o = at(broker, id);
    TestClient phone(pair.alice, kPassword, o);
    ASSERT_TRUE(phone.try_connect());
  }
  EXPECT_FALSE(TestClient(fleet.device, kDevicePassword, at(broker, id)).try_connect())
      << "a device took over a chat user's client id";
  EXPECT_FALSE(TestClient(fleet.device, kDevicePassword, at(broker, "mqchat-bridge-7")).try_connect())
      << "a device used a reserved client id";
}

}  // namespace

class Coexist : public PairTest {};

TEST_F(Coexist, PasswordAndAclFilesKeepTheirFleetAndNeverOpenChat) {
  Fleet fleet;
  // The acl_file grants the device everything, and the chat user alice one read-only subtree;
  // the password_file also has an entry named like alice: mqchat decides alice's logins.
  BrokerSetup setup;
  setup.passwords = {{fleet.device, kDevicePassword}, {pair_.alice, kDevicePassword}};
  setup.acl = "user " + fleet.device + "\ntopic readwrite #\n\nuser " + pair_.alice + "\ntopic read " + fleet.sensors +
              "/shared/#\n";
  TestBroker broker(setup);
  EXPECT_NE(broker.log().find("mqchat: coexist mode"), std::string::npos) << broker.log();
  expect_fleet_and_chat_apart(broker, fleet, pair_);
  expect_session_id_kept(broker, fleet, pair_);

  // alice logs in with her mqchat password only, never the password_file's entry of that name.
  EXPECT_FALSE(TestClient(pair_.alice, kDevicePassword, at(broker)).try_connect());
  // What the acl_file grants alice, she gets; nothing more.
  auto alice = connect_when_known(broker, pair_.alice, kPassword);
  ASSERT_LT(alice->subscribe(fleet.sensors + "/shared/#"), 0x80);
  EXPECT_EQ(alice->publish(fleet.sensors + "/shared/x", "no"), kNotAuthorized);
  TestClient device(fleet.device, kDevicePassword, at(broker));
  ASSERT_TRUE(device.try_connect());
  ASSERT_EQ(device.publish(fleet.sensors + "/shared/level", "7"), 0);
  const auto got = alice->wait_message(fleet.sensors + "/shared/level");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload, "7");
}

TEST_F(Coexist, PasswordFileWithoutAclFileLetsDevicesEverywhereButChat) {
  // Bare Mosquitto with only a password_file allows every topic to every user: so does coexist
  // mode outside chat/ and users/, but not for chat users.
  Fleet fleet;
  BrokerSetup setup;
  setup.passwords = {{fleet.device, kDevicePassword}};
  TestBroker broker(setup);
  expect_fleet_and_chat_apart(broker, fleet, pair_);
  TestClient device(fleet.device, kDevicePassword, at(broker));
  ASSERT_TRUE(device.try_connect());
  EXPECT_LT(device.subscribe("$SYS/broker/uptime"), 0x80);
  EXPECT_TRUE(device.wait_message("$SYS/broker/uptime", std::chrono::milliseconds(15000)));
}

namespace {
void configure_dynsec_fleet(const TestBroker& broker, const Fleet& fleet, const Pair& pair) {
  broker.dynsec("createRole everything");
  for (const char* acl : {"publishClientSend", "publishClientReceive", "subscribePattern", "subscribeLiteral"})
    broker.dynsec(std::string("addRoleACL everything ") + acl + " '#' allow");
  broker.dynsec("createClient " + fleet.device + " -p " + kDevicePassword);
  broker.dynsec("addClientRole " + fleet.device + " everything");
  // A dynamic-security client named like a chat user, with every right: mqchat still decides its
  // logins (its ACL rights do apply to alice outside chat/ and users/, as an acl_file's would).
  broker.dynsec("createClient " + pair.alice + " -p " + kDevicePassword);
  broker.dynsec("addClientRole " + pair.alice + " everything");
}
}  // namespace

TEST_F(Coexist, DynamicSecurityGrantingEverythingNeverOpensChat) {
  Fleet fleet;
  BrokerSetup setup;
  setup.dynamic_security = true;
  TestBroker broker(setup);
  EXPECT_NE(broker.log().find("mqchat: coexist mode"), std::string::npos) << broker.log();
  configure_dynsec_fleet(broker, fleet, pair_);
  expect_fleet_and_chat_apart(broker, fleet, pair_);
  expect_session_id_kept(broker, fleet, pair_);
  EXPECT_FALSE(TestClient(pair_.alice, kDevicePassword, at(broker)).try_connect());
}

TEST_F(Coexist, DynamicSecurityListedBeforeMqchatIsPutBehindIt) {
  Fleet fleet;
  BrokerSetup setup;
  setup.dynamic_security = true;
  setup.dynamic_security_first = true;
  setup.passwords = {{fleet.device + "-file", kDevicePassword}};
  setup.acl = "user " + fleet.device + "-file\ntopic readwrite #\n";
  TestBroker broker(setup);
  EXPECT_NE(broker.log().find("dynsec__acl_check_callback now runs after mqchat's checks"), std::string::npos)
      << broker.log();
  configure_dynsec_fleet(broker, fleet, pair_);
  expect_fleet_and_chat_apart(broker, fleet, pair_);
  EXPECT_FALSE(TestClient(pair_.alice, kDevicePassword, at(broker)).try_connect())
      << "dynamic-security, listed first, authenticated a chat user's name";
}

TEST_F(Coexist, ExclusiveModeRefusesThePasswordFileAsToday) {
  Fleet fleet;
  BrokerSetup setup;
  setup.passwords = {{fleet.device, kDevicePassword}};
  setup.acl = "user " + fleet.device + "\ntopic readwrite #\n";
  setup.plugin_opts = {"mode exclusive"};
  TestBroker broker(setup);
  EXPECT_NE(broker.log().find("mqchat: exclusive mode: mode: exclusive is configured"), std::string::npos)
      << broker.log();
  EXPECT_FALSE(TestClient(fleet.device, kDevicePassword, at(broker)).try_connect());
  auto alice = connect_when_known(broker, pair_.alice, kPassword);
  EXPECT_EQ(alice->subscribe("#"), kNotAuthorized);
  EXPECT_EQ(alice->publish(fleet.sensors + "/x", "1"), kNotAuthorized);
}

TEST_F(Coexist, AutoModeWithoutOtherSecurityIsExclusive) {
  TestBroker broker(BrokerSetup{});
  EXPECT_NE(broker.log().find("mqchat: exclusive mode: mode: auto, and"), std::string::npos) << broker.log();
  EXPECT_FALSE(TestClient("device-" + random_hex(), kDevicePassword, at(broker)).try_connect());
  auto alice = connect_when_known(broker, pair_.alice, kPassword);
  EXPECT_EQ(alice->subscribe("sensors/#"), kNotAuthorized);
}

}  // namespace mqchat::test
