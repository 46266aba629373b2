#pragma once
// A real MQTT client (Paho C++) for tests: connect as a user, publish, collect what arrives.
#include <mqtt/async_client.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mqchat::test {

using namespace std::chrono_literals;

struct Received {
  std::string topic;
  std::string payload;
  bool retained = false;
  mqtt::properties properties;
};

struct ClientOptions {
  int mqtt_version = MQTTVERSION_5;
  bool clean = true;                 // false: persistent session (needs a fixed client id)
  std::string client_id;             // empty: random
  uint32_t session_expiry_s = 3600;  // MQTT 5, when !clean
  std::string uri;                   // empty: the test stack's broker (Stack::mqtt_uri()); e.g. "ws://127.0.0.1:<port>/mqtt" or a cluster node
};

class TestClient {
 public:
  TestClient(std::string username, std::string password, ClientOptions options = {});
  ~TestClient();

  // Throws mqtt::exception when the broker refuses the connection.
  void connect();
  // Returns false instead of throwing; for tests that expect a refusal.
  bool try_connect();
  void disconnect();
  bool connected() const { return client_.is_connected(); }

  // Returns the granted QoS / reason code (>= 0x80 means refused).
  int subscribe(const std::string& filter, int qos = 1);
  // Returns the PUBACK reason code for QoS 1 (0 = success, 0x87 = not authorized, ...), -1 when
  // the connection is gone or no PUBACK came within 10 s.
  int publish(const std::string& topic, const std::string& payload, int qos = 1, bool retain = false,
              const mqtt::properties& props = {});

  // Waits for the next message on `topic` (exact topic; "" = any). Consumes it.
  std::optional<Received> wait_message(const std::string& topic = "", std::chrono::milliseconds timeout = 5s);
  // Collects every message on `topic` arriving within `window`.
  std::vector<Received> collect(const std::string& topic, std::chrono::milliseconds window);

  const std::string& username() const { return username_; }

 private:
  std::string username_, password_;
  ClientOptions options_;
  mqtt::async_client client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Received> inbox_;
};

// Retries login until the plugin's user directory knows the user (it refreshes within ~2 s).
void wait_until_login_works(const std::string& username, const std::string& password);

}  // namespace mqchat::test
