// The metrics registry, its $SYS and Prometheus forms, the HTTP endpoint, and the plugin's
// $SYS publisher (which values a round publishes).
#include "common/metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "bridge/metrics.h"
#include "common/config.h"
#include "common/metrics_http.h"
#include "plugin/metrics.h"
#include "plugin/sys_publisher.h"
#include "tests/support/http_get.h"

using namespace mqchat;
using namespace mqchat::metrics;
using mqchat::test::http_get;

namespace {

std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string, std::string>>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

TEST(Metrics, CountersGaugesAndHistogramsKeepExactValues) {
  Registry r;
  Counter& c = r.counter("t_events_total", "events", "events");
  Gauge& g = r.gauge("t_depth", "depth", "depth");
  Histogram& h = r.histogram("t_size", "size", "size", {1, 10, 100});
  c.inc();
  c.inc(41);
  g.set(7);
  g.add(-10);
  for (double v : {0.5, 1.0, 5.0, 10.0, 50.0, 1000.0}) h.observe(v);
  const auto families = r.collect();
  ASSERT_EQ(families.size(), 3u);
  EXPECT_EQ(families[0].series[0].value, 42);
  EXPECT_EQ(families[1].series[0].value, -3);
  const auto& hs = families[2].series[0].histogram;
  // le=1: 0.5 and 1.0; le=10: + 5 and 10; le=100: + 50; +Inf: + 1000.
  EXPECT_EQ(hs.cumulative, (std::vector<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(hs.count, 6u);
  EXPECT_DOUBLE_EQ(hs.sum, 1066.5);
  EXPECT_EQ(families[2].bounds, (std::vector<double>{1, 10, 100}));
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry r;
  Counter& c = r.counter("t_total", "", "t");
  Histogram& h = r.histogram("t_h", "", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c.inc();
        h.observe(2);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 400000u);
  EXPECT_EQ(h.snapshot().count, 400000u);
  EXPECT_DOUBLE_EQ(h.snapshot().sum, 800000);
}

TEST(Metrics, LabelledSeriesShareAFamilyAndMistakesAreRefused) {
  Registry r;
  r.counter("t_refused_total", "refusals", "refused", {{"reason", "blank"}}).inc(3);
  r.counter("t_refused_total", "", "refused", {{"reason", "too_long"}});
  const auto families = r.collect();
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].series.size(), 2u);
  EXPECT_EQ(families[0].help, "refusals");
  EXPECT_THROW(r.gauge("t_refused_total", "", ""), std::logic_error);
  r.histogram("t_h", "", "h", {1, 2});
  EXPECT_THROW(r.histogram("t_h", "", "h", {1, 3}), std::logic_error);
  EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
}

TEST(Metrics, SysTopicsAppendLabelValuesAndSplitHistograms) {
  Registry r;
  r.counter("t_accepted_total", "", "messages/accepted").inc(5);
  r.counter("t_refused_total", "", "messages/refused", {{"reason", "blank"}}).inc(2);
  r.gauge("t_hidden", "", "").set(9);  // no $SYS path: left out
  r.computed_gauge("t_lag_seconds", "", "shipper/lag_seconds", [] { return 1.25; });
  Histogram& h = r.histogram("t_batch", "", "shipper/batch_size", {10});
  h.observe(3);
  h.observe(4);
  const auto values = as_map(sys_values(r.collect(), "$SYS/broker/mqchat/"));
  const std::map<std::string, std::string> expected = {
      {"$SYS/broker/mqchat/messages/accepted", "5"},
      {"$SYS/broker/mqchat/messages/refused/blank", "2"},
      {"$SYS/broker/mqchat/shipper/lag_seconds", "1.250"},
      {"$SYS/broker/mqchat/shipper/batch_size/count", "2"},
      {"$SYS/broker/mqchat/shipper/batch_size/sum", "7"},
  };
  EXPECT_EQ(values, expected);
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(12345678901.0), "12345678901");
  EXPECT_EQ(format_value(0.0005), "0.001");
}

TEST(Metrics, PrometheusTextHasTypesHelpLabelsAndCumulativeBuckets) {
  Registry r;
  r.counter("t_refused_total", "Refused publishes", "", {{"reason", "blank"}}).inc(2);
  r.gauge("t_spool_bytes", "Bytes on disk", "").set(4096);
  Histogram& h = r.histogram("t_seconds", "Latency", "", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(3);
  const std::string text = prometheus_text(r);
  for (const char* line : {
           "# HELP t_refused_total Refused publishes\n",
           "# TYPE t_refused_total counter\n",
           "t_refused_total{reason=\"blank\"} 2\n",
           "# TYPE t_spool_bytes gauge\n",
           "t_spool_bytes 4096\n",
           "# TYPE t_seconds histogram\n",
           "t_seconds_count 3\n",
           "t_seconds_sum 3.55\n",
           "t_seconds_bucket{le=\"0.1\"} 1\n",
           "t_seconds_bucket{le=\"1\"} 2\n",
           "t_seconds_bucket{le=\"+Inf\"} 3\n",
       })
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "in:\n" << text;
}

TEST(Metrics, TheHttpEndpointServesTheCurrentValuesOnLoopback) {
  Registry r;
  Counter& c = r.counter("t_requests_total", "Requests", "");
  HttpExporter exporter(r, "127.0.0.1", 0);
  ASSERT_GT(exporter.port(), 0);
  c.inc(3);
  std::string response = http_get(exporter.port(), "/metrics");
  EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
  EXPECT_NE(response.find("\nt_requests_total 3\n"), std::string::npos) << response;
  c.inc();
  response = http_get(exporter.port(), "/metrics");
  EXPECT_NE(response.find("\nt_requests_total 4\n"), std::string::npos) << response;
  // A taken port is an error naming the address.
  try {
    HttpExporter second(r, "127.0.0.1", exporter.port());
    FAIL() << "bound a port that is taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(exporter.port())), std::string::npos);
  }
}

TEST(SysPublisher, PublishesEverythingFirstThenOnlyWhatChangedEachInterval) {
  Registry r;
  Counter& a = r.counter("t_a_total", "", "a");
  r.counter("t_b_total", "", "b");
  SysPublisher sys(r, 10);
  ASSERT_TRUE(sys.due(1000));
  EXPECT_EQ(as_map(sys.round(1000)),
            (std::map<std::string, std::string>{{"$SYS/broker/mqchat/a", "0"}, {"$SYS/broker/mqchat/b", "0"}}));
  a.inc(5);
  EXPECT_FALSE(sys.due(1005));  // not due yet
  ASSERT_TRUE(sys.due(1010));
  EXPECT_EQ(as_map(sys.round(1010)), (std::map<std::string, std::string>{{"$SYS/broker/mqchat/a", "5"}}));
  ASSERT_TRUE(sys.due(1020));
  EXPECT_TRUE(sys.round(1020).empty());  // nothing changed

  SysPublisher off(r, 0);
  EXPECT_FALSE(off.due(1000));
}

TEST(PluginMetrics, RefusalsDeliveriesAndConnectionsLandInTheirSeries) {
  PluginMetrics m;
  m.refused(false, "blank");
  m.refused(false, "blank");
  m.refused(false, "something_new");
  m.refused(true, "client_id_taken");
  m.delivered("chat/a_b/messages");
  m.delivered("chat/a_b/typing");
  m.delivered("users/a/errors");
  m.delivered("sensors/x");
  int a = 0, b = 0;
  m.connected(&a, 0);
  m.connected(&b, 2);
  m.connected(&b, 2);  // the same connection twice counts once
  const auto values = as_map(sys_values(m.registry.collect(), "/"));
  EXPECT_EQ(values.at("/messages/refused/blank"), "2");
  EXPECT_EQ(values.at("/messages/refused/other"), "1");
  EXPECT_EQ(values.at("/messages/refused/too_long"), "0");
  EXPECT_EQ(values.at("/connections/refused/client_id_taken"), "1");
  EXPECT_EQ(values.at("/deliveries/messages"), "1");
  EXPECT_EQ(values.at("/deliveries/typing"), "1");
  EXPECT_EQ(values.at("/deliveries/users"), "1");
  EXPECT_EQ(values.at("/deliveries/other"), "1");
  EXPECT_EQ(values.at("/connections/mqtt"), "1");
  EXPECT_EQ(values.at("/connections/websockets"), "1");
  EXPECT_EQ(values.at("/connections/all"), "2");
  m.disconnected(&b);
  m.disconnected(&b);
  const auto after = as_map(sys_values(m.registry.collect(), "/"));
  EXPECT_EQ(after.at("/connections/websockets"), "0");
  EXPECT_EQ(after.at("/connections/all"), "1");
}

TEST(PluginMetrics, ShipperLagComesFromTheOldestUnshippedMessagesId) {
  EXPECT_EQ(spooled_at_ms(R"({"id":"0192f3a4-5b6c-7def-8000-000000000000","room":"a_b"})"), 0x0192f3a45b6cLL);
  EXPECT_EQ(spooled_at_ms(R"({"room":"a_b"})"), 0);
  EXPECT_EQ(spooled_at_ms(R"({"id":"zz"})"), 0);
  PluginMetrics m;
  const auto lag = [&m] { return std::stod(as_map(sys_values(m.registry.collect(), "/")).at("/shipper/lag_seconds")); };
  EXPECT_EQ(lag(), 0);
  m.oldest_unshipped_ms.set(1);  // long ago
  EXPECT_GT(lag(), 1e9);
}

// Every metric name the operations guide and the Grafana dashboard mention is one the plugin or the
// bridge registers (histograms with their _bucket/_sum/_count series), and every registered family
// is documented: the docs cannot drift from the code.
TEST(MetricsDocs, TheGuideAndTheDashboardNameOnlyRegisteredMetricsAndTheGuideNamesThemAll) {
  const PluginMetrics plugin;
  const bridge::BridgeMetrics bridge;
  std::set<std::string> families;
  for (const auto* registry : {&plugin.registry, &bridge.registry})
    for (const auto& f : registry->collect()) {
      families.insert(f.name);
      if (f.type == Type::Histogram)
        for (const char* suffix : {"_bucket", "_sum", "_count"}) families.insert(f.name + suffix);
    }
  // `section`: only the text from that heading to the next one of its level.
  const auto names_in = [](const std::string& path, const std::string& section = "") {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_FALSE(text.empty()) << path;
    if (!section.empty()) {
      const auto start = text.find("\n" + section + "\n");
      EXPECT_NE(start, std::string::npos) << section << " in " << path;
      text = start == std::string::npos ? "" : text.substr(start + 1);
      text = text.substr(0, text.find("\n## "));
    }
    // Every "mqchat_" followed by [a-z_]*, trailing underscores dropped (no <regex>: its headers
    // warn under the sanitizer build).
    std::set<std::string> names;
    for (size_t at = text.find("mqchat_"); at != std::string::npos; at = text.find("mqchat_", at + 1)) {
      size_t end = at + 7;
      while (end < text.size() && ((text[end] >= 'a' && text[end] <= 'z') || text[end] == '_')) ++end;
      while (text[end - 1] == '_') --end;
      if (end > at + 7) names.insert(text.substr(at, end - at));
    }
    return names;
  };
  const std::string root = MQCHAT_SOURCE_DIR;
  const auto guide = names_in(root + "/docs/OPERATIONS.md", "## Metrics");
  const auto dashboard = names_in(root + "/docs/grafana-mqchat.json");
  for (const auto& n : guide) EXPECT_TRUE(families.count(n)) << "docs/OPERATIONS.md names " << n;
  for (const auto& n : dashboard) EXPECT_TRUE(families.count(n)) << "docs/grafana-mqchat.json names " << n;
  for (const auto* registry : {&plugin.registry, &bridge.registry})
    for (const auto& f : registry->collect()) EXPECT_TRUE(guide.count(f.name)) << f.name << " is not in the guide";
  EXPECT_GE(dashboard.size(), 15u);
}

TEST(MetricsConfig, DefaultsOverridesAndBadValuesNameTheKey) {
  const std::string minimal = "database: {dsn: 'dbname=x'}\nspool: {dir: spool}\n";
  const Config c = load_config_text(minimal, "/base");
  EXPECT_EQ(c.metrics.bind, "127.0.0.1");
  EXPECT_EQ(c.metrics.port, 9883u);
  EXPECT_EQ(c.metrics.sys_interval_s, 10u);
  const Config off = load_config_text(minimal + "metrics: {port: 0, sys_interval_s: 0, bind: '::1'}\n", "/base");
  EXPECT_EQ(off.metrics.port, 0u);
  EXPECT_EQ(off.metrics.sys_interval_s, 0u);
  EXPECT_EQ(off.metrics.bind, "::1");
  EXPECT_EQ(load_config_text(minimal, "/base", {{"metrics.port", "19883"}}).metrics.port, 19883u);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"metrics.port", "65536"}, {"metrics.port", "-1"}, {"metrics.sys_interval_s", "x"}, {"metrics.bind", ""},
           {"metrics.nope", "1"}}) {
    try {
      load_config_text(minimal, "/base", {{key, value}});
      ADD_FAILURE() << key << "=" << value << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

// The bridge keeps one series per request kind: a new kind must be counted, not written past the end.
TEST(BridgeMetricsKinds, EveryRequestKindHasItsSeries) {
  using mqchat::bridge::kind_name;
  using mqchat::bridge::kRequestKinds;
  using mqchat::bridge::RequestKind;
  for (size_t k = 0; k < kRequestKinds; ++k) EXPECT_NE(kind_name(RequestKind(k)), "?") << k;
  EXPECT_EQ(kind_name(RequestKind(kRequestKinds)), "?") << "a RequestKind was added: raise kRequestKinds";
}
