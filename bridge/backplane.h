#pragma once
// The cluster backplane (docs/DESIGN.md "Cluster"): makes one node's broker deliver what clients
// and services published on the others. Only runs when the bridge is given a Redis (Sentinel)
// address; the single-node bridge never builds one.
//
//   local broker ──MQTT 5 no-local sub──▶ writer ──XADD──▶ Redis stream mqchat:bp:<this node>
//   Redis streams mqchat:bp:<other nodes>, mqchat:bp ──XREAD──▶ reader ──publish──▶ local broker
//
// Loop-free: the backplane's own MQTT connection subscribes with no-local, so what it injects is
// never handed back to it, and the reader does not read its own node's stream. Each entry carries its
// origin node, the origin's boot id and a sequence number, so an entry written twice (a retry across
// a Redis failover) is injected once. Presence is aggregated in Redis (which nodes hold a user),
// with node heartbeats: a dead node's users go offline unless another node holds them.
#include <mosquitto.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "bridge/options.h"
#include "bridge/redis_link.h"

namespace mqchat::bridge {

// What a Redis stream entry carries: three fields, h (the header below), t (topic), p (payload).
// (Earlier entries had eight: o, a, b, s, r, q as fields of their own; still read.)
struct BackplaneEntry {
  std::string origin;     // node id of the writer
  bool all = false;       // every node injects it, the origin too (presence of a dead node's users)
  std::string boot;       // the writer's boot id: sequence numbers restart with it
  uint64_t seq = 0;
  std::string topic, payload;
  bool retained = false;
  int qos = 1;
};

// Pure decisions, unit-tested.
namespace backplane_rules {
// The header field: origin, all, boot, seq, retained, qos joined by \x1f (one field, not six:
// Redis parses and stores fewer arguments per XADD, the readers fewer reply objects).
std::string encode_header(const BackplaneEntry& e);
bool decode_header(const std::string& h, BackplaneEntry& e);  // false: malformed (entry ignored)
// The MQTT filters a node forwards: everything a client may receive from another node.
const std::vector<std::string>& routed_filters();
// The QoS a forwarded copy is injected with on the other nodes: 0 for typing (worthless late),
// 1 for the rest (it must reach offline persistent sessions queued on the recipient's node).
int injected_qos(const std::string& topic);
// "users/<u>/presence" → u.
std::optional<std::string> presence_user(const std::string& topic);
// The status of a presence payload ({"status":"online"|"offline",…}); nullopt if neither.
std::optional<bool> presence_online(const std::string& payload);
// An empty payload on chat/<room>/messages: the plugin's mark of a retry it acknowledged but
// delivers to nobody (only service accounts may read it).
bool is_retry_marker(const std::string& topic, const std::string& payload);
// A chat message's retry key, "<topic>\0<sender>\0<client_id>", from its stored form; nullopt for
// other topics and messages without a client_id.
std::optional<std::string> retry_key(const std::string& topic, const std::string& payload);
// Retry keys seen in the last `window_s` seconds (at most `max` of them, oldest forgotten first).
class RecentKeys {
 public:
  RecentKeys(int64_t window_s, size_t max) : window_s_(window_s), max_(max) {}
  // True if `key` was seen within the window; otherwise remembers it and returns false.
  bool seen_or_add(const std::string& key, int64_t now_s);
  void forget(const std::string& key) { at_.erase(key); }
  size_t size() const { return at_.size(); }

 private:
  int64_t window_s_;
  size_t max_;
  std::unordered_map<std::string, int64_t> at_;  // hashed: the keys share long prefixes (the topic)
  std::deque<std::pair<int64_t, std::string>> order_;
};
// Highest sequence injected per (stream, origin, boot): a sequence number at or below it is a
// repeat. Per stream: an origin's numbers rise within each stream it writes to (its own and the
// shared one), not across them.
class Dedup {
 public:
  bool is_new(const std::string& stream, const std::string& origin, const std::string& boot, uint64_t seq) const;
  void record(const std::string& stream, const std::string& origin, const std::string& boot, uint64_t seq);

 private:
  std::map<std::string, uint64_t> highest_;
};
}  // namespace backplane_rules

class Backplane {
 public:
  explicit Backplane(const Options& options);
  ~Backplane();
  void start();
  void stop();  // joins; injects and forwards nothing afterwards

 private:
  struct Item {
    enum class Kind { Forward, Presence, Reset } kind = Kind::Forward;
    std::string topic, payload;
    bool retained = false;
    int qos = 1;
    uint64_t seq = 0;  // assigned once, kept across retries
  };
  // libmosquitto's network thread: these never block.
  static void on_connect(struct mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
  static void on_disconnect(struct mosquitto*, void* self, int rc, const mosquitto_property*);
  static void on_message(struct mosquitto*, void* self, const struct mosquitto_message* m, const mosquitto_property*);
  static void on_publish(struct mosquitto*, void* self, int mid, int rc, const mosquitto_property*);
  void on_local_message(const std::string& topic, std::string payload, bool retained);
  void push(Item item);
  void write_loop();
  void read_loop();
  bool refresh_streams(RedisLink& redis, std::map<std::string, std::string>& last_ids, std::string& start_id);
  bool inject_entries(RedisLink& redis, backplane_rules::Dedup& dedup, const std::string& stream,
                      const redisReply* entries, std::string& last_id);
  void stats_loop();
  bool write_batch(RedisLink& redis, std::deque<Item>& batch);
  bool handle_presence(RedisLink& redis, Item& item);
  bool reset_self(RedisLink& redis);
  bool heartbeat(RedisLink& redis);
  bool reap_dead_nodes(RedisLink& redis);
  std::vector<std::string> xadd_args(const Item& item, bool all) const;
  bool resync_retained(RedisLink& redis);
  bool publish(const std::string& topic, const std::string& payload, int qos, bool retained);
  static std::string now_presence(const char* status);
  bool publish_local(const std::string& topic, const std::string& payload);  // retained, QoS 1; false if the broker is away
  void connect_loop();

  const Options& options_;
  const std::string boot_;
  const std::string client_id_;
  const std::string own_stream_;  // mqchat:bp:<node id>: what this node forwards
  // libmosquitto, not Paho: Paho C 1.3 injected ~30 QoS 1 messages/s here under the broker's
  // receive maximum; libmosquitto keeps its window full (thousands per second).
  struct mosquitto* mosq_ = nullptr;
  std::atomic<long> unacked_{0};  // injected, not yet acknowledged (QoS 1) or written (QoS 0): bounded
  std::atomic<bool> stop_{false}, mqtt_up_{false}, awaiting_uptime_{false}, resync_due_{false};
  long last_uptime_s_ = -1;  // libmosquitto's thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  uint64_t next_seq_ = 1;     // writer thread only
  std::set<std::string> local_online_;  // writer thread only: users the local broker holds
  // A message retried on another node (same sender, room, client_id; docs/DESIGN.md): the first
  // copy this node sees, local or injected, passes; a later one is not injected here and, if it was
  // published here, not forwarded. Both threads of the link use it.
  std::mutex recent_mu_;
  backplane_rules::RecentKeys recent_{120, 200000};
  // `added`: the key remembered now, if any (to forget if the copy could not be injected after all).
  bool first_copy(const std::string& topic, const std::string& payload, std::string* added = nullptr);

  std::atomic<uint64_t> forwarded_{0}, injected_{0}, duplicates_{0}, dropped_{0}, xadds_{0}, second_copies_{0};
  std::thread writer_, reader_, stats_, connector_;
};

}  // namespace mqchat::bridge
