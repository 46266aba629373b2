#pragma once
// One MQTT 5 connection of a chat user (Paho C++): connect, subscribe, publish, and an inbox of
// what arrived that callers wait on. Used by the one-shot commands and by the interactive chat.
#include <mqtt/async_client.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mqchat::client {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string user;
  std::string password;
};

struct SessionOptions {
  std::string client_id;         // empty: a random one (and then the session is always clean)
  bool persistent = false;       // keep the session (subscriptions + queued messages) while offline
  bool auto_reconnect = false;   // the interactive chat reconnects by itself
  int session_expiry_s = 7 * 24 * 3600;
};

struct Incoming {
  std::string topic;
  std::string payload;
  bool retained = false;
  std::string correlation;  // MQTT 5 correlation data, if any
};

// Raised for a refused connection, with a message a person understands.
class ConnectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Connection {
 public:
  Connection(ServerOptions server, SessionOptions session);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void connect();  // throws ConnectError
  void disconnect();
  bool connected() const { return client_.is_connected(); }

  // Returns the granted QoS, or the refusal reason code (>= 0x80). `no_local`: not our own publishes.
  int subscribe(const std::string& filter, int qos = 1, bool no_local = false);
  // QoS 1 publish; returns the PUBACK reason code (0 = accepted, 0x87 = refused by the broker),
  // or -1 when there was no answer (connection down).
  int publish(const std::string& topic, const std::string& payload, const mqtt::properties& props = {});

  // Waits for the first message in the inbox that `match` accepts, removing it.
  std::optional<Incoming> wait_for(const std::function<bool(const Incoming&)>& match,
                                   std::chrono::milliseconds timeout);
  // Instead of the inbox, hand every message (and connection changes) to callbacks.
  void on_message(std::function<void(const Incoming&)> handler);
  void on_status(std::function<void(const std::string& status)> handler);

  const std::string& user() const { return server_.user; }

 private:
  void deliver(Incoming in);

  ServerOptions server_;
  SessionOptions session_;
  mqtt::async_client client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Incoming> inbox_;
  std::function<void(const Incoming&)> handler_;
  std::function<void(const std::string&)> status_handler_;
};

// A fresh random id (hex), for client ids, client message ids and request ids.
std::string random_id(size_t hex_chars = 16);

}  // namespace mqchat::client
