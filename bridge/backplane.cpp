#include "bridge/backplane.h"

#include <mqtt_protocol.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "bridge/log.h"
#include "common/clock.h"
#include "common/json_scan.h"
#include "common/room.h"

namespace mqchat::bridge {

using namespace std::chrono_literals;

namespace {
// Each node appends what it forwards to a stream of its own, read by the other nodes only: a
// reader never wakes for, receives or skips its own node's entries (with one shared stream, every
// entry woke every reader and the origin's threw it away). Entries every node must inject, the
// writer's included (a dead node's users going offline), go to the shared stream, which every
// reader reads (bridges from before per-node streams wrote everything there).
const std::string kSharedStream = "mqchat:bp";
const std::string kNodeStreamPrefix = "mqchat:bp:";  // + node id
const std::string kRetained = "mqchat:retained";  // topic → payload of every retained forward
const std::string kNodes = "mqchat:nodes";
constexpr size_t kQueueMax = 200000;       // items waiting for Redis; beyond, dropped and counted
constexpr size_t kBatch = 500;
constexpr long kUnackedMax = 10000;      // injected, not yet acknowledged by the local broker
constexpr int kHeartbeatTtlMs = 10000;     // > a Sentinel failover, so a failover reaps nobody
constexpr auto kHeartbeatEvery = 1s;
const char* kStreamMaxLen = "200000";

// Which nodes hold a user, kept atomically with the answer "how many live nodes still do".
const char* kPresenceScript = R"(
local pk = 'mqchat:presence:' .. ARGV[2]
local nk = 'mqchat:node-users:' .. ARGV[1]
if ARGV[3] == '1' then redis.call('SADD', pk, ARGV[1]); redis.call('SADD', nk, ARGV[2])
else redis.call('SREM', pk, ARGV[1]); redis.call('SREM', nk, ARGV[2]) end
local live = 0
for _, n in ipairs(redis.call('SMEMBERS', pk)) do
  if redis.call('EXISTS', 'mqchat:node:' .. n) == 1 then live = live + 1 end
end
return live)";

// How many live nodes hold a user now (read only).
const char* kLiveScript = R"(
local live = 0
for _, n in ipairs(redis.call('SMEMBERS', 'mqchat:presence:' .. ARGV[1])) do
  if redis.call('EXISTS', 'mqchat:node:' .. n) == 1 then live = live + 1 end
end
return live)";

// A dead (or restarted: force) node's users leave; returns those no live node holds any more.
// Atomic, so of two nodes reaping the same dead one, one gets the list and the other nothing.
const char* kReapScript = R"(
if ARGV[2] ~= '1' and redis.call('EXISTS', 'mqchat:node:' .. ARGV[1]) == 1 then return {} end
local nk = 'mqchat:node-users:' .. ARGV[1]
local users = redis.call('SMEMBERS', nk)
redis.call('DEL', nk)
if ARGV[2] ~= '1' then redis.call('SREM', 'mqchat:nodes', ARGV[1]) end
local gone = {}
for _, u in ipairs(users) do
  local pk = 'mqchat:presence:' .. u
  redis.call('SREM', pk, ARGV[1])
  local live = 0
  for _, n in ipairs(redis.call('SMEMBERS', pk)) do
    if redis.call('EXISTS', 'mqchat:node:' .. n) == 1 then live = live + 1 end
  end
  if live == 0 then table.insert(gone, u) end
end
return gone)";

std::string random_boot_id() {
  std::random_device rd;
  char buf[17];
  snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

bool is_error(const Reply& r) { return !r || r->type == REDIS_REPLY_ERROR; }

std::string str_of(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string(r->str, r->len) : "";
}

// A stream entry [id, [field, value, ...]] → BackplaneEntry.
BackplaneEntry parse_entry(const redisReply* fields) {
  BackplaneEntry e;
  bool bad = false;
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    const std::string k = str_of(fields->element[i]);
    std::string v = str_of(fields->element[i + 1]);
    if (k == "h") bad = !backplane_rules::decode_header(v, e);
    else if (k == "o") e.origin = std::move(v);
    else if (k == "a") e.all = v == "1";
    else if (k == "b") e.boot = std::move(v);
    else if (k == "s") e.seq = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "t") e.topic = std::move(v);
    else if (k == "p") e.payload = std::move(v);
    else if (k == "r") e.retained = v == "1";
    else if (k == "q") e.qos = v == "0" ? 0 : 1;
  }
  if (bad) e.topic.clear();  // skipped by the reader
  return e;
}
}  // namespace

namespace backplane_rules {
std::string encode_header(const BackplaneEntry& e) {
  std::string h;
  h.reserve(e.origin.size() + e.boot.size() + 32);
  h += e.origin;
  h += '\x1f';
  h += e.all ? '1' : '0';
  h += '\x1f';
  h += e.boot;
  h += '\x1f';
  h += std::to_string(e.seq);
  h += '\x1f';
  h += e.retained ? '1' : '0';
  h += '\x1f';
  h += e.qos == 0 ? '0' : '1';
  return h;
}

bool decode_header(const std::string& h, BackplaneEntry& e) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t sep; (sep = h.find('\x1f', start)) != std::string::npos; start = sep + 1) parts.push_back(h.substr(start, sep - start));
  parts.push_back(h.substr(start));
  if (parts.size() != 6 || parts[0].empty() || parts[3].empty() ||
      parts[3].find_first_not_of("0123456789") != std::string::npos)
    return false;
  e.origin = parts[0];
  e.all = parts[1] == "1";
  e.boot = parts[2];
  e.seq = std::strtoull(parts[3].c_str(), nullptr, 10);
  e.retained = parts[4] == "1";
  e.qos = parts[5] == "0" ? 0 : 1;
  return true;
}

const std::vector<std::string>& routed_filters() {
  static const std::vector<std::string> f = {"chat/+/messages", "chat/+/typing", "chat/+/events", "users/+/#"};
  return f;
}

int injected_qos(const std::string& topic) {
  static const std::string suffix = "/typing";
  const bool typing = topic.compare(0, 5, "chat/") == 0 && topic.size() >= 5 + suffix.size() &&
                      topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) == 0;
  return typing ? 0 : 1;
}

std::optional<std::string> presence_user(const std::string& topic) {
  static const std::string prefix = "users/", suffix = "/presence";
  if (topic.size() <= prefix.size() + suffix.size() || topic.compare(0, prefix.size(), prefix) != 0 ||
      topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  std::string user = topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
  if (!is_valid_username(user)) return std::nullopt;
  return user;
}

std::optional<bool> presence_online(const std::string& payload) {
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) return std::nullopt;
  const auto s = j["status"].get<std::string>();
  if (s == "online") return true;
  if (s == "offline") return false;
  return std::nullopt;
}

bool is_retry_marker(const std::string& topic, const std::string& payload) {
  static const std::string suffix = "/messages";
  return payload.empty() && topic.compare(0, 5, "chat/") == 0 && topic.size() > suffix.size() &&
         topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::optional<std::string> retry_key(const std::string& topic, const std::string& payload) {
  static const std::string suffix = "/messages";
  if (topic.compare(0, 5, "chat/") != 0 || topic.size() <= 5 + suffix.size() ||
      topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) != 0 ||
      payload.find("\"client_id\":\"") == std::string::npos)
    return std::nullopt;  // most messages: no parse
  // Two members of every forwarded message, twice per message and node: no DOM.
  static constexpr std::string_view kMembers[] = {"sender", "client_id"};
  JsonMember m[2];
  if (!scan_json_members(payload, kMembers, m, 2) || !m[0].is_string() || !m[1].is_string()) return std::nullopt;
  std::string key = topic;
  key += '\0';
  key += m[0].text();
  key += '\0';
  key += m[1].text();
  return key;
}
bool RecentKeys::seen_or_add(const std::string& key, int64_t now_s) {
  while (!order_.empty() && (order_.front().first <= now_s - window_s_ || order_.size() > max_)) {
    const auto it = at_.find(order_.front().second);
    if (it != at_.end() && it->second == order_.front().first) at_.erase(it);
    order_.pop_front();
  }
  const auto it = at_.find(key);
  if (it != at_.end() && it->second > now_s - window_s_) return true;
  at_[key] = now_s;
  order_.emplace_back(now_s, key);
  return false;
}

namespace {
std::string dedup_key(const std::string& stream, const std::string& origin, const std::string& boot) {
  return stream + '\x1f' + origin + '\x1f' + boot;
}
}  // namespace

bool Dedup::is_new(const std::string& stream, const std::string& origin, const std::string& boot, uint64_t seq) const {
  const auto it = highest_.find(dedup_key(stream, origin, boot));
  return it == highest_.end() || seq > it->second;
}

void Dedup::record(const std::string& stream, const std::string& origin, const std::string& boot, uint64_t seq) {
  auto& high = highest_[dedup_key(stream, origin, boot)];
  high = std::max(high, seq);
}
}  // namespace backplane_rules

Backplane::Backplane(const Options& options)
    : options_(options),
      boot_(random_boot_id()),
      client_id_(options.client_id + "-bp-" + options.node_id),
      own_stream_(kNodeStreamPrefix + options.node_id) {
  mosquitto_lib_init();
  // Clean session: the link only drops when the local broker does, and then its clients are gone.
  mosq_ = mosquitto_new(client_id_.c_str(), true, this);
  if (!mosq_) throw std::runtime_error("backplane: mosquitto_new failed");
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);  // small packets both ways: no Nagle wait
  mosquitto_username_pw_set(mosq_, options_.username.c_str(), options_.password.c_str());
  mosquitto_reconnect_delay_set(mosq_, 1, 2, false);
  mosquitto_connect_v5_callback_set(mosq_, &Backplane::on_connect);
  mosquitto_disconnect_v5_callback_set(mosq_, &Backplane::on_disconnect);
  mosquitto_message_v5_callback_set(mosq_, &Backplane::on_message);
  mosquitto_publish_v5_callback_set(mosq_, &Backplane::on_publish);
}

Backplane::~Backplane() {
  stop();
  if (mosq_) mosquitto_destroy(mosq_);
}

void Backplane::on_connect(struct mosquitto* m, void* self_, int rc, int, const mosquitto_property*) {
  auto* self = static_cast<Backplane*>(self_);
  if (rc != 0) {
    log("backplane: the local broker refused the connection (", mosquitto_reason_string(rc), ")");
    return;
  }
  log("backplane: connected to the local broker as ", self->client_id_);
  self->awaiting_uptime_ = true;
  self->unacked_ = 0;
  self->mqtt_up_ = true;
  // The broker's uptime first (retained: it arrives at once) tells a restarted broker from a
  // reconnect; then every routed topic, no-local (loop-free), retain-as-published, no retained
  // replay (the cluster's retained state comes from Redis on a restart instead).
  // QoS 0: this clean session loses what is in flight when it drops whatever the QoS, so QoS 1
  // bought nothing here but a PUBACK per message and the broker's inflight window (200), beyond
  // which it queued and then dropped ("Outgoing messages are being dropped") at 5,000 msg/s. A
  // QoS 0 copy goes straight to the socket. The QoS of the injected copy is the topic's
  // (backplane_rules::injected_qos), not the one this subscription delivers.
  mosquitto_subscribe_v5(m, nullptr, "$SYS/broker/uptime", 0, 0, nullptr);
  const int opts = MQTT_SUB_OPT_NO_LOCAL | MQTT_SUB_OPT_RETAIN_AS_PUBLISHED | MQTT_SUB_OPT_SEND_RETAIN_NEVER;
  for (const auto& filter : backplane_rules::routed_filters())
    if (const int e = mosquitto_subscribe_v5(m, nullptr, filter.c_str(), 0, opts, nullptr); e != MOSQ_ERR_SUCCESS)
      log("backplane: subscribing to ", filter, " failed (", mosquitto_strerror(e), ")");
}

void Backplane::on_disconnect(struct mosquitto*, void* self_, int rc, const mosquitto_property*) {
  auto* self = static_cast<Backplane*>(self_);
  self->mqtt_up_ = false;
  if (!self->stop_) log("backplane: lost the local broker (", mosquitto_reason_string(rc), "); reconnecting");
}

void Backplane::on_publish(struct mosquitto*, void* self_, int, int, const mosquitto_property*) {
  --static_cast<Backplane*>(self_)->unacked_;
}

void Backplane::on_message(struct mosquitto*, void* self_, const struct mosquitto_message* m, const mosquitto_property*) {
  static_cast<Backplane*>(self_)->on_local_message(
      m->topic, std::string(static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen)), m->retain);
}

void Backplane::connect_loop() {
  for (int attempt = 0; !stop_; ++attempt) {
    const int rc = mosquitto_connect(mosq_, options_.mqtt_host.c_str(), options_.mqtt_port, 10);
    if (rc == MOSQ_ERR_SUCCESS) {
      mosquitto_loop_start(mosq_);  // reconnects by itself from now on
      return;
    }
    if (attempt % 20 == 0) log("backplane: cannot reach the local broker (", mosquitto_strerror(rc), "), retrying");
    std::this_thread::sleep_for(250ms);
  }
}

void Backplane::start() {
  log("backplane: node ", options_.node_id, " (boot ", boot_, "), Redis ",
      options_.backplane_sentinels.empty() ? options_.backplane_redis : "via Sentinel " + options_.backplane_sentinels);
  writer_ = std::thread([this] { write_loop(); });
  reader_ = std::thread([this] { read_loop(); });
  stats_ = std::thread([this] { stats_loop(); });
  connector_ = std::thread([this] { connect_loop(); });
}

void Backplane::stop() {
  if (stop_.exchange(true)) return;
  cv_.notify_all();
  for (auto* t : {&writer_, &reader_, &stats_, &connector_})
    if (t->joinable()) t->join();
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, false);
}

bool Backplane::first_copy(const std::string& topic, const std::string& payload, std::string* added) {
  const auto key = backplane_rules::retry_key(topic, payload);
  if (!key) return true;
  std::lock_guard<std::mutex> lock(recent_mu_);
  if (!recent_.seen_or_add(*key, now_unix_us() / 1000000)) {
    if (added) *added = *key;
    return true;
  }
  ++second_copies_;
  return false;
}

void Backplane::push(Item item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kQueueMax && item.kind == Item::Kind::Forward) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(item));
  }
  cv_.notify_one();
}

void Backplane::on_local_message(const std::string& topic, std::string payload, bool retained) {
  if (topic == "$SYS/broker/uptime") {
    // A broker that restarted has a smaller uptime than the last one seen: its connections are
    // all new, so this node's share of presence starts over and the retained state is replayed.
    const long uptime = std::strtol(payload.c_str(), nullptr, 10);
    if (awaiting_uptime_.exchange(false) && (last_uptime_s_ < 0 || uptime < last_uptime_s_)) {
      log("backplane: the local broker (re)started (uptime ", uptime, " s): resetting this node's presence");
      push(Item{Item::Kind::Reset, {}, {}, false, 0, 0});
    }
    last_uptime_s_ = uptime;
    return;
  }
  // The plugin acknowledges a retried message (same client_id) with an empty payload that no user
  // may read; only service accounts see it. It is nobody's message: not forwarded.
  if (backplane_rules::is_retry_marker(topic, payload)) return;
  // A retry of a message another node published first (and this node injected): the local
  // subscribers have it twice already, the other nodes need not.
  if (!first_copy(topic, payload)) return;
  Item item{Item::Kind::Forward, topic, std::move(payload), retained, backplane_rules::injected_qos(topic), 0};
  if (backplane_rules::presence_user(topic)) item.kind = Item::Kind::Presence;
  push(std::move(item));
}

std::vector<std::string> Backplane::xadd_args(const Item& item, bool all) const {
  BackplaneEntry h;
  h.origin = options_.node_id;
  h.all = all;
  h.boot = boot_;
  h.seq = item.seq;
  h.retained = item.retained;
  h.qos = item.qos;
  return {"XADD", all ? kSharedStream : own_stream_, "MAXLEN", "~", kStreamMaxLen, "*", "h", backplane_rules::encode_header(h),
          "t",    item.topic, "p", item.payload};
}

std::string Backplane::now_presence(const char* status) {
  return std::string(R"({"status":")") + status + R"(","since":")" + rfc3339_utc(now_unix_us()) + "\"}";
}

// Forwards: one pipeline of XADDs (+ the retained copies). On a connection error nothing is
// confirmed and the batch is sent again with the same sequence numbers; readers skip the repeats.
bool Backplane::write_batch(RedisLink& redis, std::deque<Item>& batch) {
  std::vector<std::vector<std::string>> cmds;
  for (auto& item : batch) {
    if (item.seq == 0) item.seq = next_seq_++;
    cmds.push_back(xadd_args(item, false));
    if (item.retained)
      cmds.push_back(item.payload.empty() ? std::vector<std::string>{"HDEL", kRetained, item.topic}
                                          : std::vector<std::string>{"HSET", kRetained, item.topic, item.payload});
  }
  const auto replies = redis.pipeline(cmds);
  if (replies.size() != cmds.size()) return false;
  for (const auto& r : replies)
    if (is_error(r)) log("backplane: Redis refused a write (", r ? std::string(r->str, r->len) : "", ")");
  forwarded_ += batch.size();
  xadds_ += batch.size();
  batch.clear();
  return true;
}

// The local plugin says a user came or went on this node. Online: forwarded. Offline: forwarded
// only when no other live node holds the user; otherwise the plugin's local "offline" is put right.
bool Backplane::handle_presence(RedisLink& redis, Item& item) {
  const auto user = backplane_rules::presence_user(item.topic);
  const auto online = backplane_rules::presence_online(item.payload);
  if (!user || !online) return true;  // not the plugin's format: nothing to aggregate
  const auto live = redis.command({"EVAL", kPresenceScript, "0", options_.node_id, *user, *online ? "1" : "0"});
  if (!live) return false;
  if (*online) {
    local_online_.insert(*user);
    // An "offline" from another node may have been injected here just before this connection was
    // counted: the local retained state is put back to "online" (no-local: not forwarded).
    publish_local(item.topic, item.payload);
  } else {
    local_online_.erase(*user);
  }
  if (live->type != REDIS_REPLY_INTEGER) {
    log("backplane: presence script failed (", str_of(live.get()), ")");
    return true;
  }
  if (!*online && live->integer > 0) {
    // Still online elsewhere: the local subscribers get "online" back (not forwarded: no-local).
    publish_local(item.topic, now_presence("online"));
    return true;
  }
  if (item.seq == 0) item.seq = next_seq_++;
  const auto r = redis.pipeline({xadd_args(item, false), {"HSET", kRetained, item.topic, item.payload}});
  if (r.empty()) return false;
  ++forwarded_;
  ++xadds_;
  return true;
}

bool Backplane::heartbeat(RedisLink& redis) {
  const auto r = redis.pipeline({{"SET", "mqchat:node:" + options_.node_id, boot_, "PX", std::to_string(kHeartbeatTtlMs)},
                                 {"SADD", kNodes, options_.node_id}});
  if (r.size() != 2) return false;
  if (r[1] && r[1]->type == REDIS_REPLY_INTEGER && r[1]->integer == 1 && !local_online_.empty()) {
    // We had been reaped (no heartbeat for a while, e.g. a long Redis outage) while our users
    // stayed: put them back.
    log("backplane: this node was taken for dead; re-announcing ", local_online_.size(), " user(s)");
    for (const auto& u : std::set<std::string>(local_online_)) {
      Item item{Item::Kind::Presence, user_topic(u, "presence"), now_presence("online"), true, 1, 0};
      if (!handle_presence(redis, item)) return false;
    }
  }
  return true;
}

bool Backplane::reap_dead_nodes(RedisLink& redis) {
  const auto nodes = redis.command({"SMEMBERS", kNodes});
  if (!nodes) return false;
  if (nodes->type != REDIS_REPLY_ARRAY) return true;
  for (size_t i = 0; i < nodes->elements; ++i) {
    const std::string node = str_of(nodes->element[i]);
    if (node == options_.node_id) continue;
    const auto gone = redis.command({"EVAL", kReapScript, "0", node, "0"});
    if (!gone) return false;
    if (gone->type != REDIS_REPLY_ARRAY || gone->elements == 0) continue;
    log("backplane: node ", node, " stopped beating; ", gone->elements, " user(s) now offline");
    std::vector<std::vector<std::string>> cmds;
    for (size_t k = 0; k < gone->elements; ++k) {
      Item item{Item::Kind::Presence, user_topic(str_of(gone->element[k]), "presence"), now_presence("offline"), true, 1,
                next_seq_++};
      cmds.push_back(xadd_args(item, true));
      cmds.push_back({"HSET", kRetained, item.topic, item.payload});
    }
    if (redis.pipeline(cmds).empty()) return false;
    xadds_ += gone->elements;
  }
  return true;
}

bool Backplane::reset_self(RedisLink& redis) {
  const auto gone = redis.command({"EVAL", kReapScript, "0", options_.node_id, "1"});
  if (!gone) return false;
  local_online_.clear();
  std::vector<std::vector<std::string>> cmds;
  if (gone->type == REDIS_REPLY_ARRAY)
    for (size_t k = 0; k < gone->elements; ++k) {
      Item item{Item::Kind::Presence, user_topic(str_of(gone->element[k]), "presence"), now_presence("offline"), true, 1,
                next_seq_++};
      cmds.push_back(xadd_args(item, true));
      cmds.push_back({"HSET", kRetained, item.topic, item.payload});
    }
  if (!cmds.empty() && redis.pipeline(cmds).empty()) return false;
  resync_due_ = true;
  return true;
}

void Backplane::write_loop() {
  RedisLink redis(parse_host_ports(options_.backplane_sentinels), options_.backplane_master,
                  options_.backplane_sentinels.empty() ? parse_host_ports(options_.backplane_redis).at(0) : HostPort{},
                  2000);
  std::deque<Item> work;  // taken from the queue, not yet confirmed by Redis (kept across retries)
  auto next_beat = std::chrono::steady_clock::now();
  while (!stop_) {
    if (work.empty()) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, 200ms, [&] { return stop_ || !queue_.empty(); });
      while (!queue_.empty() && work.size() < kBatch) {
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    bool ok = true;
    // Not while a failed write waits for its retry: a reap entry would take a later sequence number
    // and the retried entries would then look like repeats.
    const bool retrying = std::any_of(work.begin(), work.end(), [](const Item& i) { return i.seq != 0; });
    if (!retrying && std::chrono::steady_clock::now() >= next_beat && redis.ensure()) {
      // Beat only while the local broker is there: a node whose broker died is reaped by the others.
      ok = (!mqtt_up_ || heartbeat(redis)) && reap_dead_nodes(redis);
      if (ok) next_beat = std::chrono::steady_clock::now() + kHeartbeatEvery;
    }
    while (ok && !work.empty()) {
      // Consecutive forwards go as one pipeline; presence and resets one at a time, in order.
      std::deque<Item> forwards;
      while (!work.empty() && work.front().kind == Item::Kind::Forward) {
        forwards.push_back(std::move(work.front()));
        work.pop_front();
      }
      if (!forwards.empty()) {
        ok = write_batch(redis, forwards);
        if (!ok) {
          for (auto it = forwards.rbegin(); it != forwards.rend(); ++it) work.push_front(std::move(*it));
          break;
        }
        continue;
      }
      Item& item = work.front();
      ok = item.kind == Item::Kind::Reset ? reset_self(redis) : handle_presence(redis, item);
      if (ok) work.pop_front();
    }
    if (!ok && !stop_) std::this_thread::sleep_for(200ms);  // Redis away (failover): retry, same seqs
  }
}

bool Backplane::resync_retained(RedisLink& redis) {
  std::string cursor = "0";
  size_t n = 0;
  do {
    const auto r = redis.command({"HSCAN", kRetained, cursor, "COUNT", "500"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) return false;
    cursor = str_of(r->element[0]);
    const redisReply* kv = r->element[1];
    for (size_t i = 0; i + 1 < kv->elements; i += 2, ++n)
      if (!publish_local(str_of(kv->element[i]), str_of(kv->element[i + 1]))) return false;
  } while (cursor != "0" && !stop_);
  log("backplane: replayed ", n, " retained topic(s) of the cluster into the local broker");
  return true;
}

bool Backplane::publish(const std::string& topic, const std::string& payload, int qos, bool retained) {
  const int rc = mosquitto_publish_v5(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                                      retained, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) return false;
  ++unacked_;  // on_publish comes once for every publish: at its PUBACK, or when QoS 0 was written
  return true;
}

bool Backplane::publish_local(const std::string& topic, const std::string& payload) {
  return publish(topic, payload, 1, true);
}

// The streams this reader takes entries from: the shared one and every other node's (the members of
// kNodes, looked at again every second). A stream is read from where this reader left it; one
// found later from where this reader began (Redis' clock then), so a node that joins is read from
// its first entry and nothing written before this reader started is injected.
bool Backplane::refresh_streams(RedisLink& redis, std::map<std::string, std::string>& last_ids,
                                std::string& start_id) {
  if (start_id.empty()) {
    const auto t = redis.command({"TIME"});
    if (!t || t->type != REDIS_REPLY_ARRAY || t->elements != 2) return false;
    const long long ms = std::stoll(str_of(t->element[0])) * 1000 + std::stoll(str_of(t->element[1])) / 1000;
    start_id = std::to_string(ms) + "-0";
    last_ids.emplace(kSharedStream, start_id);
  }
  const auto nodes = redis.command({"SMEMBERS", kNodes});
  if (!nodes) return false;
  if (nodes->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < nodes->elements; ++i)
      if (const std::string node = str_of(nodes->element[i]); !node.empty() && node != options_.node_id)
        last_ids.emplace(kNodeStreamPrefix + node, start_id);  // kept when the node goes: it may return
  return true;
}

void Backplane::read_loop() {
  RedisLink redis(parse_host_ports(options_.backplane_sentinels), options_.backplane_master,
                  options_.backplane_sentinels.empty() ? parse_host_ports(options_.backplane_redis).at(0) : HostPort{},
                  3000);
  backplane_rules::Dedup dedup;
  std::map<std::string, std::string> last_ids;  // stream → the last id taken from it
  std::string start_id;
  auto next_refresh = std::chrono::steady_clock::now();
  while (!stop_) {
    if (!mqtt_up_) {
      std::this_thread::sleep_for(50ms);
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_refresh) {
      if (!refresh_streams(redis, last_ids, start_id)) {
        std::this_thread::sleep_for(200ms);  // failover: Sentinel is asked again on the next command
        continue;
      }
      next_refresh = std::chrono::steady_clock::now() + 1s;
    }
    if (resync_due_.exchange(false) && !resync_retained(redis)) {
      resync_due_ = true;
      std::this_thread::sleep_for(200ms);
      continue;
    }
    // Blocks at most until the next look for new nodes.
    std::vector<std::string> argv = {"XREAD", "COUNT", "1000", "BLOCK", "1000", "STREAMS"};
    for (const auto& [stream, id] : last_ids) argv.push_back(stream);
    for (const auto& [stream, id] : last_ids) argv.push_back(id);
    const auto r = redis.command(argv);
    if (!r) {
      std::this_thread::sleep_for(200ms);
      continue;
    }
    if (r->type != REDIS_REPLY_ARRAY) continue;  // timeout (nil)
    for (size_t s = 0; s < r->elements; ++s) {
      const std::string stream = str_of(r->element[s]->element[0]);
      const auto last = last_ids.find(stream);
      if (last == last_ids.end()) continue;
      if (!inject_entries(redis, dedup, stream, r->element[s]->element[1], last->second)) break;
    }
  }
}

// One stream's share of an XREAD reply; `last_id` advances past each entry taken. False when the
// broker or Redis went away: the rest is read again from `last_id`.
bool Backplane::inject_entries(RedisLink& redis, backplane_rules::Dedup& dedup, const std::string& stream,
                               const redisReply* entries, std::string& last_id) {
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    const BackplaneEntry e = parse_entry(entry->element[1]);
    const std::string id = str_of(entry->element[0]);
    if ((e.origin == options_.node_id && !e.all) || e.topic.empty()) {  // own entries: bridges of before
      last_id = id;
      continue;
    }
    // Taken: not injected again, not read again.
    const auto taken = [&] {
      dedup.record(stream, e.origin, e.boot, e.seq);
      last_id = id;
    };
    if (!dedup.is_new(stream, e.origin, e.boot, e.seq)) {
      ++duplicates_;
      last_id = id;
      continue;
    }
    // An "offline" decided elsewhere may be overtaken by a connection since (here or on a third
    // node: they race through different bridges): injected only if still nobody holds the user.
    if (const auto user = backplane_rules::presence_user(e.topic);
        user && backplane_rules::presence_online(e.payload) == false) {
      const auto live = redis.command({"EVAL", kLiveScript, "0", *user});
      if (!live) return false;  // Redis away
      if (live->type == REDIS_REPLY_INTEGER && live->integer > 0) {
        taken();
        continue;
      }
    }
    std::string key;
    if (!first_copy(e.topic, e.payload, &key)) {  // this node published (or injected) it already
      taken();
      continue;
    }
    // Bounded: at most kUnackedMax injected publishes wait for their PUBACK.
    while (unacked_ > kUnackedMax && mqtt_up_ && !stop_) std::this_thread::sleep_for(1ms);
    if (!publish(e.topic, e.payload, e.qos, e.retained)) {  // broker away
      if (!key.empty()) {
        std::lock_guard<std::mutex> lock(recent_mu_);
        recent_.forget(key);
      }
      return false;
    }
    taken();
    ++injected_;
  }
  return true;
}

void Backplane::stats_loop() {
  uint64_t seen = 0;
  for (int tick = 0; !stop_; ++tick) {
    std::this_thread::sleep_for(100ms);
    if (tick % 100 != 99) continue;
    const uint64_t total = forwarded_ + injected_ + duplicates_ + dropped_ + second_copies_;
    if (total == seen) continue;
    seen = total;
    log("backplane: forwarded ", forwarded_.load(), ", injected ", injected_.load(), ", repeats skipped ",
        duplicates_.load(), ", dropped (queue full) ", dropped_.load(), ", retried copies held back ",
        second_copies_.load());
  }
}

}  // namespace mqchat::bridge
