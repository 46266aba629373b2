// `./mqchat up --tls`: TLS listeners for MQTT and MQTT over WebSocket with a local CA. The test
// stack is started with them; real clients (mosquitto_pub/sub, the mqtt npm package the browser
// page uses) connect, verify the server against ca.crt, and chat.
#include <cstdlib>
#include <thread>

#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {
std::string port_of(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
std::string ca_file() { return Stack::run_dir() + "/tls/ca.crt"; }
}  // namespace

class Tls : public PairTest {
 protected:
  void SetUp() override {
    PairTest::SetUp();
    if (IsSkipped()) return;
    ASSERT_FALSE(port_of("MQCHAT_MQTTS_PORT").empty());
  }
};

TEST_F(Tls, MosquittoClientsChatOverTlsVerifiedAgainstTheLocalCa) {
  const std::string tls = " -h localhost -p " + port_of("MQCHAT_MQTTS_PORT") + " --cafile " + ca_file();
  const std::string out = testing::TempDir() + "/tls-sub-" + pair_.bob + ".txt";
  const std::string sub = "timeout 10 mosquitto_sub" + tls + " -u " + pair_.bob + " -P '" + kPassword + "' -t 'chat/" +
                          pair_.room + "/messages' -C 1 -q 1 > " + out + " 2>&1 &";
  ASSERT_EQ(run_command(sub), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(run_command("mosquitto_pub" + tls + " -u " + pair_.alice + " -P '" + kPassword + "' -t 'chat/" +
                        pair_.room + "/messages' -q 1 -m 'over tls'"),
            0);
  EXPECT_EQ(wait_for_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" +
                               pair_.room + "') and content = 'over tls'",
                           "1", std::chrono::seconds(10)),
            "1");
  std::string received;
  for (int i = 0; i < 50 && received.find("over tls") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    run_command("cat " + out, &received);
  }
  EXPECT_NE(received.find("\"content\":\"over tls\""), std::string::npos) << received;
}

TEST_F(Tls, AClientThatDoesNotTrustTheCaOrSpeaksPlainTextIsRefused) {
  const std::string login = " -u " + pair_.alice + " -P '" + kPassword + "' -t 'chat/" + pair_.room + "/messages' -m x";
  // The system's CA bundle does not include our local CA: certificate verification fails.
  EXPECT_NE(run_command("timeout 10 mosquitto_pub -h localhost -p " + port_of("MQCHAT_MQTTS_PORT") +
                        " --cafile /etc/ssl/certs/ca-certificates.crt" + login + " 2>/dev/null"),
            0);
  // Plain MQTT on the TLS port goes nowhere.
  EXPECT_NE(run_command("timeout 10 mosquitto_pub -h localhost -p " + port_of("MQCHAT_MQTTS_PORT") + login +
                        " 2>/dev/null"),
            0);
  EXPECT_EQ(count_messages_in_room(pair_.room), 0);
}

TEST_F(Tls, BrowsersLibraryConnectsOverWssWithTheCa) {
  const std::string web = Stack::root() + "/client-demo/web";
  const std::string script =
      "const mqtt = require('" + web + "/node_modules/mqtt'); const fs = require('fs');"
      "const c = mqtt.connect('wss://localhost:" + port_of("MQCHAT_WSS_PORT") + "/mqtt', {username: '" + pair_.alice +
      "', password: '" + kPassword + "', ca: fs.readFileSync('" + ca_file() + "'), protocolVersion: 5, reconnectPeriod: 0});"
      "c.on('connect', () => c.publish('chat/" + pair_.room + "/messages', 'over wss', {qos: 1}, (e) => { "
      "console.log(e ? 'error ' + e.message : 'published'); c.end(false, {}, () => process.exit(e ? 1 : 0)); }));"
      "c.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });"
      "setTimeout(() => { console.log('timeout'); process.exit(1); }, 10000);";
  std::string out;
  EXPECT_EQ(run_command("node -e \"" + script + "\" 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("published"), std::string::npos) << out;
  EXPECT_EQ(wait_for_value("select count(*) from messages where conversation_id = mqchat_conversation_id('" +
                               pair_.room + "') and content = 'over wss'",
                           "1", std::chrono::seconds(10)),
            "1");
}

}  // namespace mqchat::test
