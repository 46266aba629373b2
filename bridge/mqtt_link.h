#pragma once
// The bridge's MQTT 5 connection as the service account: a persistent session, shared
// subscriptions to the request topics (renewed on every reconnect), and QoS 1 publishing.
#include <mqtt/async_client.h>

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
  using Handler = std::function<void(IncomingRequest)>;
  MqttLink(const Options& options, Handler on_request);
  ~MqttLink();

  // Connects (retrying until the broker is there), then stays connected by itself.
  void start();
  // QoS 1; waits for the PUBACK up to a few seconds. False when it could not be delivered.
  bool publish(const Publication& p);

 private:
  void subscribe_requests();

  const Options& options_;
  Handler on_request_;
  mqtt::async_client client_;
  mqtt::connect_options connect_options_;
};

}  // namespace mqchat::bridge
