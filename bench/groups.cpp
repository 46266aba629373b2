// mqchat-bench-groups: group fan-out (`./mqchat bench groups`). Creates --members users and one
// group of them (owner: the first), connects every member (QoS 1 subscription to the group's
// messages), then the owner publishes QoS 1 at --rate msg/s for --duration s. Each delivery's
// latency is measured from the send time carried in the content ("bench <seq> <send µs>"); the
// persisted rate is what reached Postgres during the run. All clients run on one thread (poll). One
// JSON document on stdout or --out.
#include <mosquitto.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

[[noreturn]] void die(const std::string& m) {
  std::cerr << "mqchat-bench-groups: " << m << "\n";
  std::exit(2);
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string dsn;
  std::string prefix = "bench-g";
  std::string password = "bench-password";
  int members = 256;
  double rate = 100;
  double duration_s = 10;
  double drain_s = 5;
  std::string out;
};

struct Member {
  std::string name;
  mosquitto* mosq = nullptr;
  std::atomic<bool> subscribed{false};
  std::atomic<bool> connected{false};
  std::atomic<int> sub_rc{-1};
  std::mutex mu;
  std::vector<int64_t> latencies_us;
  std::atomic<uint64_t> acked{0};
};

std::string room_topic;

void on_connect(mosquitto*, void* obj, int rc) {
  auto* m = static_cast<Member*>(obj);
  if (rc == 0) m->connected = true;
}

void on_subscribe(mosquitto*, void* obj, int, int count, const int* granted) {
  auto* m = static_cast<Member*>(obj);
  m->sub_rc = count > 0 ? granted[0] : 0x80;
  m->subscribed = true;
}

void on_publish(mosquitto*, void* obj, int) { static_cast<Member*>(obj)->acked++; }

// The stored JSON's "content":"bench <seq> <send µs>" (found, not parsed: the receivers must not
// be what limits the run on a small box).
void on_message(mosquitto*, void* obj, const mosquitto_message* msg) {
  const int64_t t = now_us();
  auto* m = static_cast<Member*>(obj);
  const std::string_view payload(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
  constexpr std::string_view key = "\"content\":\"bench ";
  const auto at = payload.find(key);
  if (at == std::string_view::npos) return;
  const std::string rest(payload.substr(at + key.size(), 48));
  unsigned long long seq = 0;
  long long sent = 0;
  if (std::sscanf(rest.c_str(), "%llu %lld", &seq, &sent) != 2) return;
  m->latencies_us.push_back(t - sent);
}

// Every client's network I/O on one thread (poll over their sockets): 256 loop threads would
// compete with the broker for the cores.
void pump(std::vector<std::unique_ptr<Member>>& members, int timeout_ms) {
  static std::vector<pollfd> fds;
  fds.resize(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    fds[i].fd = mosquitto_socket(members[i]->mosq);
    fds[i].events = static_cast<short>(POLLIN | (mosquitto_want_write(members[i]->mosq) ? POLLOUT : 0));
    fds[i].revents = 0;
  }
  ::poll(fds.data(), fds.size(), timeout_ms);
  for (size_t i = 0; i < members.size(); ++i) {
    if (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) mosquitto_loop_read(members[i]->mosq, 1);
    if (fds[i].revents & POLLOUT) mosquitto_loop_write(members[i]->mosq, 1);
  }
  static auto last_misc = Clock::now();
  if (Clock::now() - last_misc > std::chrono::milliseconds(500)) {
    for (auto& m : members) mosquitto_loop_misc(m->mosq);
    last_misc = Clock::now();
  }
}

double pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--host") o.host = next();
    else if (a == "--port") o.port = std::stoi(next());
    else if (a == "--dsn") o.dsn = next();
    else if (a == "--prefix") o.prefix = next();
    else if (a == "--password") o.password = next();
    else if (a == "--members") o.members = std::stoi(next());
    else if (a == "--rate") o.rate = std::stod(next());
    else if (a == "--duration") o.duration_s = std::stod(next());
    else if (a == "--drain") o.drain_s = std::stod(next());
    else if (a == "--out") o.out = next();
    else die("unknown option " + a);
  }
  if (o.dsn.empty()) die("--dsn is required");
  if (o.members < 3) die("--members must be at least 3");
  if (o.rate <= 0 || o.duration_s <= 0) die("--rate and --duration must be positive");

  // Users (bcrypt cost 4: logins are not what is measured) and the group.
  std::vector<std::string> names;
  for (int i = 0; i < o.members; ++i) names.push_back(o.prefix + "-m" + std::to_string(i));
  std::string room, conv;
  {
    pqxx::connection db(o.dsn);
    pqxx::work tx(db);
    for (const auto& n : names)
      tx.exec_params("insert into profiles (username, password_hash) values ($1, crypt($2, gen_salt('bf', 4))) "
                     "on conflict (username) do update set password_hash = excluded.password_hash",
                     n, o.password);
    json others = std::vector<std::string>(names.begin() + 1, names.end());
    const auto res = json::parse(
        tx.exec_params1("select mqchat_group_request($1, 'create', null, 'bench group', "
                        "array(select jsonb_array_elements_text($2::jsonb)), null)::text",
                        names[0], others.dump())[0]
            .as<std::string>());
    if (res["status"] != "ok") die("creating the group: " + res.dump());
    room = res["group"]["room"];
    conv = tx.exec_params1("select mqchat_conversation_id($1)::text", room)[0].as<std::string>();
    tx.commit();
  }
  room_topic = "chat/" + room + "/messages";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the plugin's directories reload on NOTIFY

  mosquitto_lib_init();
  std::vector<std::unique_ptr<Member>> members;
  for (const auto& n : names) {
    auto m = std::make_unique<Member>();
    m->name = n;
    m->mosq = mosquitto_new((n + "-bench").c_str(), true, m.get());
    if (!m->mosq) die("mosquitto_new");
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_max_inflight_messages_set(m->mosq, 1000);
    mosquitto_username_pw_set(m->mosq, n.c_str(), o.password.c_str());
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
    mosquitto_message_callback_set(m->mosq, on_message);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    if (mosquitto_connect(m->mosq, o.host.c_str(), o.port, 60) != MOSQ_ERR_SUCCESS) die("connect " + n);
    members.push_back(std::move(m));
  }
  const auto connect_deadline = Clock::now() + std::chrono::seconds(60);
  const auto every = [&members](auto pred) {
    return std::all_of(members.begin(), members.end(), [&](const auto& m) { return pred(*m); });
  };
  while (!every([](const Member& m) { return m.connected.load(); }) && Clock::now() < connect_deadline) pump(members, 10);
  if (!every([](const Member& m) { return m.connected.load(); })) die("not every member connected");
  for (auto& m : members) mosquitto_subscribe(m->mosq, nullptr, room_topic.c_str(), 1);
  while (!every([](const Member& m) { return m.subscribed.load(); }) && Clock::now() < connect_deadline) pump(members, 10);
  for (auto& m : members)
    if (m->sub_rc >= 0x80 || m->sub_rc < 0) die("subscription refused for " + m->name);

  // The owner publishes at a fixed rate.
  Member& sender = *members[0];
  const auto interval = std::chrono::duration<double>(1.0 / o.rate);
  const auto start = Clock::now();
  const int64_t start_us = now_us();
  uint64_t sent = 0;
  while (Clock::now() - start < std::chrono::duration<double>(o.duration_s)) {
    const auto due = start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(sent));
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()).count();
    if (wait > 0) {
      pump(members, static_cast<int>(std::min<long long>(wait, 5)));
      continue;
    }
    const std::string payload = "bench " + std::to_string(sent) + " " + std::to_string(now_us());
    if (mosquitto_publish(sender.mosq, nullptr, room_topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1,
                          false) == MOSQ_ERR_SUCCESS)
      ++sent;
  }
  const double send_s = std::chrono::duration<double>(Clock::now() - start).count();

  // Persisted during the run, then wait for the rest (and the deliveries) to arrive.
  pqxx::connection db(o.dsn);
  auto stored = [&]() {
    pqxx::read_transaction tx(db);
    return tx.exec_params1("select count(*) from messages where conversation_id = $1::uuid", conv)[0].as<uint64_t>();
  };
  const uint64_t stored_at_end = stored();
  const auto drain_start = Clock::now();
  uint64_t stored_final = stored_at_end;
  double persist_lag_s = 0;
  auto last_check = Clock::now() - std::chrono::seconds(1);
  bool all_stored = false;
  while (Clock::now() - drain_start < std::chrono::duration<double>(o.drain_s)) {
    pump(members, 10);  // keep receiving meanwhile
    if (!all_stored && Clock::now() - last_check > std::chrono::milliseconds(50)) {
      last_check = Clock::now();
      stored_final = stored();
      all_stored = stored_final >= sent;
      if (all_stored) persist_lag_s = std::chrono::duration<double>(Clock::now() - drain_start).count();
    }
    uint64_t got = 0;
    for (auto& m : members) got += m->latencies_us.size();
    if (all_stored && got >= sent * members.size()) break;
  }

  std::vector<int64_t> all;
  uint64_t delivered = 0;
  for (auto& m : members) {
    delivered += m->latencies_us.size();
    all.insert(all.end(), m->latencies_us.begin(), m->latencies_us.end());
  }
  const uint64_t expected = sent * members.size();
  json r{{"members", o.members},
         {"room", room},
         {"rate", o.rate},
         {"sent", sent},
         {"send_seconds", send_s},
         {"acked", sender.acked.load()},
         {"deliveries_expected", expected},
         {"deliveries", delivered},
         {"delivered_per_s", static_cast<double>(delivered) / send_s},
         {"latency_ms", {{"p50", pct(all, 50)}, {"p99", pct(all, 99)}, {"max", pct(all, 100)}}},
         {"persisted_during_run", stored_at_end},
         {"persisted", stored_final},
         {"persisted_per_s", static_cast<double>(stored_at_end) / send_s},
         {"persist_lag_after_run_s", all_stored ? persist_lag_s : -1},
         {"started_at_us", start_us}};
  for (auto& m : members) {
    mosquitto_disconnect(m->mosq);
    mosquitto_destroy(m->mosq);
  }
  mosquitto_lib_cleanup();
  const std::string text = r.dump(2);
  if (o.out.empty()) std::cout << text << "\n";
  else std::ofstream(o.out) << text << "\n";
  std::cerr << "groups: " << o.members << " members, " << sent << " msgs at " << o.rate << "/s: deliveries "
            << delivered << "/" << expected << ", p99 " << pct(all, 99) << " ms, persisted "
            << stored_final << "/" << sent << "\n";
  return delivered == expected && stored_final == sent ? 0 : 1;
}
