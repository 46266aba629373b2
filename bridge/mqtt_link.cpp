#include "bridge/mqtt_link.h"

#include <algorithm>
#include <thread>

#include "bridge/log.h"

namespace mqchat::bridge {

using namespace std::chrono_literals;

namespace {
constexpr char kMessagesFilter[] = "chat/+/messages";
constexpr char kPresenceFilter[] = "users/+/presence";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
// chat/<room>/messages and users/<u>/presence: what the notifier listens to.
bool is_event_topic(const std::string& t) {
  const auto levels = std::count(t.begin(), t.end(), '/');
  return levels == 2 && ((t.rfind("chat/", 0) == 0 && ends_with(t, "/messages")) ||
                         (t.rfind("users/", 0) == 0 && ends_with(t, "/presence")));
}
}  // namespace

MqttLink::MqttLink(const Options& options, Handler on_request)
    : options_(options),
      on_request_(std::move(on_request)),
      client_("tcp://" + options.mqtt_host + ":" + std::to_string(options.mqtt_port), options.client_id,
              mqtt::create_options(MQTTVERSION_5)) {
  connect_options_ = mqtt::connect_options_builder()
                         .mqtt_version(MQTTVERSION_5)
                         .user_name(options_.username)
                         .password(options_.password)
                         .clean_start(false)  // requests that arrive while we are away wait for us
                         .properties({mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                                                     options_.session_expiry_s)})
                         .keep_alive_interval(20s)
                         // Mosquitto 2.0.11 does not keep $share subscriptions across its restart
                         // (persist__subs_save saves plain subscribers only): until we subscribe
                         // again, requests reach nobody. Paho counts these in whole seconds, and a
                         // minimum of 0 s never backs off: it retries on every cycle of its thread.
                         .automatic_reconnect(0s, 1s)
                         .finalize();
  client_.set_message_callback([this](mqtt::const_message_ptr m) {
    const std::string& t = m->get_topic();
    if (is_event_topic(t)) {  // never a request, even from a session that subscribed earlier
      if (on_event_) on_event_(t, m->to_string());
      return;
    }
    IncomingRequest r{m->get_topic(), m->to_string(), {}, {}};
    const auto& props = m->get_properties();
    if (props.contains(mqtt::property::RESPONSE_TOPIC))
      r.response_topic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
    if (props.contains(mqtt::property::CORRELATION_DATA))
      r.correlation_data = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
    on_request_(std::move(r));
  });
  client_.set_connected_handler([this](const std::string&) {
    log("mqtt: connected to ", options_.mqtt_host, ":", options_.mqtt_port, " as ", options_.client_id);
    subscribe_requests();  // asynchronous: the listener logs the SUBACKs
  });
  client_.set_connection_lost_handler([](const std::string& why) { log("mqtt: connection lost (", why, ")"); });
}

MqttLink::~MqttLink() { close(); }

void MqttLink::close() {
  if (closing_.exchange(true)) return;
  try {
    if (client_.is_connected()) client_.disconnect()->wait_for(2s);
  } catch (const mqtt::exception& e) {
    log("mqtt: disconnecting failed (", e.what(), ")");
  }
}

bool MqttLink::start(const std::atomic<bool>& stop) {
  for (int attempt = 0; !stop; ++attempt) {
    try {
      client_.connect(connect_options_)->wait();
      return true;
    } catch (const mqtt::exception& e) {
      if (attempt % 10 == 0) log("mqtt: cannot connect (", e.what(), "), retrying");
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(50ms);
    }
  }
  return false;
}

void MqttLink::subscribe_requests() {
  const std::string prefix = "$share/" + options_.share_group + "/chat/+/";
  try {
    for (const char* request : {"history", "read", "edit", "delete", "react", "archive", "mute"})
      client_.subscribe(prefix + request, 1, nullptr, subscribe_listener_);
    client_.subscribe("$share/" + options_.share_group + "/users/+/requests/+", 1, nullptr, subscribe_listener_);
    const std::string messages = "$share/" + options_.share_group + "-notify/" + kMessagesFilter;
    if (on_event_) {
      client_.subscribe(kPresenceFilter, 0, nullptr, subscribe_listener_);  // retained: everyone's state at once
      client_.subscribe(messages, 1, nullptr, subscribe_listener_);
    } else {  // the persistent session may still hold them from a run with notifications
      client_.unsubscribe(kPresenceFilter);
      client_.unsubscribe(messages);
    }
  } catch (const mqtt::exception& e) {
    log("mqtt: subscribing failed (", e.what(), ")");
  }
}

void MqttLink::SubscribeListener::on_success(const mqtt::token& tok) {
  const auto topics = tok.get_topics();
  log("mqtt: subscribed to ", topics && !topics->empty() ? (*topics)[0] : std::string("request topics"));
}

void MqttLink::SubscribeListener::on_failure(const mqtt::token& tok) {
  const auto topics = tok.get_topics();
  log("mqtt: subscribing to ", topics && !topics->empty() ? (*topics)[0] : std::string("request topics"),
      " failed (reason ", tok.get_reason_code(), ")");
}

bool MqttLink::publish(const Publication& p, bool retry) {
  if (!retry && !client_.is_connected()) return false;
  auto msg = mqtt::make_message(p.topic, p.payload, 1, p.retained);
  if (!p.correlation_data.empty())
    msg->set_properties({mqtt::property(mqtt::property::CORRELATION_DATA, p.correlation_data)});
  for (int attempt = 0; attempt < 50; ++attempt) {
    try {
      auto tok = client_.publish(msg);
      if (tok->wait_for(5s) && tok->get_reason_code() < 0x80) return true;
    } catch (const mqtt::exception& e) {
      if (attempt == 0) log("mqtt: publish to ", p.topic, " failed (", e.what(), "), retrying");
    }
    if (closing_ || !retry) break;
    std::this_thread::sleep_for(200ms);  // reconnecting
  }
  if (retry) log("mqtt: gave up publishing to ", p.topic);
  return false;
}

}  // namespace mqchat::bridge
