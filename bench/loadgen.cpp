// mqchat-bench-load: the MQTT load generator of `./mqchat bench`.
//
// N sender→receiver pairs (users bench-s<i> → bench-r<i>, room make_room(s, r)), each sender
// pipelining QoS 1 publishes with a bounded in-flight window, at a fixed total rate or as fast as
// PUBACKs come back. The content carries "bench <pair> <seq> <send µs>", so a receiver can measure
// end-to-end latency whether it gets the payload as sent (bare Mosquitto) or the plugin's stored
// JSON (whose "content" is that text). Optionally it watches broker processes (CPU, RSS from
// /proc) and Postgres (persistence lag, rows stored). One JSON document on stdout or --out.
//
// Every client runs on one thread, with a buffered MQTT client of its own (mqtt_wire.h): on 2 cores
// the load generator shares a core with Postgres, the plugin's threads and the bridge, so what it
// takes from that core is taken from the system measured. A thread per client woke per packet (~90 µs
// of CPU per message at 6,400 msg/s); libmosquitto on one thread still made ~10 system calls per
// message (66 µs at 7,000 msg/s); one read per ready socket and one write per client and turn.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "bench/mqtt_wire.h"
#include "bench/proc_stats.h"
#include "common/room.h"
#include "common/sql_array.h"

namespace {

using nlohmann::json;

int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

[[noreturn]] void die(const std::string& m) {
  std::cerr << "mqchat-bench-load: " << m << "\n";
  std::exit(2);
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string receiver_host;  // receivers elsewhere (another cluster node); empty = host/port
  int receiver_port = 0;
  int pairs = 8;
  double duration_s = 20;
  double warmup_s = 3;
  double rate = 0;       // total msgs/s; 0 = as fast as acknowledgements allow
  int window = 32;       // QoS 1 publishes in flight per sender
  int qos = 1;
  uint64_t count = 0;    // per sender; >0 replaces the duration (callgrind runs)
  std::string password;  // empty: connect without one (bare Mosquitto, allow_anonymous)
  std::string label = "run";
  std::string user_prefix = "bench";  // users <prefix>-s<i> → <prefix>-r<i>
  std::string out;
  std::string dsn;       // Postgres to watch for persistence; empty = don't
  bool reset_db = false;  // truncate messages first (a throwaway bench cluster only)
  int poll_ms = 5;
  double persist_timeout_s = 30;
  std::vector<std::pair<std::string, int>> watch;  // name=pid, first one is "the broker"
  std::vector<std::string> accounts;  // NAME=KIND:PID, CPU per message (bench/proc_stats.h)
};

Options parse_args(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) die(std::string("missing value for ") + argv[i]);
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    try {
      if (a == "--host") o.host = need(i);
      else if (a == "--port") o.port = std::stoi(need(i));
      else if (a == "--receiver-host") o.receiver_host = need(i);
      else if (a == "--receiver-port") o.receiver_port = std::stoi(need(i));
      else if (a == "--pairs") o.pairs = std::stoi(need(i));
      else if (a == "--duration") o.duration_s = std::stod(need(i));
      else if (a == "--warmup") o.warmup_s = std::stod(need(i));
      else if (a == "--rate") o.rate = std::stod(need(i));
      else if (a == "--window") o.window = std::stoi(need(i));
      else if (a == "--qos") o.qos = std::stoi(need(i));
      else if (a == "--count") o.count = std::stoull(need(i));
      else if (a == "--password") o.password = need(i);
      else if (a == "--label") o.label = need(i);
      else if (a == "--user-prefix") o.user_prefix = need(i);
      else if (a == "--out") o.out = need(i);
      else if (a == "--dsn") o.dsn = need(i);
      else if (a == "--reset-db") o.reset_db = true;
      else if (a == "--poll-ms") o.poll_ms = std::stoi(need(i));
      else if (a == "--persist-timeout") o.persist_timeout_s = std::stod(need(i));
      else if (a == "--account") o.accounts.push_back(need(i));
      else if (a == "--watch") {
        const std::string v = need(i);
        const auto eq = v.find('=');
        if (eq == std::string::npos) die("--watch wants NAME=PID, got " + v);
        o.watch.emplace_back(v.substr(0, eq), std::stoi(v.substr(eq + 1)));
      } else die("unknown option " + a + " (see bench/README in docs/PERFORMANCE.md)");
    } catch (const std::invalid_argument&) {
      die("bad number for " + a);
    }
  }
  if (o.pairs < 1 || o.pairs > 2000) die("--pairs must be 1..2000");
  if (o.window < 1 || o.window > 65535) die("--window must be 1..65535");
  if (o.qos < 0 || o.qos > 1) die("--qos must be 0 or 1");
  if (o.count == 0 && o.duration_s <= o.warmup_s) die("--duration must exceed --warmup");
  if (o.rate < 0) die("--rate must be >= 0");
  return o;
}

std::atomic<bool> g_stop{false};
std::atomic<uint64_t> g_delivered{0};
std::atomic<uint64_t> g_acked{0};
int64_t g_meas_start = 0, g_meas_end = INT64_MAX;  // µs; set before sending starts
const Options* g_opt = nullptr;
// In every client_id, so that a run into a database that keeps an earlier run's messages
// (history-growth repeats its load) is not taken for that run's retransmissions and deduplicated.
const uint64_t g_run_tag = uint64_t(now_us());

// The smallest UUIDv7 of a time: rows with a larger id were made after it (by the plugin, or by
// uuidv7() in Postgres for the DIY inserter).
std::string uuidv7_floor(int64_t unix_us) {
  const unsigned long long ms = static_cast<unsigned long long>(unix_us / 1000);
  char b[64];
  std::snprintf(b, sizeof b, "%08llx-%04llx-7000-8000-000000000000", ms >> 16, ms & 0xffff);
  return b;
}

struct Sender {
  int idx = 0;
  std::unique_ptr<bench::WireClient> m;
  std::string topic;
  std::string user;
  std::mutex mu;
  uint64_t next_seq = 0;
  int inflight = 0;
  uint64_t owed = 0;  // fixed rate: sends that found the window full, made up on the next PUBACK
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t publish_errors = 0;
  std::atomic<bool> connected{false};

  bool done_sending() const { return g_opt->count > 0 && next_seq >= g_opt->count; }

  // Under mu.
  void send_one() {
    const uint64_t seq = next_seq++;
    char payload[256];
    const int n = std::snprintf(payload, sizeof payload,
                                R"({"content":"bench %d %)" PRIu64 R"( %)" PRId64 R"(","client_id":"b%d-%)" PRIx64
                                R"(-%)" PRIu64 R"(","sender":"%s"})",
                                idx, seq, now_us(), idx, g_run_tag, seq, user.c_str());
    if (n <= 0 || n >= int(sizeof payload)) {
      ++publish_errors;
      return;
    }
    m->publish(topic, std::string_view(payload, size_t(n)), g_opt->qos);
    ++sent;
    if (g_opt->qos == 0) {
      ++acked;
      g_acked.fetch_add(1, std::memory_order_relaxed);
    } else {
      ++inflight;
    }
  }
  void fill() {  // under mu: max rate keeps the window full
    while (!g_stop.load(std::memory_order_relaxed) && inflight < g_opt->window && !done_sending()) send_one();
  }
};

struct Receiver {
  int idx = 0;
  std::unique_ptr<bench::WireClient> m;
  std::string topic;
  std::string user;
  std::atomic<bool> subscribed{false};
  std::mutex mu;
  std::vector<uint8_t> seen;
  uint64_t unique = 0, duplicates = 0, foreign = 0, in_window = 0;
  std::vector<int32_t> latency_us;
};

// "bench <pair> <seq> <send µs>" inside "content":"…" of either payload shape.
bool parse_content(const char* p, int len, int& pair, uint64_t& seq, int64_t& ts) {
  const std::string_view s(p, size_t(len));
  const auto at = s.find("\"content\":\"bench ");
  if (at == std::string_view::npos) return false;
  char buf[96];
  const size_t take = std::min(sizeof buf - 1, s.size() - at - 17);
  std::memcpy(buf, s.data() + at + 17, take);
  buf[take] = 0;
  return std::sscanf(buf, "%d %" SCNu64 " %" SCNd64, &pair, &seq, &ts) == 3;
}

void on_connect(void* obj, int rc) {
  if (rc != 0) {
    std::cerr << "mqchat-bench-load: connection refused (CONNACK return code " << rc << ")\n";
    std::exit(3);
  }
  static_cast<Sender*>(obj)->connected = true;
}

void on_publish(void* obj, uint16_t) {
  auto& s = *static_cast<Sender*>(obj);
  std::lock_guard<std::mutex> lock(s.mu);
  --s.inflight;
  ++s.acked;
  g_acked.fetch_add(1, std::memory_order_relaxed);
  if (g_opt->rate == 0) {
    s.fill();
  } else {
    while (s.owed > 0 && s.inflight < g_opt->window && !g_stop) {
      --s.owed;
      s.send_one();
    }
  }
}

void on_receiver_connect(void* obj, int rc) {
  if (rc != 0) {
    std::cerr << "mqchat-bench-load: receiver connection refused (CONNACK return code " << rc << ")\n";
    std::exit(3);
  }
  auto& r = *static_cast<Receiver*>(obj);
  r.m->subscribe(r.topic, g_opt->qos);
}

void on_subscribe(void* obj, int granted) {
  if (granted > 2) {
    std::cerr << "mqchat-bench-load: subscription refused\n";
    std::exit(3);
  }
  static_cast<Receiver*>(obj)->subscribed = true;
}

void on_message(void* obj, std::string_view payload) {
  const int64_t now = now_us();
  auto& r = *static_cast<Receiver*>(obj);
  int pair;
  uint64_t seq;
  int64_t ts;
  std::lock_guard<std::mutex> lock(r.mu);
  if (!parse_content(payload.data(), int(payload.size()), pair, seq, ts) || pair != r.idx) {
    ++r.foreign;
    return;
  }
  if (seq >= r.seen.size()) r.seen.resize(std::max<size_t>(seq + 1, r.seen.size() * 2), 0);
  if (r.seen[seq]) {
    ++r.duplicates;
    return;
  }
  r.seen[seq] = 1;
  ++r.unique;
  g_delivered.fetch_add(1, std::memory_order_relaxed);
  if (now >= g_meas_start && now < g_meas_end) ++r.in_window;
  if (ts >= g_meas_start && ts < g_meas_end) r.latency_us.push_back(int32_t(std::min<int64_t>(now - ts, INT32_MAX)));
}

void connect_client(bench::WireClient& m, const std::string& host, int port, const std::string& user,
                    const Options& o) {
  const std::string error = m.connect(host, port, user, user, o.password, 60);
  if (!error.empty()) die(error);
}

json percentiles(std::vector<int32_t>& v, double scale, const char* unit) {
  json j;
  j["count"] = v.size();
  j["unit"] = unit;
  if (v.empty()) return j;
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) { return v[std::min(v.size() - 1, size_t(p * double(v.size())))] * scale; };
  double sum = 0;
  for (auto x : v) sum += x;
  j["p50"] = pct(0.50);
  j["p99"] = pct(0.99);
  j["p999"] = pct(0.999);
  j["max"] = v.back() * scale;
  j["mean"] = sum / double(v.size()) * scale;
  return j;
}

// Follows the messages table: each poll fetches, per conversation of the run, the rows newer than
// the last id seen in it and records, per row, (poll time - send time in its content) as its
// persistence lag. Resolution: poll_ms. Per conversation, because that is the order rows become
// visible in: with a backlog the shipper stores several conversations at once, each in id order,
// and a row of one can commit after a higher id of another.
struct PersistenceWatcher {
  const Options& o;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> seen{0};
  std::atomic<uint64_t> seen_in_window{0};
  std::atomic<int> backend_pid{0};  // its own Postgres backend: not part of the system measured
  std::vector<int32_t> lag_ms_x10;  // tenths of ms
  std::string error;

  std::string since;  // UUIDv7 floor of the run's start
  std::vector<std::string> rooms;

  PersistenceWatcher(const Options& opt, std::string since_id, std::vector<std::string> watched_rooms)
      : o(opt), since(std::move(since_id)), rooms(std::move(watched_rooms)) {}

  void start() {
    thread = std::thread([this] {
      try {
        run();
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
  }
  void run() {
    pqxx::connection c(o.dsn);
    backend_pid = c.backendpid();
    // Each poll must read only the rows that are new, walking the primary key from the last one
    // seen, in this backend alone. Left to the planner (no statistics yet, a generic plan) it
    // scanned the whole table, or every row above the last one, then sorted (by the text column
    // the select list names id): work that grew with the table or the backlog, 200 times a second,
    // on the core Postgres shares with the load generator. And parallel workers are Postgres'
    // children, not this backend: their time was counted as Postgres'.
    pqxx::nontransaction(c).exec(
        "set enable_seqscan = off; set enable_bitmapscan = off; set enable_sort = off; "
        "set max_parallel_workers_per_gather = 0");
    c.prepare("next",
              "select m.i, m.id::text, m.content from unnest($1::text[], $2::uuid[]) with ordinality as c(room, last, i) "
              "cross join lateral (select c.i, m.id, m.content from messages m "
              "where m.conversation_id = mqchat_conversation_id(c.room) and m.id > c.last and m.content like 'bench %' "
              "order by m.id limit 5000) m");
    const std::string room_list = mqchat::array_literal(rooms);
    std::vector<std::string> last(rooms.size(), since);
    while (!stop) {
      pqxx::result r;
      {
        pqxx::nontransaction tx(c);
        r = tx.exec_prepared("next", room_list, mqchat::array_literal(last));
      }
      const int64_t t = now_us();
      for (const auto& row : r) {
        const std::string_view content(row[2].c_str(), row[2].size());
        int pair;
        uint64_t seq;
        int64_t ts;
        const std::string wrapped = "\"content\":\"" + std::string(content);
        last[row[0].as<size_t>() - 1] = row[1].c_str();  // rows come in id order within each conversation
        if (!parse_content(wrapped.data(), int(wrapped.size()), pair, seq, ts)) continue;
        if (ts >= g_meas_start && ts < g_meas_end) lag_ms_x10.push_back(int32_t((t - ts) / 100));
        if (t >= g_meas_start && t < g_meas_end) seen_in_window.fetch_add(1, std::memory_order_relaxed);
        seen.fetch_add(1, std::memory_order_relaxed);
      }
      if (r.size() < 5000) std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
    }
  }
};

// This run's rows (and those of any other load generator running at the same time).
long count_rows(const std::string& dsn, const std::string& since) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  return tx.exec_params1("select count(*) from messages where id > $1::uuid and content like 'bench %'", since)[0]
      .as<long>();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  g_opt = &o;

  if (o.reset_db) {
    pqxx::connection c(o.dsn);
    pqxx::nontransaction tx(c);
    tx.exec("truncate messages cascade");
  }

  std::vector<std::unique_ptr<Sender>> senders;
  std::vector<std::unique_ptr<Receiver>> receivers;
  std::vector<std::string> rooms;  // pair by pair
  for (int i = 0; i < o.pairs; ++i) {
    const std::string s = o.user_prefix + "-s" + std::to_string(i), r = o.user_prefix + "-r" + std::to_string(i);
    const auto room = mqchat::make_room(s, r);
    if (!room) die("not valid usernames: " + s + ", " + r);
    const std::string topic = "chat/" + *room + "/messages";
    rooms.push_back(*room);

    auto rc = std::make_unique<Receiver>();
    rc->idx = i;
    rc->topic = topic;
    rc->user = r;
    bench::WireCallbacks receiver_callbacks;
    receiver_callbacks.on_connack = on_receiver_connect;
    receiver_callbacks.on_suback = on_subscribe;
    receiver_callbacks.on_message = on_message;
    rc->m = std::make_unique<bench::WireClient>(rc.get(), receiver_callbacks);
    receivers.push_back(std::move(rc));

    auto sd = std::make_unique<Sender>();
    sd->idx = i;
    sd->topic = topic;
    sd->user = s;
    bench::WireCallbacks sender_callbacks;
    sender_callbacks.on_connack = on_connect;
    sender_callbacks.on_puback = on_publish;
    sd->m = std::make_unique<bench::WireClient>(sd.get(), sender_callbacks);
    senders.push_back(std::move(sd));
  }
  // Connected here, driven by the I/O thread from now on: every packet of every client, publishes
  // included, goes through it.
  bench::WireLoop loop;
  for (auto& r : receivers) {
    connect_client(*r->m, o.receiver_host.empty() ? o.host : o.receiver_host, o.receiver_port ? o.receiver_port : o.port,
                   r->user, o);
    loop.add(r->m.get());
  }
  for (auto& s : senders) {
    connect_client(*s->m, o.host, o.port, s->user, o);
    loop.add(s->m.get());
  }
  std::atomic<int64_t> send_from{0};  // µs; the I/O thread starts sending then (0: not yet)
  std::atomic<bool> io_stop{false};
  std::thread io([&] {
    const double interval_us = o.rate > 0 ? 1e6 / o.rate : 0;
    uint64_t j = 0;  // fixed rate: the next send, due at send_from + j × interval
    bool started = false, pacing = o.rate > 0;
    while (!io_stop) {
      int64_t wait_us = started ? 100000 : 2000;  // until sending starts, look for the start often
      const int64_t t0 = send_from.load();
      if (t0 != 0 && !g_stop) {
        if (!started) {
          started = true;
          if (o.rate == 0)
            for (auto& s : senders) {
              std::lock_guard<std::mutex> lock(s->mu);
              s->fill();
            }
        }
        // Fixed rate: every send due by now, round robin over the senders; then wait for the next.
        const int64_t now = now_us();
        while (pacing && !g_stop) {
          const int64_t due = t0 + int64_t(double(j) * interval_us);
          if (due > now) {
            wait_us = due - now;
            break;
          }
          auto& s = *senders[j % senders.size()];
          {
            std::lock_guard<std::mutex> lock(s.mu);
            if (s.done_sending()) {
            } else if (s.inflight < o.window) {
              s.send_one();
            } else {
              ++s.owed;
            }
          }
          ++j;
          if (o.count > 0) {
            bool all = true;
            for (auto& x : senders) all = all && x->done_sending();
            if (all) pacing = false;
          }
        }
      }
      const std::string error = loop.run_once(wait_us);
      if (!error.empty() && !io_stop) die(error);
    }
  });
  const auto ready_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto all_ready = [&] {
    for (auto& r : receivers) if (!r->subscribed) return false;
    for (auto& s : senders) if (!s->connected) return false;
    return true;
  };
  while (!all_ready()) {
    if (std::chrono::steady_clock::now() > ready_by) die("clients did not connect/subscribe within 20 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  std::vector<bench::ProcWatch> watches;
  for (const auto& [name, pid] : o.watch) watches.emplace_back(name, pid);

  const int64_t t0 = now_us();
  const std::string since = uuidv7_floor(t0 - 1000);
  if (o.count == 0) {
    g_meas_start = t0 + int64_t(o.warmup_s * 1e6);
    g_meas_end = t0 + int64_t(o.duration_s * 1e6);
  } else {
    g_meas_start = t0;
  }
  std::unique_ptr<PersistenceWatcher> watcher;
  if (!o.dsn.empty()) {
    watcher = std::make_unique<PersistenceWatcher>(o, since, rooms);
    watcher->start();
  }
  // CPU per message of each component, from the first publish (warm-up included) until every
  // acknowledged message is delivered and, with --dsn, stored.
  std::vector<bench::CpuAccount> accounts;
  for (const auto& spec : o.accounts) {
    try {
      accounts.push_back(bench::CpuAccount::parse(spec));
    } catch (const std::exception&) {
      die("--account wants NAME=main|others|tree:PID, got " + spec);
    }
  }
  if (watcher) {
    const int64_t by = now_us() + 10000000;
    while (watcher->backend_pid == 0 && watcher->error.empty() && now_us() < by)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (auto& a : accounts) a.exclude(watcher->backend_pid);
  }
  for (auto& a : accounts) a.mark_start();

  // Once a second: RSS of the watched processes (is memory flat?) and the delivery timeline.
  json timeline = json::array();
  std::atomic<bool> monitor_stop{false};
  bool window_open = false, window_closed = false;
  std::mutex watch_mu;
  std::thread monitor([&] {
    uint64_t last_delivered = 0;
    while (!monitor_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const int64_t t = now_us();
      std::lock_guard<std::mutex> lock(watch_mu);
      if (!window_open && t >= g_meas_start) {
        for (auto& w : watches) w.mark_start();
        window_open = true;
      }
      if (!window_closed && t >= g_meas_end) {
        for (auto& w : watches) w.mark_end();
        window_closed = true;
      }
      static int64_t next_tick = t0 + 1000000;
      if (t >= next_tick) {
        next_tick += 1000000;
        const uint64_t d = g_delivered.load();
        json row = {{"t_s", double(t - t0) / 1e6}, {"delivered", d - last_delivered}};
        last_delivered = d;
        for (auto& w : watches) row[w.name + "_rss_kb"] = w.sample_rss_kb();
        timeline.push_back(row);
      }
    }
  });

  // The load generator's own CPU (all its threads, the persistence watcher's client included): what
  // it takes from the core it shares with Postgres, the plugin's threads and the bridge. Reported
  // apart, not in the totals.
  bench::CpuAccount self = bench::CpuAccount::this_process("load_generator");
  self.mark_start();

  send_from = t0;

  // Run: for a duration, or until every sender has sent --count and everything came back.
  if (o.count == 0) {
    while (now_us() < g_meas_end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } else {
    const uint64_t total = o.count * uint64_t(o.pairs);
    while (g_delivered.load() < total || g_acked.load() < total)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  g_stop = true;
  const int64_t t_stop = now_us();
  if (o.count > 0) g_meas_end = t_stop;

  // Drain: every PUBACK, and every acknowledged message at its receiver (10 s at most).
  auto acked_total = [&] {
    uint64_t n = 0;
    for (auto& s : senders) {
      std::lock_guard<std::mutex> lock(s->mu);
      n += s->acked;
    }
    return n;
  };
  auto inflight_total = [&] {
    int n = 0;
    for (auto& s : senders) {
      std::lock_guard<std::mutex> lock(s->mu);
      n += s->inflight;
    }
    return n;
  };
  const int64_t drain_deadline = now_us() + 10000000;
  while (inflight_total() > 0 && now_us() < drain_deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int64_t t_last_ack = now_us();
  while (g_delivered.load() < acked_total() && now_us() < drain_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  self.mark_end();
  monitor_stop = true;
  monitor.join();
  if (!window_closed)
    for (auto& w : watches) w.mark_end();

  const uint64_t acked = acked_total();
  json persistence;
  if (watcher) {
    // Persistence tail: from the last PUBACK until the watcher has seen every acknowledged row.
    const int64_t deadline = now_us() + int64_t(o.persist_timeout_s * 1e6);
    while (watcher->seen.load() < acked && now_us() < deadline && watcher->error.empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const int64_t t_all = now_us();
    for (auto& a : accounts) a.mark_end();  // before the watcher's backend exits into the totals
    watcher->stop = true;
    watcher->thread.join();
    if (!watcher->error.empty()) die("persistence watcher: " + watcher->error);
    const long rows = count_rows(o.dsn, since);
    const double window_s = double(g_meas_end - g_meas_start) / 1e6;
    persistence = {{"rows_in_db", rows},
                   {"watcher_backend_pid", watcher->backend_pid.load()},
                   {"all_acked_rows_present", uint64_t(rows) >= acked},
                   {"missing_rows", rows >= long(acked) ? 0 : long(acked) - rows},
                   {"persisted_per_s", double(watcher->seen_in_window.load()) / window_s},
                   {"tail_after_last_ack_ms", double(t_all - t_last_ack) / 1000.0},
                   {"lag_ms", percentiles(watcher->lag_ms_x10, 0.1, "ms")},
                   {"method", "poll every " + std::to_string(o.poll_ms) +
                                  " ms for rows with id > last seen; lag = poll time - send time in content; "
                                  "tail = last PUBACK until every acknowledged row is visible"}};
  }

  if (!watcher)
    for (auto& a : accounts) a.mark_end();

  uint64_t sent = 0, unique = 0, dups = 0, foreign = 0, in_window = 0, errors = 0;
  std::vector<int32_t> lat;
  for (auto& s : senders) {
    std::lock_guard<std::mutex> lock(s->mu);
    sent += s->sent;
    errors += s->publish_errors;
  }
  for (auto& r : receivers) {
    std::lock_guard<std::mutex> lock(r->mu);
    unique += r->unique;
    dups += r->duplicates;
    foreign += r->foreign;
    in_window += r->in_window;
    lat.insert(lat.end(), r->latency_us.begin(), r->latency_us.end());
  }
  io_stop = true;
  io.join();
  senders.clear();  // closes the connections
  receivers.clear();

  const double window_s = double(g_meas_end - g_meas_start) / 1e6;
  const double delivered_per_s = o.count ? double(unique) / window_s : double(in_window) / window_s;
  json out = {{"label", o.label},
              {"pairs", o.pairs},
              {"window", o.window},
              {"qos", o.qos},
              {"target_rate", o.rate},
              {"mode", o.count ? "count" : (o.rate > 0 ? "fixed-rate" : "max-rate")},
              {"measured_s", window_s},
              {"warmup_s", o.count ? 0 : o.warmup_s},
              {"sent", sent},
              {"acked", acked},
              {"publish_errors", errors},
              {"delivered_unique", unique},
              {"duplicates", dups},
              {"unexpected", foreign},
              {"lost", acked > unique ? acked - unique : 0},
              {"delivered_per_s", delivered_per_s},
              {"latency_us", percentiles(lat, 1.0, "us")},
              {"timeline", timeline}};
  json procs = json::object();
  for (auto& w : watches) procs[w.name] = w.report(window_s);
  out["processes"] = procs;
  if (!accounts.empty()) {
    json cpu = json::object();
    double total = 0;
    for (const auto& a : accounts) {
      cpu[a.name] = a.report(acked);
      const double us = cpu[a.name]["us_per_message"].get<double>();
      if (us > 0) total += us;
    }
    cpu["total_us_per_message"] = total;
    cpu["messages"] = acked;
    out["cpu"] = cpu;
  }
  // What (b) keeps up with: delivered and persisted alike. Delivery can outrun Postgres for a run
  // (the spool takes the difference): a burst absorbed, not a rate sustained.
  out["sustained_per_s"] = persistence.is_null()
                               ? delivered_per_s
                               : std::min(delivered_per_s, persistence["persisted_per_s"].get<double>());
  if (!persistence.is_null()) out["persistence"] = persistence;
  out["load_generator"] = self.report(acked);

  const std::string text = out.dump(2);
  if (o.out.empty()) {
    std::cout << text << "\n";
  } else {
    std::ofstream f(o.out);
    f << text << "\n";
    if (!f) die("cannot write " + o.out);
  }
  return 0;
}
