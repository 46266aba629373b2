#include "client-demo/connection.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace mqchat::client {

using namespace std::chrono_literals;

// From the OS's CSPRNG: a client id is a session's key (whoever connects with it gets its queued
// messages, if the broker let them), so it must not be guessable.
std::string random_id(size_t hex_chars) {
  static const char* digits = "0123456789abcdef";
  std::string id;
  unsigned char bytes[32];
  while (id.size() < hex_chars) {
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a client id");
    for (unsigned char b : bytes) {
      if (id.size() == hex_chars) break;
      id += digits[b & 15];
    }
  }
  return id;
}

namespace {
std::string server_uri(const ServerOptions& s) { return "tcp://" + s.host + ":" + std::to_string(s.port); }

std::string effective_client_id(const ServerOptions& server, const SessionOptions& session) {
  return session.client_id.empty() ? server.user + "-cli-" + random_id(32) : session.client_id;
}

// Paho reports refusals as codes; people want sentences.
std::string explain(const mqtt::exception& e, const ServerOptions& server) {
  // MQTT 5 CONNACK reason codes arrive as the reason or as the return code, depending on the path.
  const int code = e.get_reason_code() ? static_cast<int>(e.get_reason_code()) : e.get_return_code();
  switch (code) {
    case mqtt::ReasonCode::BAD_USER_NAME_OR_PASSWORD:
    case mqtt::ReasonCode::NOT_AUTHORIZED:
    case 4:  // MQTT 3.1.1: bad user name or password
    case 5:  // MQTT 3.1.1: not authorized
      return "login refused for '" + server.user + "': wrong username or password";
    case mqtt::ReasonCode::SERVER_UNAVAILABLE:
    case mqtt::ReasonCode::SERVER_BUSY:
      return "the broker is unavailable, try again";
    default:
      break;
  }
  if (e.get_return_code() == MQTTASYNC_FAILURE || e.get_return_code() == -1)
    return "cannot reach the broker at " + server.host + ":" + std::to_string(server.port);
  return "cannot connect to " + server.host + ":" + std::to_string(server.port) + ": " + e.what();
}
}  // namespace

Connection::Connection(ServerOptions server, SessionOptions session)
    : server_(std::move(server)),
      session_(std::move(session)),
      client_(server_uri(server_), effective_client_id(server_, session_), mqtt::create_options(MQTTVERSION_5)) {
  client_.set_message_callback([this](mqtt::const_message_ptr m) {
    Incoming in{m->get_topic(), m->to_string(), m->is_retained(), {}};
    if (m->get_properties().contains(mqtt::property::CORRELATION_DATA))
      in.correlation = mqtt::get<std::string>(m->get_properties(), mqtt::property::CORRELATION_DATA);
    deliver(std::move(in));
  });
  client_.set_connection_lost_handler([this](const std::string&) {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_handler_) status_handler_(session_.auto_reconnect ? "reconnecting…" : "disconnected");
  });
  client_.set_connected_handler([this](const std::string&) {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_handler_) status_handler_("connected");
  });
}

Connection::~Connection() {
  try {
    if (client_.is_connected()) client_.disconnect()->wait_for(2s);
  } catch (...) {
  }
}

void Connection::connect() {
  const bool persistent = session_.persistent && !session_.client_id.empty();
  auto builder = mqtt::connect_options_builder()
                     .mqtt_version(MQTTVERSION_5)
                     .user_name(server_.user)
                     .password(server_.password)
                     .clean_start(!persistent)
                     .connect_timeout(5s)
                     .keep_alive_interval(20s);
  if (persistent)
    builder.properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL, session_.session_expiry_s)});
  if (session_.auto_reconnect) builder.automatic_reconnect(1s, 10s);
  try {
    client_.connect(builder.finalize())->wait();
  } catch (const mqtt::exception& e) {
    throw ConnectError(explain(e, server_));
  }
}

void Connection::disconnect() {
  if (client_.is_connected()) client_.disconnect()->wait_for(2s);
}

int Connection::subscribe(const std::string& filter, int qos, bool no_local) {
  try {
    auto tok = client_.subscribe(filter, qos, mqtt::subscribe_options(no_local));
    if (!tok->wait_for(std::chrono::seconds(10))) return 0x80;
    const auto codes = tok->get_subscribe_response().get_reason_codes();
    return codes.empty() ? 0x80 : static_cast<int>(codes.front());
  } catch (const mqtt::exception& e) {  // Paho reports a refused subscription as an exception
    const int code = static_cast<int>(e.get_reason_code());
    return code >= 0x80 ? code : 0x80;
  }
}

int Connection::publish(const std::string& topic, const std::string& payload, const mqtt::properties& props) {
  auto msg = mqtt::make_message(topic, payload, 1, false);
  msg->set_properties(props);
  try {
    auto tok = client_.publish(msg);
    // A QoS 1 token stays pending while the connection is down (Paho redelivers on reconnect).
    if (!tok->wait_for(std::chrono::seconds(10))) return -1;
    return static_cast<int>(tok->get_reason_code());
  } catch (const mqtt::exception& e) {
    const int code = static_cast<int>(e.get_reason_code());
    return code >= 0x80 ? code : 0x80;
  }
}

void Connection::deliver(Incoming in) {
  std::lock_guard<std::mutex> lock(mu_);
  if (handler_) {
    handler_(in);
    return;
  }
  inbox_.push_back(std::move(in));
  cv_.notify_all();
}

std::optional<Incoming> Connection::wait_for(const std::function<bool(const Incoming&)>& match,
                                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
      if (!match(*it)) continue;
      Incoming found = std::move(*it);
      inbox_.erase(it);
      return found;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    cv_.wait_until(lock, deadline);
  }
}

void Connection::on_message(std::function<void(const Incoming&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
  for (auto& in : inbox_) handler_(in);
  inbox_.clear();
}

void Connection::on_status(std::function<void(const std::string&)> handler) {
  std::lock_guard<std::mutex> lock(mu_);
  status_handler_ = std::move(handler);
}

}  // namespace mqchat::client
