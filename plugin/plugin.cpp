// Mosquitto 2.0 plugin entry points: the broker thread's side of mqchat. Every callback here is
// in-memory work plus, for accepted chat messages, one spool write; database I/O happens on the
// user directory's and the shipper's own threads.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "common/room.h"
#include "plugin/access_policy.h"
#include "plugin/authenticator.h"
#include "plugin/connection_registry.h"
#include "plugin/dedup_cache.h"
#include "plugin/log_queue.h"
#include "plugin/message_pipeline.h"
#include "plugin/rate_limiter.h"
#include "plugin/shipper.h"
#include "plugin/spool.h"
#include "plugin/user_directory.h"

namespace mqchat {
namespace {

// Where retried messages go: acknowledged like any other, delivered to nobody.
constexpr char kDuplicateSink[] = "$mqchat/duplicates";

struct Plugin {
  explicit Plugin(Config c)
      : config(std::move(c)),
        directory(config.database_dsn, config.spool_dir + "/users.cache", config.directory_refresh_ms, log),
        auth(config.service_accounts, directory, config.jwt),
        spool(config.spool_dir, config.fsync, config.fsync_interval_ms, config.segment_bytes),
        dedup(config.dedup_window_s, config.dedup_max_entries),
        pipeline(config.limits, spool, dedup),
        shipper(config, spool, directory, log),
        rate(config.user_limits.messages_per_second, config.user_limits.message_burst) {}

  mosquitto_plugin_id_t* id = nullptr;
  Config config;
  LogQueue log;
  UserDirectory directory;
  Authenticator auth;
  SpoolWriter spool;
  DedupCache dedup;
  MessagePipeline pipeline;
  Shipper shipper;
  ConnectionRegistry connections;
  RateLimiter rate;
};

int mosquitto_level(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return MOSQ_LOG_ERR;
    case LogLevel::Warning: return MOSQ_LOG_WARNING;
    case LogLevel::Notice: return MOSQ_LOG_NOTICE;
    case LogLevel::Info: return MOSQ_LOG_INFO;
    default: return MOSQ_LOG_DEBUG;
  }
}

void drain_log(Plugin& p) {
  size_t dropped = 0;
  for (const auto& [level, line] : p.log.drain(dropped)) mosquitto_log_printf(mosquitto_level(level), "%s", line.c_str());
  if (dropped) mosquitto_log_printf(MOSQ_LOG_WARNING, "mqchat: %zu log lines dropped", dropped);
}

std::string str(const char* s) { return s ? s : ""; }

void publish_presence(const std::string& username, const char* status) {
  const std::string topic = user_topic(username, "presence");
  const std::string payload =
      std::string(R"({"status":")") + status + R"(","since":")" + rfc3339_utc(now_unix_us()) + "\"}";
  mosquitto_broker_publish_copy(nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, true,
                                nullptr);
}

// users/<me>/errors: why a publish (or, with an empty topic, a connection) was refused.
void publish_error(const std::string& username, const std::string& topic, const ValidationError& error) {
  nlohmann::json report = {{"topic", topic.empty() ? nlohmann::json() : nlohmann::json(topic)},
                           {"client_id", error.client_id.empty() ? nlohmann::json() : nlohmann::json(error.client_id)},
                           {"code", error.code},
                           {"reason", error.reason}};
  const std::string payload = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string error_topic = user_topic(username, "errors");
  mosquitto_broker_publish_copy(nullptr, error_topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1,
                                false, nullptr);
}

// The report for a refused or failed publish: the message's client_id (or request_id) so the
// publisher can match it.
ValidationError report_of(const PublishDecision& d) { return {d.error.code, d.error.reason, d.client_id}; }

// Hands `text` to the broker as the message's payload (the broker frees the old one).
bool replace_payload(mosquitto_evt_message* ev, const std::string& text) {
  auto* buf = static_cast<char*>(mosquitto_malloc(text.size() + 1));
  if (!buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  ev->payload = buf;
  ev->payloadlen = static_cast<uint32_t>(text.size());
  return true;
}

// The broker does not free the topic it hands us when we replace it.
bool replace_topic(mosquitto_evt_message* ev, const char* topic) {
  char* copy = mosquitto_strdup(topic);
  if (!copy) return false;
  mosquitto_free(ev->topic);
  ev->topic = copy;
  return true;
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_basic_auth*>(event_data);
  if (!ev->username || !ev->password) return MOSQ_ERR_AUTH;  // no anonymous clients
  std::string why;
  if (!p.auth.authenticate(ev->username, ev->password, &why)) {
    if (!why.empty()) mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: login of %s refused: %s", ev->username, why.c_str());
    return MOSQ_ERR_AUTH;
  }
  if (p.auth.is_service(ev->username)) return MOSQ_ERR_SUCCESS;
  const std::string client_id = str(mosquitto_client_id(ev->client));
  const uint32_t max_connections = p.config.user_limits.max_connections;
  if (max_connections && p.connections.others_of(ev->username, ev->client, client_id) >= int(max_connections)) {
    mosquitto_log_printf(MOSQ_LOG_NOTICE,
                         "mqchat: refused connection '%s' of %s: already %u connections "
                         "(limits.max_connections_per_user)",
                         client_id.c_str(), ev->username, max_connections);
    publish_error(ev->username, "",
                  {"too_many_connections",
                   "a new connection (client id '" + client_id + "') was refused: you already have " +
                       std::to_string(max_connections) + " connections, the limit",
                   ""});
    return MOSQ_ERR_AUTH;
  }
  if (p.connections.on_authenticated(ev->client, ev->username, client_id)) publish_presence(ev->username, "online");
  return MOSQ_ERR_SUCCESS;
}

int on_disconnect(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_disconnect*>(event_data);
  if (auto offline = p.connections.on_disconnect(ev->client)) publish_presence(*offline, "offline");
  return MOSQ_ERR_SUCCESS;
}

int on_acl_check(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_acl_check*>(event_data);
  const char* username = mosquitto_client_username(ev->client);
  if (!username || !ev->topic) return MOSQ_ERR_ACL_DENIED;
  const Principal who{username, p.auth.is_service(username)};
  if (!who.service && ev->access == kAccessWrite && p.connections.is_departing(ev->client))
    return MOSQ_ERR_ACL_DENIED;  // a will: it would bypass validation and the spool
  const auto users = p.directory.snapshot();
  const auto exists = [&users](std::string_view name) { return users->count(std::string(name)) > 0; };
  return is_allowed(who, ev->topic, ev->access, exists) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
}

int on_message(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_message*>(event_data);
  const char* username = mosquitto_client_username(ev->client);
  if (!username) return MOSQ_ERR_ACL_DENIED;
  const Principal who{username, p.auth.is_service(username)};
  const bool chat = std::strncmp(ev->topic, "chat/", 5) == 0;
  if (!who.service && chat && !p.rate.allow(username, now_unix_us())) {
    const auto& l = p.config.user_limits;
    publish_error(username, ev->topic,
                  {"rate_limited",
                   "more than " + std::to_string(l.message_burst) + " publishes at once or " +
                       std::to_string(l.messages_per_second) + " per second (limits.messages_per_second); slow down",
                   ""});
    return MOSQ_ERR_ACL_DENIED;
  }
  const std::string_view payload(static_cast<const char*>(ev->payload), ev->payloadlen);
  PublishDecision d = p.pipeline.on_publish(who, ev->topic, payload);

  if (!who.service && chat) ev->retain = false;  // chat is never retained

  switch (d.action) {
    case PublishDecision::Action::Pass:
      return MOSQ_ERR_SUCCESS;
    case PublishDecision::Action::Replace:
      return replace_payload(ev, d.payload) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    case PublishDecision::Action::Duplicate:
      // QoS 2: the same topic and payload let the broker recognise a retransmission of a
      // message it still holds. QoS 0/1: acknowledge, but deliver to nobody.
      if (ev->qos == 2) return replace_payload(ev, d.payload) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
      return replace_topic(ev, kDuplicateSink) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    case PublishDecision::Action::Refuse:
      publish_error(username, ev->topic, report_of(d));
      return MOSQ_ERR_ACL_DENIED;
    case PublishDecision::Action::Fail:
      // Not durable, so not acknowledged: dropping the connection makes a QoS 1/2 client resend.
      mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: spool write failed in %s; disconnecting %s so it retries",
                           p.config.spool_dir.c_str(), username);
      publish_error(username, ev->topic, report_of(d));
      return MOSQ_ERR_UNKNOWN;
  }
  return MOSQ_ERR_SUCCESS;
}

int on_tick(int, void*, void* userdata) {
  drain_log(*static_cast<Plugin*>(userdata));
  return MOSQ_ERR_SUCCESS;
}

struct Registration {
  int event;
  MOSQ_FUNC_generic_callback callback;
};
constexpr Registration kCallbacks[] = {
    {MOSQ_EVT_BASIC_AUTH, on_basic_auth}, {MOSQ_EVT_ACL_CHECK, on_acl_check}, {MOSQ_EVT_MESSAGE, on_message},
    {MOSQ_EVT_DISCONNECT, on_disconnect}, {MOSQ_EVT_TICK, on_tick},
};

}  // namespace
}  // namespace mqchat

using namespace mqchat;

// The module is built with hidden visibility; these three are what Mosquitto looks up.
#define MQCHAT_EXPORT __attribute__((visibility("default")))

extern "C" {

MQCHAT_EXPORT int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i)
    if (supported_versions[i] == 5) return 5;
  return -1;
}

MQCHAT_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** user_data, struct mosquitto_opt* opts,
                          int opt_count) {
  std::string config_path;
  Overrides overrides;
  for (int i = 0; i < opt_count; ++i) {
    if (std::strcmp(opts[i].key, "config") == 0) config_path = str(opts[i].value);
    else overrides.emplace_back(str(opts[i].key), str(opts[i].value));
  }
  std::unique_ptr<Plugin> plugin;
  try {
    if (config_path.empty()) throw ConfigError("config: plugin_opt_config <path to mqchat.yaml> is required");
    plugin = std::make_unique<Plugin>(load_config(config_path, overrides));
    plugin->spool.open();
    plugin->directory.start();
    plugin->shipper.start();
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: cannot start: %s", e.what());
    if (plugin) drain_log(*plugin);
    return MOSQ_ERR_INVAL;
  }
  plugin->id = identifier;
  for (const auto& r : kCallbacks) {
    if (mosquitto_callback_register(identifier, r.event, r.callback, nullptr, plugin.get()) != MOSQ_ERR_SUCCESS) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: cannot register callback for event %d", r.event);
      return MOSQ_ERR_INVAL;
    }
  }
  drain_log(*plugin);
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: plugin ready (spool %s, %zu service accounts)",
                       plugin->config.spool_dir.c_str(), plugin->config.service_accounts.size());
  *user_data = plugin.release();
  return MOSQ_ERR_SUCCESS;
}

MQCHAT_EXPORT int mosquitto_plugin_cleanup(void* user_data, struct mosquitto_opt*, int) {
  auto* plugin = static_cast<Plugin*>(user_data);
  if (!plugin) return MOSQ_ERR_SUCCESS;
  for (const auto& r : kCallbacks) mosquitto_callback_unregister(plugin->id, r.event, r.callback, nullptr);
  plugin->shipper.stop();
  plugin->directory.stop();
  plugin->spool.close();
  drain_log(*plugin);
  delete plugin;
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
