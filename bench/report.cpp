// mqchat-bench-report: turns the JSON files of one `./mqchat bench` run into results.json and a
// Markdown table (medians over the repeated runs, ratios, targets).
//   mqchat-bench-report DIR   reads DIR/runs/<config>.<n>.json and, when present, DIR/micro.json,
//                             DIR/callgrind.json, DIR/history.json, DIR/drain.json
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json load(const fs::path& p) {
  std::ifstream f(p);
  if (!f) return json();
  try {
    return json::parse(f);
  } catch (const std::exception& e) {
    std::cerr << "mqchat-bench-report: " << p << ": " << e.what() << "\n";
    return json();
  }
}

// "a.b.c" inside j; NaN when absent or not a number.
double at(const json& j, const std::string& path) {
  const json* cur = &j;
  std::stringstream ss(path);
  std::string key;
  while (std::getline(ss, key, '.')) {
    if (!cur->is_object() || !cur->contains(key)) return NAN;
    cur = &(*cur)[key];
  }
  if (cur->is_number()) return cur->get<double>();
  if (cur->is_boolean()) return cur->get<bool>() ? 1 : 0;
  return NAN;
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string fmt(double v, int decimals = 0) {
  if (std::isnan(v)) return "–";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}

const std::vector<std::pair<std::string, std::string>> kConfigs = {
    {"a", "(a) bare Mosquitto, max rate"},
    {"b", "(b) Mosquitto + mqchat plugin, max rate"},
    {"c", "(c) bare Mosquitto + DIY INSERT subscriber, max rate"},
    {"a-half", "(a) bare, fixed rate = ½ of (a) max"},
    {"b-half", "(b) plugin, fixed rate = ½ of (a) max"},
    {"a-bhalf", "(a) bare, fixed rate = ½ of (b) max"},
    {"b-bhalf", "(b) plugin, fixed rate = ½ of (b) max"},
    {"s", "(s) plugin spooling only (Postgres, bridge stopped), max rate"},
    {"s-half", "(s) spooling only, fixed rate = ½ of (a) max"},
    {"s-bhalf", "(s) spooling only, fixed rate = ½ of (b) max"},
    // The issue's own points: a fixed --rate (8,000 msg/s) for each, and (b) at 80 % of its max.
    {"a-rate", "(a) bare, fixed rate = --rate"},
    {"b-rate", "(b) plugin, fixed rate = --rate"},
    {"s-rate", "(s) spooling only, fixed rate = --rate"},
    {"b-b80", "(b) plugin, fixed rate = 80 % of (b) max"},
};

const std::vector<std::string> kMetrics = {
    "delivered_per_s", "sustained_per_s", "latency_us.p50", "latency_us.p99", "latency_us.p999", "acked", "lost",
    "duplicates",
    "persistence.persisted_per_s", "persistence.lag_ms.p50", "persistence.lag_ms.p99",
    "persistence.tail_after_last_ack_ms", "persistence.rows_in_db", "persistence.missing_rows",
    "processes.broker.cpu_pct", "processes.broker.hwm_kb", "processes.broker.rss_start_kb",
    "processes.broker.rss_end_kb", "processes.diy.cpu_pct", "target_rate",
    "cpu.broker_thread.us_per_message", "cpu.broker_other_threads.us_per_message", "cpu.plugin_threads.us_per_message",
    "cpu.postgres.us_per_message", "cpu.bridge.us_per_message", "cpu.diy.us_per_message", "cpu.total_us_per_message",
    "load_generator.us_per_message"};

// The components whose CPU per message bench/run accounts for (loadgen --account).
const std::vector<std::pair<std::string, std::string>> kCpuComponents = {
    {"broker_thread", "broker thread"}, {"plugin_threads", "plugin threads"},
    {"broker_other_threads", "broker, other threads"}, {"postgres", "Postgres"}, {"bridge", "bridge"},
    {"diy", "DIY subscriber"}};

std::string target_line(const std::string& what, double value, double limit, bool higher_is_better,
                        const std::string& unit, int decimals = 2) {
  if (std::isnan(value)) return "| " + what + " | – | not measured |";
  const bool ok = higher_is_better ? value >= limit : value <= limit;
  return "| " + what + " | " + fmt(value, decimals) + unit + " | " + (ok ? "met" : "**missed**") + " (target " +
         (higher_is_better ? "≥ " : "≤ ") + fmt(limit, decimals) + unit + ") |";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: mqchat-bench-report RESULTS_DIR\n";
    return 2;
  }
  const fs::path dir = argv[1];
  std::map<std::string, std::vector<json>> runs;
  if (fs::exists(dir / "runs"))
    for (const auto& e : fs::directory_iterator(dir / "runs")) {
      const std::string name = e.path().filename().string();
      const auto dot = name.find('.');
      if (dot == std::string::npos || e.path().extension() != ".json") continue;
      json j = load(e.path());
      if (!j.is_null()) runs[name.substr(0, dot)].push_back(std::move(j));
    }

  json summary = json::object();
  for (const auto& [label, list] : runs) {
    json m = json::object();
    m["runs"] = list.size();
    for (const auto& key : kMetrics) {
      std::vector<double> v;
      for (const auto& r : list) v.push_back(at(r, key));
      const double med = median(v);
      if (!std::isnan(med)) m[key] = med;
    }
    summary[label] = m;
  }
  auto S = [&](const std::string& label, const std::string& key) {
    return summary.contains(label) && summary[label].contains(key) ? summary[label][key].get<double>() : NAN;
  };

  auto p99_added_ms = [&](const std::string& label, const std::string& bare) {  // label's p99 over bare's
    return (S(label, "latency_us.p99") - S(bare, "latency_us.p99")) / 1000.0;
  };
  auto cpu_ratio = [&](const std::string& label, const std::string& bare) {  // all components' CPU over bare's
    return S(label, "cpu.total_us_per_message") / S(bare, "cpu.total_us_per_message");
  };
  json ratios = {{"throughput_b_over_a", S("b", "sustained_per_s") / S("a", "sustained_per_s")},
                 {"persisted_b_over_c", S("b", "persistence.persisted_per_s") / S("c", "persistence.persisted_per_s")},
                 {"p99_added_by_plugin_at_half_rate_ms", p99_added_ms("b-half", "a-half")},
                 {"p99_added_by_plugin_at_half_b_rate_ms", p99_added_ms("b-bhalf", "a-bhalf")},
                 // (s): the same plugin with Postgres and the bridge stopped, so its broker-thread path alone
                 {"p99_added_spooling_only_at_half_rate_ms", p99_added_ms("s-half", "a-half")},
                 {"p99_added_spooling_only_at_half_b_rate_ms", p99_added_ms("s-bhalf", "a-bhalf")},
                 {"p99_added_by_plugin_at_rate_ms", p99_added_ms("b-rate", "a-rate")},
                 {"p99_added_spooling_only_at_rate_ms", p99_added_ms("s-rate", "a-rate")},
                 {"broker_cpu_b_over_a", S("b", "processes.broker.cpu_pct") / S("a", "processes.broker.cpu_pct")},
                 {"cpu_per_message_b_over_a_at_half_rate", cpu_ratio("b-half", "a-half")},
                 {"cpu_per_message_b_over_a_at_rate", cpu_ratio("b-rate", "a-rate")},
                 {"cpu_per_message_b_over_a", cpu_ratio("b", "a")}};
  for (auto it = ratios.begin(); it != ratios.end();)
    if (it->is_number() && std::isnan(it->get<double>())) it = ratios.erase(it); else ++it;

  json out = {{"configurations", summary}, {"ratios", ratios}};
  for (const char* extra : {"meta", "micro", "callgrind", "history", "drain"}) {
    json j = load(dir / (std::string(extra) + ".json"));
    if (!j.is_null()) out[extra] = j;
  }
  out["raw_runs"] = runs;

  std::ostringstream md;
  if (out.contains("meta")) {
    md << "Run: " << out["meta"].value("date", "") << ", " << out["meta"].value("machine", "") << "; "
       << out["meta"].value("load", "") << "\n\n";
  }
  // A fixed-rate run's title names the rate it was given, e.g. "… = ½ of (a) max (6,400 msg/s)".
  auto title_of = [&](const std::string& label, const std::string& title) {
    const double rate = S(label, "target_rate");
    return rate > 0 ? title + " (" + fmt(rate) + " msg/s)" : title;  // 0: a max-rate run
  };
  bool any_compare = false;
  for (const auto& [label, title] : kConfigs) any_compare |= summary.contains(label);
  if (any_compare) {
    md << "| configuration | runs | delivered msg/s | e2e p50 ms | p99 ms | p99.9 ms | persisted msg/s | "
          "persist lag p50 / p99 ms | tail after last ack ms | rows in PG / acked | broker CPU % | broker peak "
          "RSS MB | RSS start→end MB |\n";
    md << "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& [label, title] : kConfigs) {
      if (!summary.contains(label)) continue;
      const bool persisted = !std::isnan(S(label, "persistence.rows_in_db"));
      md << "| " << title_of(label, title) << " | " << S(label, "runs") << " | " << fmt(S(label, "delivered_per_s")) << " | "
         << fmt(S(label, "latency_us.p50") / 1000, 2) << " | " << fmt(S(label, "latency_us.p99") / 1000, 2) << " | "
         << fmt(S(label, "latency_us.p999") / 1000, 2) << " | "
         << (persisted ? fmt(S(label, "persistence.persisted_per_s")) : "–") << " | "
         << (persisted ? fmt(S(label, "persistence.lag_ms.p50"), 1) + " / " + fmt(S(label, "persistence.lag_ms.p99"), 1)
                       : "–")
         << " | " << (persisted ? fmt(S(label, "persistence.tail_after_last_ack_ms")) : "–") << " | "
         << (persisted ? fmt(S(label, "persistence.rows_in_db")) + " / " + fmt(S(label, "acked")) : "–") << " | "
         << fmt(S(label, "processes.broker.cpu_pct")) << " | " << fmt(S(label, "processes.broker.hwm_kb") / 1024, 1)
         << " | " << fmt(S(label, "processes.broker.rss_start_kb") / 1024, 1) << "→"
         << fmt(S(label, "processes.broker.rss_end_kb") / 1024, 1) << " |\n";
    }
    // CPU per message of each component, from /proc over the whole run (bench/proc_stats.h).
    bool any_cpu = false;
    for (const auto& [label, title] : kConfigs) any_cpu |= !std::isnan(S(label, "cpu.total_us_per_message"));
    if (any_cpu) {
      md << "\nCPU µs per message (from /proc, first publish until every message is delivered and stored; "
         << (out.contains("meta") ? out["meta"].value("pinning", std::string("pinning unknown")) : "pinning unknown")
         << ")\n\n| configuration |";
      for (const auto& [key, name] : kCpuComponents) md << " " << name << " |";
      md << " total | load generator (not in the total) |\n|---|";
      for (size_t i = 0; i <= kCpuComponents.size() + 1; ++i) md << "---|";
      md << "\n";
      for (const auto& [label, title] : kConfigs) {
        if (std::isnan(S(label, "cpu.total_us_per_message"))) continue;
        md << "| " << title_of(label, title) << " |";
        for (const auto& [key, name] : kCpuComponents) {
          const double v = S(label, "cpu." + key + ".us_per_message");
          md << " " << (std::isnan(v) ? "–" : fmt(v, 1)) << " |";
        }
        md << " " << fmt(S(label, "cpu.total_us_per_message"), 1) << " | "
           << fmt(S(label, "load_generator.us_per_message"), 1) << " |\n";
      }
    }
    md << "\n| target | measured | verdict |\n|---|---|---|\n";
    md << target_line("(b)/(a) QoS 1 throughput, sustained (delivered and persisted alike: the lower of the two)",
                      ratios.value("throughput_b_over_a", NAN) * 100, 90, true, " %", 1)
       << "\n";
    // --rate is the same for every configuration; whichever ran says what it was.
    double fixed_rate = NAN;
    for (const char* l : {"a-rate", "b-rate", "s-rate"})
      if (!(fixed_rate > 0)) fixed_rate = S(l, "target_rate");
    const std::string at_rate = "at " + fmt(fixed_rate) + " msg/s (--rate)";
    md << target_line("p99 latency added by the plugin " + at_rate, ratios.value("p99_added_by_plugin_at_rate_ms", NAN),
                      1.0, false, " ms")
       << "\n";
    md << target_line("p99 latency added by the plugin at ½ of (a)'s max rate",
                      ratios.value("p99_added_by_plugin_at_half_rate_ms", NAN), 1.0, false, " ms")
       << "\n";
    md << target_line("p99 latency added by the plugin at ½ of (b)'s max rate (not a target: a load (b) carries)",
                      ratios.value("p99_added_by_plugin_at_half_b_rate_ms", NAN), 1.0, false, " ms")
       << "\n";
    if (summary.contains("s-half") || summary.contains("s-bhalf")) {
      md << target_line("p99 latency added by the plugin spooling only, Postgres and the bridge stopped ((s)), at ½ of "
                        "(a)'s max rate (not a target: what the broker-thread path costs without persistence's CPU)",
                        ratios.value("p99_added_spooling_only_at_half_rate_ms", NAN), 1.0, false, " ms")
         << "\n";
      md << target_line("… and at ½ of (b)'s max rate", ratios.value("p99_added_spooling_only_at_half_b_rate_ms", NAN),
                        1.0, false, " ms")
         << "\n";
      md << target_line("… and " + at_rate, ratios.value("p99_added_spooling_only_at_rate_ms", NAN), 1.0, false, " ms")
         << "\n";
    }
    md << target_line("(b) delivers the ½-of-(a) fixed rate", S("b-half", "delivered_per_s"), S("b-half", "target_rate") * 0.98,
                      true, " msg/s", 0)
       << "\n";
    md << target_line("persistence lag p99, (b) at max rate", S("b", "persistence.lag_ms.p99"), 100, false, " ms", 1)
       << "\n";
    md << target_line("persistence lag p99, (b) at ½ of (a)", S("b-half", "persistence.lag_ms.p99"), 100, false, " ms", 1)
       << "\n";
    md << target_line("persistence lag p99, (b) at ½ of (b)", S("b-bhalf", "persistence.lag_ms.p99"), 100, false, " ms", 1)
       << "\n";
    md << target_line("persistence lag p99, (b) at 80 % of (b)'s max rate (" + fmt(S("b-b80", "target_rate")) + " msg/s)",
                      S("b-b80", "persistence.lag_ms.p99"), 100, false, " ms", 1)
       << "\n";
    md << target_line("persistence lag p99, (b) " + at_rate, S("b-rate", "persistence.lag_ms.p99"), 100, false, " ms", 1)
       << "\n";
    double missing = 0;
    for (const char* l : {"b", "b-half", "b-bhalf", "b-rate", "b-b80"})
      for (const auto& r : runs[l]) missing += std::max(0.0, at(r, "persistence.missing_rows"));
    md << target_line("acknowledged messages missing from Postgres, all (b) runs", runs["b"].empty() ? NAN : missing, 0,
                      false, "", 0)
       << "\n";
    // Memory: growth of the broker's RSS over the second half of each (b) max-rate run, when the
    // dedup cache (100k entries) has long been full; a leak shows as steady growth here.
    std::vector<double> growth;
    for (const auto& r : runs["b"]) {
      const auto& tl = r.value("timeline", json::array());
      if (tl.size() < 4) continue;
      const double mid = at(tl[tl.size() / 2], "broker_rss_kb"), last = at(tl[tl.size() - 1], "broker_rss_kb");
      if (!std::isnan(mid) && mid > 0) growth.push_back(100.0 * (last - mid) / mid);
    }
    md << target_line("broker RSS growth over the second half of the (b) max-rate run", median(growth), 2, false,
                      " %", 1)
       << "\n";
    md << target_line("all components' CPU per message, (b)/(a) at ½ of (a)'s max rate",
                      ratios.value("cpu_per_message_b_over_a_at_half_rate", NAN), 1.6, false, "×", 2)
       << "\n";
    md << target_line("all components' CPU per message, (b)/(a) " + at_rate,
                      ratios.value("cpu_per_message_b_over_a_at_rate", NAN), 1.6, false, "×", 2)
       << "\n";
    md << target_line("Postgres CPU per persisted message, (b) at ½ of (a)'s max rate",
                      S("b-half", "cpu.postgres.us_per_message"), 25, false, " µs", 1)
       << "\n";
    md << target_line("Postgres CPU per persisted message, (b) " + at_rate, S("b-rate", "cpu.postgres.us_per_message"),
                      25, false, " µs", 1)
       << "\n";
    md << target_line("(b)/(c) persisted messages/s", ratios.value("persisted_b_over_c", NAN), 10, true, "×", 1)
       << "\n";
  }
  // bench/run history-growth: one file per history size / conversation count.
  std::vector<json> growth;
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("growth-", 0) == 0 && e.path().extension() == ".json") growth.push_back(load(e.path()));
    }
  std::sort(growth.begin(), growth.end(), [](const json& a, const json& b) {
    return std::make_pair(a.value("receiver_conversations", 0L), a.value("messages_per_conversation", 0L)) <
           std::make_pair(b.value("receiver_conversations", 0L), b.value("messages_per_conversation", 0L));
  });
  if (!growth.empty()) {
    out["history_growth"] = growth;
    md << "\n| history growth: messages per conversation / receiver's conversations | delivered msg/s | e2e p99 ms | "
          "persist lag p99 ms |";
    for (const auto& [key, name] : kCpuComponents)
      if (key != "broker_other_threads" && key != "diy") md << " " << name << " µs/msg |";
    md << " total µs/msg | summary p50 / p99 ms | runs |\n|---|---|---|---|";
    for (const auto& [key, name] : kCpuComponents)
      if (key != "broker_other_threads" && key != "diy") md << "---|";
    md << "---|---|---|\n";
    // Medians over the step's runs (runs/growth-LABEL.N.json, --runs); the step's file holds the first.
    auto runs_at = [&](const json& g, const std::string& key) {
      return S("growth-" + g.value("label", std::string()), key);
    };
    auto load_at = [&](const json& g, const std::string& key) {
      const double m = runs_at(g, key);
      return std::isnan(m) ? at(g["load"], key) : m;
    };
    auto cpu_of = [&](const json& g, const std::string& key) { return load_at(g, "cpu." + key + ".us_per_message"); };
    for (const auto& g : growth) {
      md << "| " << g.value("messages_per_conversation", 0L) << " / " << g.value("receiver_conversations", 0L) << " | "
         << fmt(load_at(g, "delivered_per_s")) << " | " << fmt(load_at(g, "latency_us.p99") / 1000, 2) << " | "
         << fmt(load_at(g, "persistence.lag_ms.p99"), 1) << " |";
      for (const auto& [key, name] : kCpuComponents)
        if (key != "broker_other_threads" && key != "diy") md << " " << fmt(cpu_of(g, key), 1) << " |";
      md << " " << fmt(load_at(g, "cpu.total_us_per_message"), 1) << " | "
         << fmt(at(g, "summary_ms_after_load.p50"), 2) << " / " << fmt(at(g, "summary_ms_after_load.p99"), 2) << " | "
         << fmt(runs_at(g, "runs")) << " |\n";
    }
    // Flat cost: the largest history (and the longest list) against the empty one.
    const json* base = nullptr;
    const json *deepest = nullptr, *widest = nullptr;
    for (const auto& g : growth) {
      if (g.value("receiver_conversations", 0L) == 1 && g.value("messages_per_conversation", 0L) == 0) base = &g;
      if (g.value("receiver_conversations", 0L) == 1 &&
          (!deepest || g.value("messages_per_conversation", 0L) > deepest->value("messages_per_conversation", 0L)))
        deepest = &g;
      if (!widest || g.value("receiver_conversations", 0L) > widest->value("receiver_conversations", 0L)) widest = &g;
    }
    md << "\n| target | measured | verdict |\n|---|---|---|\n";
    for (const auto& g : growth)
      md << target_line("Postgres CPU per persisted message at " + std::to_string(g.value("messages_per_conversation", 0L)) +
                            " messages / " + std::to_string(g.value("receiver_conversations", 0L)) + " conversations",
                        cpu_of(g, "postgres"), 25, false, " µs", 1)
         << "\n";
    if (base && deepest && deepest != base)
      md << target_line("Postgres CPU per message, deepest history / empty", cpu_of(*deepest, "postgres") / cpu_of(*base, "postgres"),
                        1.2, false, "×", 2)
         << "\n";
    if (base && widest && widest != base && widest->value("receiver_conversations", 0L) > 1)
      md << target_line("Postgres CPU per message, longest conversation list / one conversation",
                        cpu_of(*widest, "postgres") / cpu_of(*base, "postgres"), 1.2, false, "×", 2)
         << "\n";
  }
  if (out.contains("micro")) {
    md << "\n| micro-benchmark (plugin core, one thread) | ns/op |\n|---|---|\n";
    // With repetitions, only the medians; otherwise every benchmark.
    bool aggregated = false;
    for (const auto& b : out["micro"]["benchmarks"]) aggregated |= b.value("aggregate_name", "") == "median";
    for (const auto& b : out["micro"]["benchmarks"]) {
      if (aggregated && b.value("aggregate_name", "") != "median") continue;
      md << "| " << b.value("run_name", b.value("name", "")) << " | " << fmt(b.value("cpu_time", NAN), 0) << " |\n";
    }
  }
  if (out.contains("callgrind")) {
    const auto& c = out["callgrind"];
    md << "\n| callgrind, QoS 1 end to end (" << c.value("messages_low", 0) << " vs " << c.value("messages_high", 0)
       << " messages, difference) | instructions / message, broker thread | all threads |\n|---|---|---|\n";
    for (const char* k : {"bare", "plugin"})
      if (c.contains(k))
        md << "| " << (std::string(k) == "bare" ? "bare Mosquitto" : "Mosquitto + mqchat plugin") << " | "
           << fmt(c[k].value("ir_per_message_main_thread", NAN)) << " | " << fmt(c[k].value("ir_per_message", NAN))
           << " |\n";
  }
  if (out.contains("history")) {
    const auto& h = out["history"];
    md << "\n| history page (50 rows, keyset) at " << h.value("rows", 0L) << " rows / " << h.value("conversations", 0L)
       << " conversations | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|\n";
    for (const char* k : {"latest", "deep"})
      md << "| " << k << " | " << fmt(h[k].value("p50_ms", NAN), 2) << " | " << fmt(h[k].value("p99_ms", NAN), 2) << " | "
         << fmt(h[k].value("p999_ms", NAN), 2) << " | " << fmt(h[k].value("max_ms", NAN), 2) << " |\n";
    md << "\n" << target_line("history page p99 (deep)", h["deep"].value("p99_ms", NAN), 5, false, " ms") << "\n";
  }
  if (out.contains("drain")) {
    const auto& d = out["drain"];
    md << "\n| backlog drain after a Postgres outage | value |\n|---|---|\n"
       << "| messages spooled while Postgres was down | " << fmt(d.value("messages", NAN)) << " |\n"
       << "| Postgres start → all rows in Postgres | " << fmt(d.value("seconds_from_pg_start", NAN), 1) << " s |\n"
       << "| first row → last row | " << fmt(d.value("seconds_first_to_last_row", NAN), 1) << " s |\n"
       << "| drain rate (first → last row) | " << fmt(d.value("rate_per_s", NAN)) << " msg/s |\n";
    if (d.contains("wal_bytes_per_message"))
      md << "| WAL written per message / checkpoints meanwhile | " << fmt(d.value("wal_bytes_per_message", NAN))
         << " B / " << fmt(d.value("checkpoints", NAN)) << " |\n";
    if (d.contains("live")) {  // live traffic from other users while the backlog drains
      const auto& l = d["live"];
      const json none = json::object();
      const auto& lp = l.contains("persistence") ? l["persistence"] : none;
      md << "| live traffic meanwhile: delivered | " << fmt(l.value("delivered_per_s", NAN)) << " msg/s |\n"
         << "| live traffic: end-to-end p50 / p99 | " << fmt(l["latency_us"].value("p50", NAN) / 1000, 2) << " / "
         << fmt(l["latency_us"].value("p99", NAN) / 1000, 2) << " ms |\n"
         << "| live traffic: persistence lag p50 / p99 (stored behind the backlog) | "
         << fmt(lp.contains("lag_ms") ? lp["lag_ms"].value("p50", NAN) : NAN) << " / "
         << fmt(lp.contains("lag_ms") ? lp["lag_ms"].value("p99", NAN) : NAN) << " ms |\n"
         << "| live traffic: acknowledged / all stored | " << fmt(l.value("acked", NAN)) << " / "
         << (lp.value("all_acked_rows_present", false) ? "yes" : "no") << " |\n";
    }
    std::string each;  // --runs K: every run's rate, the table above being the median run's
    if (d.contains("runs") && d["runs"].size() > 1) {
      for (const auto& r : d["runs"]) each += (each.empty() ? "" : ", ") + fmt(r.value("rate_per_s", NAN));
      md << "| drain rate of each run (the table is the median run's) | " << each << " msg/s |\n";
    }
    const std::string what =
        each.empty() ? "backlog drain rate" : "backlog drain rate, median of " + std::to_string(d["runs"].size()) + " runs";
    md << "\n" << target_line(what, d.value("rate_per_s", NAN), 45000, true, " msg/s", 0) << "\n";
  }

  std::ofstream(dir / "results.json") << out.dump(2) << "\n";
  std::ofstream(dir / "results.md") << md.str();
  std::cout << md.str();
  return 0;
}
