// The benchmark's tools, end to end against the test stack (broker + plugin + Postgres): a short
// pipelined QoS 1 run must deliver, acknowledge and persist every message exactly once, and the
// report and micro-benchmark binaries must still run. Numbers are not judged here, only that
// the measurements are complete and consistent.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
                          quoted(Stack::run_dir() + "/mosquitto.pid") + ") --label b --out " + out.string() +
                          " 2>&1";
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
