// Mosquitto 2.0 plugin entry points: the broker thread's side of mqchat. Every callback here is
// in-memory work plus, for accepted chat messages, one spool write; database I/O happens on the
// user directory's and the shipper's own threads.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>

#include <nlohmann/json.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics_http.h"
#include "common/room.h"
#include "plugin/access_policy.h"
#include "plugin/authenticator.h"
#include "plugin/broker_packet.h"
#include "plugin/callback_order.h"
#include "plugin/client_id_owners.h"
#include "plugin/connection_registry.h"
#include "plugin/dedup_cache.h"
#include "plugin/log_queue.h"
#include "plugin/message_pipeline.h"
#include "plugin/metrics.h"
#include "plugin/rate_limiter.h"
#include "plugin/security_mode.h"
#include "plugin/shipper.h"
#include "plugin/spool.h"
#include "plugin/state_file.h"
#include "plugin/sys_publisher.h"
#include "plugin/topic_handoff.h"
#include "plugin/user_directory.h"
#include "plugin/group_directory.h"

namespace mqchat {
namespace {

struct Plugin {
  // Reads the state files and the login key: plugin start, before any client connects.
  explicit Plugin(Config c)
      : config(std::move(c)),
        directory(config.database_dsn, config.spool_dir + "/users.cache", config.directory_refresh_ms, log),
        groups(config.database_dsn, config.directory_refresh_ms, log),
        owners_file(config.spool_dir + "/client_ids", config.sessions.max_ids, log),
        logins_file(config.spool_dir + "/logins", 200000, log),
        login_key(Authenticator::load_or_create_key(config.spool_dir + "/login.key")),
        auth(config.service_accounts, directory, config.jwt, config.logins, &logins_file,
             logins_file.load_and_start(), &login_key),
        owners(config.sessions),
        spool(config.spool_dir, config.fsync, config.fsync_interval_ms, config.segment_bytes),
        dedup(config.dedup_window_s, config.dedup_max_entries),
        pipeline(config.limits, spool, dedup),
        shipper(config, spool, directory, log),
        rate(config.user_limits.messages_per_second, config.user_limits.message_burst),
        reports(config.error_reports_per_second, config.error_report_burst) {
    owners.load(owners_file.load_and_start(), now_unix_us() / 1000000);
  }

  mosquitto_plugin_id_t* id = nullptr;
  Config config;
  SecurityMode mode;  // chosen at start (plugin/security_mode.h)
  LogQueue log;
  UserDirectory directory;
  GroupDirectory groups;  // group rooms' members (plugin/group_directory.h)
  StateFile owners_file, logins_file;
  Authenticator::Key login_key;
  Authenticator auth;
  ClientIdOwners owners;
  SpoolWriter spool;
  DedupCache dedup;
  MessagePipeline pipeline;
  PublishDecision decision;  // reused for every publish: its strings keep their capacity
  TopicHandoff handoff;      // the WRITE check's parse of a chat topic, for the MESSAGE event
  Shipper shipper;
  ConnectionRegistry connections;
  RateLimiter rate;
  RateLimiter reports;  // error reports per user: a refusal cannot be turned into a flood
  SysPublisher sys{plugin_metrics.registry, config.metrics.sys_interval_s};
  std::unique_ptr<metrics::HttpExporter> exporter;  // Prometheus text, on its own thread
  bool warned_no_packet_ids = false;
  const size_t smallest_publish_limit =
      std::min({config.limits.max_payload_bytes, config.limits.max_typing_bytes, config.limits.max_request_bytes,
                config.limits.max_other_bytes});
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
  if (p.log.idle()) return;
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

// users/<me>/errors: why a publish (or, with an empty topic, a connection) was refused. At most
// limits.error_reports_per_second per user (after a burst); the rest are dropped.
void publish_error(Plugin& p, const std::string& username, const std::string& topic, const ValidationError& error) {
  plugin_metrics.refused(topic.empty(), error.code);  // every refusal comes here, reported or not
  if (!p.reports.allow(username, now_unix_us())) return;
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

// A retried QoS 0/1 message is acknowledged but delivered to nobody: its payload becomes empty,
// which the READ check never lets through on a messages topic (a stored message is never empty).
// The topic is left alone: 2.0.11 does not free a replaced topic and 2.0.15+ does, so replacing
// it is a leak on one and a double free on the other.
bool is_empty_message_delivery(const mosquitto_evt_acl_check* ev) {
  if (ev->payloadlen != 0 || std::strncmp(ev->topic, "chat/", 5) != 0) return false;
  const size_t n = std::strlen(ev->topic);
  return n > 9 && std::strcmp(ev->topic + n - 9, "/messages") == 0;
}

// The MQTT 5 response topic of a publish, if any (read with libmosquitto: the broker does not
// export property readers).
std::optional<std::string> response_topic_of(const mosquitto_property* props) {
  char* value = nullptr;
  if (!props || !mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &value, false) || !value)
    return std::nullopt;
  std::string topic(value);
  free(value);  // allocated by libmosquitto with malloc
  return topic;
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_basic_auth*>(event_data);
  const std::string client_id = str(mosquitto_client_id(ev->client));
  // Coexist: someone else's login (or an anonymous one) is for the broker's other security to
  // decide, but never with a client id an mqchat user or service owns: that would take over
  // their session and its queued messages.
  if (p.mode.coexist && (!ev->username || !p.auth.owns(ev->username))) {
    if (p.owners.is_reserved(client_id) || p.owners.owner_of(client_id)) {
      mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: refused connection of %s with client id '%s': it belongs to mqchat",
                           ev->username ? ev->username : "an anonymous client", client_id.c_str());
      return MOSQ_ERR_AUTH;
    }
    return MOSQ_ERR_PLUGIN_DEFER;
  }
  if (!ev->username || !ev->password) return MOSQ_ERR_AUTH;  // no anonymous clients
  std::string why;
  const bool authenticated =
      p.auth.authenticate(ev->username, ev->password, {str(mosquitto_client_address(ev->client)), client_id}, &why);
  (authenticated ? plugin_metrics.logins_ok : plugin_metrics.logins_refused).inc();
  if (!authenticated) {
    if (!why.empty()) mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: login of %s refused: %s", ev->username, why.c_str());
    return MOSQ_ERR_AUTH;
  }
  const bool service = p.auth.is_service(ev->username);
  // Before Mosquitto's takeover (which runs after basic auth): another user's id is refused.
  ClientIdOwners::Changes changes;
  const auto verdict = p.owners.claim(ev->username, service, client_id, now_unix_us() / 1000000, changes);
  for (auto& [key, value] : changes) p.owners_file.put(std::move(key), std::move(value));
  if (verdict != ClientIdOwners::Verdict::Ok) {
    const bool reserved = verdict == ClientIdOwners::Verdict::Reserved;
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: refused connection of %s with client id '%s': %s", ev->username,
                         client_id.c_str(),
                         reserved ? "reserved for service accounts (sessions.reserved_client_id_prefixes)"
                                  : ("it belongs to " + p.owners.owner_of(client_id).value_or("?")).c_str());
    publish_error(p, ev->username, "",
                  {reserved ? "client_id_reserved" : "client_id_taken",
                   "client id '" + client_id + "' " +
                       (reserved ? "is reserved for the server's own services"
                                 : "belongs to another user; connect with your own (a random one is best)"),
                   ""});
    return MOSQ_ERR_AUTH;
  }
  if (service) {
    plugin_metrics.connected(ev->client, mosquitto_client_protocol(ev->client));
    return MOSQ_ERR_SUCCESS;
  }
  const uint32_t max_connections = p.config.user_limits.max_connections;
  if (max_connections && p.connections.others_of(ev->username, ev->client, client_id) >= int(max_connections)) {
    mosquitto_log_printf(MOSQ_LOG_NOTICE,
                         "mqchat: refused connection '%s' of %s: already %u connections "
                         "(limits.max_connections_per_user)",
                         client_id.c_str(), ev->username, max_connections);
    publish_error(p, ev->username, "",
                  {"too_many_connections",
                   "a new connection (client id '" + client_id + "') was refused: you already have " +
                       std::to_string(max_connections) + " connections, the limit",
                   ""});
    return MOSQ_ERR_AUTH;
  }
  if (p.connections.on_authenticated(ev->client, ev->username, client_id)) publish_presence(ev->username, "online");
  plugin_metrics.connected(ev->client, mosquitto_client_protocol(ev->client));
  return MOSQ_ERR_SUCCESS;
}

int on_disconnect(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_disconnect*>(event_data);
  plugin_metrics.disconnected(ev->client);
  if (auto offline = p.connections.on_disconnect(ev->client)) publish_presence(*offline, "offline");
  return MOSQ_ERR_SUCCESS;
}

// mqchat's rules for its own users and services (exclusive mode: for everyone, on every topic).
// `users`: the directory snapshot, when the caller already holds one.
int own_acl_check(Plugin& p, mosquitto_evt_acl_check* ev, const char* username, const Principal& who,
                  const UserTable* users = nullptr) {
  if (who.service) return MOSQ_ERR_SUCCESS;
  if (ev->access == kAccessRead && is_empty_message_delivery(ev)) return MOSQ_ERR_ACL_DENIED;  // a retry
  const bool write = ev->access == kAccessWrite;
  if (write && p.connections.is_departing(ev->client))
    return MOSQ_ERR_ACL_DENIED;  // a will: it would bypass validation and the spool
  const UserExists exists(users ? *users : p.directory.broker_view());
  const std::string_view topic(ev->topic);
  std::optional<ChatTopic> parsed;  // a WRITE's chat topic, kept for the MESSAGE event if allowed
  if (!is_allowed(who, topic, ev->access, exists, &p.groups, write ? &parsed : nullptr)) {
    if (write) publish_error(p, username, ev->topic, explain_write_refusal(who, ev->topic, exists, &p.groups));
    return MOSQ_ERR_ACL_DENIED;
  }
  // Sizes per topic kind, before the broker queues anything (most payloads are under every limit).
  if (write && ev->payloadlen > p.smallest_publish_limit) {
    if (const size_t limit = max_publish_bytes(ev->topic, p.config.limits); ev->payloadlen > limit) {
      publish_error(p, username, ev->topic,
                    {"payload_too_large",
                     "payload has " + std::to_string(ev->payloadlen) + " bytes; the limit for this topic is " +
                         std::to_string(limit),
                     ""});
      return MOSQ_ERR_ACL_DENIED;
    }
  }
  if (ev->access == kAccessRead) plugin_metrics.delivered(topic);
  if (parsed) p.handoff.keep(ev->client, ev->topic, *parsed);
  return MOSQ_ERR_SUCCESS;
}

// Coexist mode: the table of coexist_verdict (plugin/access_policy.h), with mqchat users inside
// chat/ and users/ checked by own_acl_check exactly as in exclusive mode.
int coexist_acl_check(Plugin& p, mosquitto_evt_acl_check* ev) {
  if (!ev->topic) return MOSQ_ERR_ACL_DENIED;
  const TopicScope scope = topic_scope(ev->topic);
  // Everyone else's traffic costs a prefix test: outside chat/ and users/ the other security decides.
  if (scope == TopicScope::Other && p.mode.others_decide_access) return MOSQ_ERR_PLUGIN_DEFER;
  const char* username = mosquitto_client_username(ev->client);
  const UserTable* users = &p.directory.broker_view();
  const UserExists exists(*users);
  const Member member = !username                        ? Member::Other
                        : p.auth.is_service(username)    ? Member::Service
                        : exists(username)               ? Member::User
                                                         : Member::Other;
  // Only a connection the plugin authenticated acts as an mqchat user where chat can be reached
  // (another mechanism, e.g. a certificate's CN, may name a client after a profile).
  const bool here = member != Member::User || !p.connections.is_departing(ev->client);
  if (member == Member::User && scope == TopicScope::Ours) {
    if (ev->access == kAccessSubscribe && !here) return MOSQ_ERR_ACL_DENIED;
    return own_acl_check(p, ev, username, Principal{username, false}, users);
  }
  switch (coexist_verdict({member, here, p.mode.others_decide_access}, username ? username : "", ev->topic,
                          ev->access, exists, &p.groups)) {
    case Verdict::Allow: return MOSQ_ERR_SUCCESS;
    case Verdict::Defer: return MOSQ_ERR_PLUGIN_DEFER;
    case Verdict::Deny: break;
  }
  return MOSQ_ERR_ACL_DENIED;
}

int on_acl_check(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_acl_check*>(event_data);
  p.handoff.forget();  // only a WRITE check that allows, just before its MESSAGE event, keeps one
  if (p.mode.coexist) return coexist_acl_check(p, ev);
  const char* username = mosquitto_client_username(ev->client);
  if (!username || !ev->topic) return MOSQ_ERR_ACL_DENIED;
  const std::string_view name(username);
  return own_acl_check(p, ev, username, Principal{name, p.auth.is_service(name)});
}

int on_message(int, void* event_data, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_message*>(event_data);
  std::optional<ChatTopic> chat_topic = p.handoff.take(ev->client, ev->topic);
  // Coexist: others' messages pass untouched (no validation, no spool). Inside chat/ and users/
  // only an mqchat connection the plugin authenticated publishes, even if a mechanism asked
  // before mqchat's ACL check had let it through.
  if (p.mode.coexist && topic_scope(ev->topic) != TopicScope::Ours) return MOSQ_ERR_SUCCESS;
  const char* username = mosquitto_client_username(ev->client);
  if (!username) return MOSQ_ERR_ACL_DENIED;
  if (p.mode.coexist && !p.auth.is_service(username) && p.connections.is_departing(ev->client))
    return MOSQ_ERR_ACL_DENIED;
  const std::string_view name(username), topic(ev->topic);
  const Principal who{name, p.auth.is_service(name)};
  const bool chat = topic.substr(0, 5) == "chat/";
  if (!chat_topic && chat && !who.service) chat_topic = parse_chat_topic(topic);
  const bool user_request = !who.service && !chat && parse_user_request_topic(topic).has_value();
  const int64_t now_us = now_unix_us();  // one clock read for the rate limit and the message's time
  if (!who.service && (chat || user_request) && !p.rate.allow(name, now_us)) {
    const auto& l = p.config.user_limits;
    publish_error(p, username, ev->topic,
                  {"rate_limited",
                   "more than " + std::to_string(l.message_burst) + " publishes at once or " +
                       std::to_string(l.messages_per_second) + " per second (limits.messages_per_second); slow down",
                   ""});
    return MOSQ_ERR_ACL_DENIED;
  }
  const std::string_view payload(static_cast<const char*>(ev->payload), ev->payloadlen);
  PublishOrigin origin;
  origin.received_us = now_us;
  if (!who.service && chat && ev->qos == 2) {
    origin.qos = 2;
    const char* mqtt_client_id = mosquitto_client_id(ev->client);
    origin.mqtt_client_id = mqtt_client_id ? mqtt_client_id : "";
    origin.header = peek_publish_header(ev->client, mosquitto_client_address(ev->client), mosquitto_client_id(ev->client),
                                        username, ev->topic, ev->qos);
    if (!origin.header && !p.warned_no_packet_ids) {
      p.warned_no_packet_ids = true;
      mosquitto_log_printf(MOSQ_LOG_WARNING,
                           "mqchat: cannot read a QoS 2 PUBLISH's packet id from this broker build; QoS 2 "
                           "retransmissions without a client_id may be stored twice (see docs/DESIGN.md)");
    }
  }
  // A reply may only go where nobody but the requester reads (not presence, not retained state).
  if (ev->properties && !who.service &&
      ((chat_topic && is_request_channel(chat_topic->channel)) || user_request)) {
    if (const auto reply_to = response_topic_of(ev->properties); reply_to && !is_private_reply_topic(*reply_to, who.username)) {
      publish_error(p, username, ev->topic,
                    {"bad_response_topic",
                     "the response topic must be under users/" + std::string(username) +
                         "/ and only yours to read (not presence or conversations): " + *reply_to,
                     ""});
      return MOSQ_ERR_ACL_DENIED;
    }
  }
  PublishDecision& d = p.decision;
  p.pipeline.decide(who, topic, chat_topic, payload, origin, d);

  if (!who.service && (chat || user_request)) ev->retain = false;  // chat and requests are never retained

  switch (d.action) {
    case PublishDecision::Action::Pass:
      return MOSQ_ERR_SUCCESS;
    case PublishDecision::Action::Replace:
      return replace_payload(ev, d.payload) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    case PublishDecision::Action::Duplicate:
      // QoS 2: the same topic and payload let the broker recognise a retransmission of a
      // message it still holds. QoS 0/1: acknowledge, but deliver to nobody (empty payload).
      plugin_metrics.duplicates.inc();
      return replace_payload(ev, ev->qos == 2 ? d.payload : std::string()) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NOMEM;
    case PublishDecision::Action::Refuse:
      publish_error(p, username, ev->topic, report_of(d));
      return MOSQ_ERR_ACL_DENIED;
    case PublishDecision::Action::Fail:
      // Not durable, so not acknowledged: dropping the connection makes a QoS 1/2 client resend.
      mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: spool write failed in %s; disconnecting %s so it retries",
                           p.config.spool_dir.c_str(), username);
      publish_error(p, username, ev->topic, report_of(d));
      return MOSQ_ERR_UNKNOWN;
  }
  return MOSQ_ERR_SUCCESS;
}

int on_tick(int, void*, void* userdata) {
  auto& p = *static_cast<Plugin*>(userdata);
  drain_log(p);
  // time(): a vDSO read of the current second, the cheapest clock for a check made every tick.
  if (const int64_t now = std::time(nullptr); p.sys.due(now)) {
    for (const auto& [topic, value] : p.sys.round(now))
      mosquitto_broker_publish_copy(nullptr, topic.c_str(), int(value.size()), value.data(), 0, true, nullptr);
  }
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
    // An address inside this module: an exported name may resolve to another plugin's (Mosquitto
    // loads plugins RTLD_GLOBAL).
    Dl_info self{};
    dladdr(reinterpret_cast<const void*>(&on_tick), &self);
    plugin->mode = choose_mode(plugin->config.mode, scan_running_broker(self.dli_fname ? self.dli_fname : ""));
    plugin->spool.open();
    plugin->directory.start();
    plugin->groups.start();
    plugin->shipper.start();
    if (const auto& m = plugin->config.metrics; m.port) {
      try {
        plugin->exporter = std::make_unique<metrics::HttpExporter>(plugin_metrics.registry, m.bind, int(m.port));
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: metrics on http://%s:%d/metrics", m.bind.c_str(),
                             plugin->exporter->port());
      } catch (const std::exception& e) {  // metrics are not worth refusing chat for
        mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: no metrics endpoint: %s", e.what());
      }
    }
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
  // mqchat's checks must come before any other plugin's (plugin/callback_order.h).
  const CallbackOrder order = put_own_callbacks_first(identifier, reinterpret_cast<const void*>(&on_tick));
  for (const auto& moved : order.moved)
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: %s now runs after mqchat's checks", moved.c_str());
  if (!order.unknown.empty()) {
    for (const auto& library : order.unknown)
      mosquitto_log_printf(MOSQ_LOG_ERR,
                           "mqchat: cannot start: the plugin %s is loaded before mqchat, so its login and access "
                           "checks would run first and could open chat/ and users/; list mqchat's `plugin` line "
                           "before it in mosquitto.conf",
                           library.c_str());
    mosquitto_plugin_cleanup(plugin.release(), nullptr, 0);
    return MOSQ_ERR_INVAL;
  }
  drain_log(*plugin);
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: %s mode: %s", plugin->mode.coexist ? "coexist" : "exclusive",
                       plugin->mode.why.c_str());
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
  plugin->groups.stop();
  plugin->directory.stop();
  plugin->owners_file.stop();
  plugin->logins_file.stop();
  plugin->spool.close();
  drain_log(*plugin);
  delete plugin;
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
