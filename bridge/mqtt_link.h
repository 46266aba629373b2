#pragma once
// The bridge's MQTT 5 connection as the service account: a persistent session, shared
// subscriptions to the request topics (renewed on every reconnect), and QoS 1 publishing.
// While the bridge is away the broker queues requests for its session, but a broker restart forgets
// shared subscriptions (Mosquitto 2.0.11): requests published between the restart and our
// resubscription are lost, and clients ask again (docs/PROTOCOL.md "Requests").
// Paho's callback thread only hands requests over: it never waits for anything.
#include <mqtt/async_client.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "bridge/options.h"

namespace mqchat::bridge {

struct Publication {
  std::string topic, payload;
  bool retained = false;
  std::string correlation_data;  // MQTT 5 request/response
};

struct IncomingRequest {
  std::string topic, payload, response_topic, correlation_data;
};

class MqttLink {
 public:
  using Handler = std::function<void(IncomingRequest)>;  // called on Paho's thread: must not block
  MqttLink(const Options& options, Handler on_request);
  ~MqttLink();

  // Notifications (bridge/notifier.h): when set before start(), the link also subscribes to every
  // stored message (chat/+/messages, shared by the notify group) and to presence (users/+/presence)
  // and hands them here, on Paho's thread (must not block). Unset: those subscriptions are dropped.
  using EventHandler = std::function<void(const std::string& topic, const std::string& payload)>;
  void set_event_handler(EventHandler on_event) { on_event_ = std::move(on_event); }

  // Connects, retrying until the broker is there or `stop` is set (then false); afterwards Paho
  // reconnects by itself.
  bool start(const std::atomic<bool>& stop);
  // QoS 1; waits for the PUBACK up to a few seconds, retrying while reconnecting (once closing,
  // or without `retry`: a single attempt, none at all while disconnected). False when it could not
  // be delivered.
  bool publish(const Publication& p, bool retry = true);
  bool connected() const { return client_.is_connected(); }
  // Last step of a shutdown: no more retries, then a clean disconnect.
  void close();

 private:
  class SubscribeListener : public mqtt::iaction_listener {
    void on_failure(const mqtt::token& tok) override;
    void on_success(const mqtt::token& tok) override;
  };
  void subscribe_requests();

  const Options& options_;
  Handler on_request_;
  EventHandler on_event_;
  mqtt::async_client client_;
  mqtt::connect_options connect_options_;
  SubscribeListener subscribe_listener_;
  std::atomic<bool> closing_{false};
};

}  // namespace mqchat::bridge
