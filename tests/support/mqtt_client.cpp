#include "tests/support/mqtt_client.h"

#include <random>
#include <thread>

#include "tests/support/stack.h"

namespace mqchat::test {

namespace {
std::string random_client_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return "test-" + std::to_string(rng());
}
}  // namespace

TestClient::TestClient(std::string username, std::string password, ClientOptions options)
    : username_(std::move(username)),
      password_(std::move(password)),
      options_(std::move(options)),
      client_(options_.uri.empty() ? Stack::mqtt_uri() : options_.uri,
              options_.client_id.empty() ? random_client_id() : options_.client_id,
              mqtt::create_options(options_.mqtt_version)) {
  client_.set_message_callback([this](mqtt::const_message_ptr msg) {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(Received{msg->get_topic(), msg->to_string(), msg->is_retained(), msg->get_properties()});
    cv_.notify_all();
  });
}

TestClient::~TestClient() {
  try {
    if (client_.is_connected()) client_.disconnect()->wait_for(2s);
  } catch (...) {
  }
}

void TestClient::connect() {
  auto builder = mqtt::connect_options_builder().mqtt_version(options_.mqtt_version).user_name(username_)
                     .password(password_).connect_timeout(5s).automatic_reconnect(false);
  if (options_.mqtt_version == MQTTVERSION_5) {
    builder.clean_start(options_.clean);
    if (!options_.clean)
      builder.properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, options_.session_expiry_s)});
  } else {
    builder.clean_session(options_.clean);
  }
  client_.connect(builder.finalize())->wait();
}

bool TestClient::try_connect() {
  try {
    connect();
    return true;
  } catch (const mqtt::exception&) {
    return false;
  }
}

void TestClient::disconnect() { client_.disconnect()->wait(); }

int TestClient::subscribe(const std::string& filter, int qos) {
  try {
    auto tok = client_.subscribe(filter, qos);
    if (!tok->wait_for(std::chrono::seconds(10))) return 0x80;
    const auto codes = tok->get_subscribe_response().get_reason_codes();
    return codes.empty() ? 0 : codes[0];
  } catch (const mqtt::exception& e) {
    return e.get_reason_code() ? e.get_reason_code() : 0x80;
  }
}

int TestClient::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                        const mqtt::properties& props) {
  auto msg = mqtt::make_message(topic, payload, qos, retain);
  if (!props.empty()) msg->set_properties(props);
  try {
    auto tok = client_.publish(msg);
    // Paho keeps a QoS 1 token pending (for redelivery) when the connection drops mid-flight, so
    // the wait gives up as soon as the connection is gone: a client whose broker was just killed
    // reconnects at once instead of sitting out the whole timeout.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!tok->wait_for(std::chrono::milliseconds(50))) {
      if (!client_.is_connected() || std::chrono::steady_clock::now() > deadline) return -1;
    }
    return tok->get_reason_code();
  } catch (const mqtt::exception& e) {
    return e.get_reason_code() ? e.get_reason_code() : -1;
  }
}

std::optional<Received> TestClient::wait_message(const std::string& topic, std::chrono::milliseconds timeout) {
  std::optional<Received> found;
  auto take = [&] {
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
      if (!topic.empty() && it->topic != topic) continue;
      found = std::move(*it);
      inbox_.erase(it);
      return true;
    }
    return false;
  };
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, take);
  return found;
}

std::vector<Received> TestClient::collect(const std::string& topic, std::chrono::milliseconds window) {
  std::vector<Received> out;
  const auto deadline = std::chrono::steady_clock::now() + window;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto r = wait_message(topic, left);
    if (!r) break;
    out.push_back(std::move(*r));
  }
  return out;
}

void wait_until_login_works(const std::string& username, const std::string& password) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (true) {
    TestClient probe(username, password);
    if (probe.try_connect()) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("user " + username + " still cannot log in after 5 s");
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace mqchat::test
