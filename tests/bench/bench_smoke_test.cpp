// The benchmark's tools, end to end against the test stack (broker + plugin + Postgres): a short
// pipelined QoS 1 run must deliver, acknowledge and persist every message exactly once, and the
// report and micro-benchmark binaries must still run. Numbers are not judged here, only that
// the measurements are complete and consistent.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/db.h"
#include "tests/support/stack.h"

namespace mqchat::test {
namespace {

namespace fs = std::filesystem;

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream f(p);
  return nlohmann::json::parse(f);
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("mqchat-bench-smoke-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path / "runs"); }
  ~TempDir() { fs::remove_all(path); }
};

TEST(BenchSmoke, LoadGeneratorDeliversAndPersistsEveryMessageThroughThePlugin) {
  MQCHAT_REQUIRE_STACK();
  const std::string prefix = unique_username("bs");
  const std::string password = "smoke-pw";
  const int pairs = 2, per_sender = 300;
  for (int i = 0; i < pairs; ++i) {
    create_user(prefix + "-s" + std::to_string(i), password);
    create_user(prefix + "-r" + std::to_string(i), password);
  }
  sleep(1);  // the plugin's user directory reloads on the profiles NOTIFY

  TempDir dir;
  const fs::path out = dir.path / "runs" / "b.1.json";
  const std::string cmd = std::string(MQCHAT_BENCH_LOAD) + " --port " + std::to_string(Stack::mqtt_port()) +
                          " --user-prefix " + prefix + " --password " + password + " --pairs " +
                          std::to_string(pairs) + " --window 16 --count " + std::to_string(per_sender) +
                          " --dsn " + quoted(Stack::dsn()) + " --watch broker=$(cat " +
                          quoted(Stack::run_dir() + "/mosquitto.pid") + ")" +
                          " --account broker_thread=main:$(cat " + quoted(Stack::run_dir() + "/mosquitto.pid") + ")" +
                          " --account plugin_threads=others:$(cat " + quoted(Stack::run_dir() + "/mosquitto.pid") + ")" +
                          " --account postgres=tree:$(head -n 1 " + quoted(Stack::run_dir() + "/pg/data/postmaster.pid") +
                          ") --label b --out " + out.string() + " 2>&1";
  std::string output;
  ASSERT_EQ(run_command(cmd, &output), 0) << output;
  const auto r = read_json(out);

  const int total = pairs * per_sender;
  EXPECT_EQ(r["sent"], total);
  EXPECT_EQ(r["acked"], total);
  EXPECT_EQ(r["delivered_unique"], total);
  EXPECT_EQ(r["lost"], 0);
  EXPECT_EQ(r["duplicates"], 0);
  EXPECT_EQ(r["unexpected"], 0);
  EXPECT_EQ(r["latency_us"]["count"], total);
  EXPECT_GT(r["latency_us"]["p50"].get<double>(), 0);
  EXPECT_GT(r["delivered_per_s"].get<double>(), 0);
  EXPECT_GT(r["processes"]["broker"]["hwm_kb"].get<double>(), 0);
  EXPECT_GE(r["processes"]["broker"]["cpu_pct"].get<double>(), 0);
  EXPECT_EQ(r["persistence"]["rows_in_db"], total);
  EXPECT_EQ(r["persistence"]["missing_rows"], 0);
  EXPECT_EQ(r["persistence"]["lag_ms"]["count"], total);
  // CPU per message of each component: the broker thread and Postgres did work for these messages.
  EXPECT_EQ(r["cpu"]["messages"], total);
  EXPECT_GT(r["cpu"]["broker_thread"]["us_per_message"].get<double>(), 0);
  EXPECT_GE(r["cpu"]["plugin_threads"]["us_per_message"].get<double>(), 0);
  EXPECT_GT(r["cpu"]["postgres"]["us_per_message"].get<double>(), 0);
  EXPECT_GT(r["cpu"]["total_us_per_message"].get<double>(), r["cpu"]["postgres"]["us_per_message"].get<double>());
  // The load generator's own CPU is reported apart, not in the total; the sustained rate is the
  // lower of delivered and persisted.
  EXPECT_GT(r["load_generator"]["us_per_message"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(r["sustained_per_s"].get<double>(), std::min(r["delivered_per_s"].get<double>(),
                                                               r["persistence"]["persisted_per_s"].get<double>()));

  // The rows are the messages the receivers saw: stored as sent by the plugin's shipper.
  EXPECT_EQ(query_value("select count(*) from messages m join profiles p on p.id = m.sender_id "
                        "where p.username like '" + prefix + "-s%' and m.origin = 'mqtt' and m.content like 'bench %'"),
            std::to_string(total));

  std::string report;
  ASSERT_EQ(run_command(std::string(MQCHAT_BENCH_REPORT) + " " + dir.path.string() + " 2>&1", &report), 0) << report;
  EXPECT_NE(report.find("(b) Mosquitto + mqchat plugin"), std::string::npos) << report;
  const auto results = read_json(dir.path / "results.json");
  EXPECT_EQ(results["configurations"]["b"]["acked"], total);
}

#ifdef MQCHAT_BENCH_RUN
// `bench/run ARGS --out DIR`, its stderr with its stdout.
std::string bench_run(const std::string& args, const TempDir& dir) {
  return std::string(MQCHAT_BENCH_RUN) + " " + args + " --out " + dir.path.string() + " 2>&1";
}

// bench/run history-growth at toy sizes on its own throwaway stack: the fill, the fixed-rate loads with
// CPU accounting (two runs per step), the summary timing and the report all complete.
TEST(BenchSmoke, HistoryGrowthBenchmarkRunsEveryStep) {
  MQCHAT_REQUIRE_STACK();
  TempDir dir;
  std::string output;
  ASSERT_EQ(run_command(bench_run("history-growth --sizes 0,500 --user-convs 20 --rate 300 --duration 3 --warmup 1"
                                  " --runs 2 --pairs 1 --summary-queries 20",
                                  dir),
                        &output),
            0)
      << output;
  for (const char* label : {"size-0", "size-500", "convs-20"}) {
    const auto g = read_json(dir.path / ("growth-" + std::string(label) + ".json"));
    EXPECT_EQ(g["load"]["persistence"]["missing_rows"], 0) << label;
    EXPECT_GT(g["load"]["acked"].get<double>(), 0) << label;
    EXPECT_GT(g["load"]["cpu"]["postgres"]["us_per_message"].get<double>(), 0) << label;
    EXPECT_GT(g["summary_ms_after_load"]["p99"].get<double>(), 0) << label;
    const auto second = read_json(dir.path / "runs" / ("growth-" + std::string(label) + ".2.json"));
    EXPECT_EQ(second["persistence"]["missing_rows"], 0) << label;
  }
  const auto results = read_json(dir.path / "results.json");
  EXPECT_EQ(results["history_growth"].size(), 3u);
  EXPECT_EQ(results["configurations"]["growth-size-500"]["runs"], 2);  // the table's medians are over both
  EXPECT_NE(output.find("history growth"), std::string::npos) << output;
}

// bench/run compare with (a) and (s) on its own throwaway stack: the bare broker, the plugin with Postgres
// and the bridge stopped (which must deliver every message all the same), the fixed-rate rounds at ½ of
// (a)'s max and at --rate, and the report's lines for what the plugin's broker-thread path adds alone.
TEST(BenchSmoke, CompareRunsBareAndSpoolingOnlyConfigurations) {
  MQCHAT_REQUIRE_STACK();
  TempDir dir;
  std::string output;
  ASSERT_EQ(run_command(bench_run("compare --configs a,s --duration 2 --warmup 1 --pairs 1 --rate 500", dir), &output), 0)
      << output;
  const auto results = read_json(dir.path / "results.json");
  for (const char* label : {"a", "s", "a-half", "s-half", "a-rate", "s-rate"}) {
    const auto& c = results["configurations"][label];
    EXPECT_EQ(c["runs"], 1) << label;
    EXPECT_GT(c["delivered_per_s"].get<double>(), 0) << label;
    EXPECT_EQ(c["lost"], 0) << label;
  }
  EXPECT_GT(results["configurations"]["s"]["cpu.broker_thread.us_per_message"].get<double>(), 0);
  EXPECT_TRUE(results["ratios"].contains("p99_added_spooling_only_at_half_rate_ms")) << results["ratios"].dump();
  EXPECT_EQ(results["configurations"]["s-rate"]["target_rate"], 500);
  EXPECT_TRUE(results["ratios"].contains("p99_added_spooling_only_at_rate_ms")) << results["ratios"].dump();
  EXPECT_FALSE(results["configurations"].contains("b-b80")) << "80 % of (b) needs (b)'s runs";
  EXPECT_NE(results["meta"].value("pinning", "").find("load generator"), std::string::npos) << results["meta"].dump();
}

// --loadgen-cores takes a CPU list, as taskset does; anything else is refused before a stack starts.
TEST(BenchSmoke, CompareRefusesALoadGeneratorCoreListThatIsNotOne) {
  TempDir dir;
  std::string output;
  for (const char* bad : {"zero", "0-", "1;2", "-1"}) {
    EXPECT_NE(run_command(bench_run(std::string("compare --loadgen-cores '") + bad + "'", dir), &output), 0) << bad;
    EXPECT_NE(output.find("--loadgen-cores wants a CPU list"), std::string::npos) << bad << ": " << output;
  }
}

// --runs counts runs: none would leave a drain or a compare without a median to report.
TEST(BenchSmoke, RefusesZeroRuns) {
  TempDir dir;
  std::string output;
  for (const char* cmd : {"drain --runs 0", "compare --runs 0"}) {
    EXPECT_NE(run_command(bench_run(cmd, dir), &output), 0) << cmd;
    EXPECT_NE(output.find("--runs wants 1 or more"), std::string::npos) << cmd << ": " << output;
  }
}

// bench/run drain at a toy size, twice: spooled while Postgres is down, every message in Postgres
// after it starts, live traffic delivered and stored meanwhile, each run's rate and WAL kept and the
// median run's in the report.
TEST(BenchSmoke, DrainBenchmarkStoresTheWholeBacklog) {
  MQCHAT_REQUIRE_STACK();
  TempDir dir;
  std::string output;
  ASSERT_EQ(run_command(bench_run("drain --messages 3000 --pairs 2 --duration 2 --runs 2", dir), &output), 0) << output;
  const auto drain = read_json(dir.path / "drain.json");
  ASSERT_EQ(drain["median_of_runs"], 2) << drain.dump();
  ASSERT_EQ(drain["runs"].size(), 2u) << drain.dump();
  std::vector<double> rates;
  for (const auto& run : drain["runs"]) {
    EXPECT_EQ(run["messages"], 3000);
    EXPECT_EQ(run["rows_in_db"], 3000) << run.dump();
    EXPECT_GT(run["rate_per_s"].get<double>(), 0) << run.dump();
    EXPECT_GT(run["wal_bytes_per_message"].get<double>(), 0) << run.dump();
    EXPECT_EQ(run["live"]["lost"], 0) << run.dump();
    EXPECT_TRUE(run["live"]["persistence"]["all_acked_rows_present"].get<bool>()) << run.dump();
    rates.push_back(run["rate_per_s"].get<double>());
  }
  EXPECT_EQ(drain["rate_per_s"].get<double>(), std::min(rates[0], rates[1])) << drain.dump();  // the lower middle
  EXPECT_EQ(drain["rows_in_db"], 3000) << drain.dump();
  std::ifstream md(dir.path / "results.md");
  const std::string report((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(report.find("WAL written per message"), std::string::npos) << report;
  EXPECT_NE(report.find("backlog drain rate, median of 2 runs"), std::string::npos) << report;
}

// bench/run groups at a toy size: a group of 5, every delivery to every member, every message stored.
TEST(BenchSmoke, GroupFanOutBenchmarkDeliversToEveryMember) {
  MQCHAT_REQUIRE_STACK();
  TempDir dir;
  std::string output;
  ASSERT_EQ(run_command(bench_run("groups --members 5 --rate 50 --duration 2", dir), &output), 0) << output;
  const auto r = read_json(dir.path / "groups.json");
  EXPECT_EQ(r["members"], 5);
  EXPECT_GT(r["sent"].get<int>(), 50);
  EXPECT_EQ(r["deliveries"], r["deliveries_expected"]);
  EXPECT_EQ(r["persisted"], r["sent"]);
  EXPECT_GT(r["latency_ms"]["p99"].get<double>(), 0);
}

// bench/run search at a toy size: the fill (search_data.sql), the index, every kind of query.
TEST(BenchSmoke, SearchBenchmarkRunsEveryKindOfQuery) {
  MQCHAT_REQUIRE_STACK();
  TempDir dir;
  std::string output;
  ASSERT_EQ(run_command(bench_run("search --rows 20000 --queries 40", dir), &output), 0) << output;
  const auto r = read_json(dir.path / "search.json");
  EXPECT_EQ(r["rows"], 20000);
  for (const char* kind : {"common", "medium", "rare", "two_words", "cyrillic"}) {
    EXPECT_EQ(r[kind]["queries"], 40) << kind;
    EXPECT_GT(r[kind]["p99_ms"].get<double>(), 0) << kind;
  }
  EXPECT_GT(r["common"]["mean_results"].get<double>(), 1) << "common words are found";
}

// bench/insert_instructions.sh at a toy size: its own Postgres under callgrind, every migration,
// batches merged by mqchat_ingest_staged; a positive count per batch and per row.
TEST(BenchSmoke, InsertInstructionsCountsABatchUnderCallgrind) {
  std::string output;
  const fs::path script = fs::path(MQCHAT_BENCH_RUN).parent_path() / "insert_instructions.sh";
  ASSERT_EQ(run_command(script.string() + " 4 2>&1", &output), 0) << output;
  std::istringstream lines(output);
  std::string line;
  long long batch = 0, row = 0;
  int rows = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    if (fields >> rows >> batch >> row && rows == 4) break;
    rows = 0;
  }
  ASSERT_EQ(rows, 4) << output;
  EXPECT_GT(batch, 100000) << output;
  EXPECT_EQ(row, batch / 4) << output;
}
#endif

TEST(BenchSmoke, LoadGeneratorRefusesBadArguments) {
  std::string output;
  EXPECT_NE(run_command(std::string(MQCHAT_BENCH_LOAD) + " --pairs 0 2>&1", &output), 0);
  EXPECT_NE(output.find("--pairs"), std::string::npos) << output;
  EXPECT_NE(run_command(std::string(MQCHAT_BENCH_LOAD) + " --bogus 2>&1", &output), 0);
}

TEST(BenchSmoke, MicroBenchmarkOfTheHotPathRuns) {
  std::string output;
  ASSERT_EQ(run_command(std::string(MQCHAT_BENCH_MICRO) +
                            " --benchmark_filter=BM_HotPath --benchmark_min_time=0.01 --benchmark_format=json 2>/dev/null",
                        &output),
            0)
      << output;
  const auto j = nlohmann::json::parse(output);
  ASSERT_EQ(j["benchmarks"].size(), 1u);
  EXPECT_FALSE(j["benchmarks"][0].contains("error_occurred")) << output;
  EXPECT_GT(j["benchmarks"][0]["cpu_time"].get<double>(), 0);
}

}  // namespace
}  // namespace mqchat::test
