#pragma once
// A small metrics registry shared by the plugin and the bridge. Updating a metric is one relaxed
// atomic operation: no lock, no allocation, so the broker thread can count every message. Metrics
// are registered once at start (that allocates); readers (the $SYS publisher, the Prometheus HTTP
// thread) take snapshots at any time from any thread.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mqchat::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void set(int64_t v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) noexcept { v_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Fixed upper bounds (ascending); observations above the last land in the +Inf bucket.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v) noexcept;

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

enum class Type { Counter, Gauge, Histogram };

// One labelled time series of a family, as read at one moment.
struct SeriesValue {
  Labels labels;
  double value = 0;              // counters and gauges
  Histogram::Snapshot histogram;  // histograms
};

struct FamilyValue {
  std::string name, help;
  std::string sys;  // $SYS topic path below the prefix; label values are appended as levels
  Type type;
  std::vector<double> bounds;  // histograms
  std::vector<SeriesValue> series;
};

class Registry {
 public:
  // Registration (start-up only, before any reader runs). Families are keyed by name: a second
  // call with the same name adds a series (other label values) to it. `sys` is the family's
  // $SYS path (e.g. "messages/refused"), empty to leave it out of $SYS.
  Counter& counter(const std::string& name, const std::string& help, const std::string& sys, Labels labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const std::string& sys, Labels labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const std::string& sys,
                       std::vector<double> bounds, Labels labels = {});
  // A gauge computed when read (e.g. an age from a stored timestamp); runs on the reader's thread.
  void computed_gauge(const std::string& name, const std::string& help, const std::string& sys,
                      std::function<double()> read, Labels labels = {});

  std::vector<FamilyValue> collect() const;

 private:
  struct Series {
    Labels labels;
    const Counter* counter = nullptr;
    const Gauge* gauge = nullptr;
    const Histogram* histogram = nullptr;
    std::function<double()> read;
  };
  struct Family {
    std::string name, help, sys;
    Type type;
    std::vector<Series> series;
  };
  Family& family(const std::string& name, const std::string& help, const std::string& sys, Type type);

  std::vector<Family> families_;
  std::deque<Counter> counters_;  // deques: registered metrics never move
  std::deque<Gauge> gauges_;
  std::deque<Histogram> histograms_;
};

// The $SYS form of a snapshot: one (topic, value) per series; histograms give <path>/count and
// <path>/sum. Values are decimal integers when whole, else with 3 decimals.
std::vector<std::pair<std::string, std::string>> sys_values(const std::vector<FamilyValue>& families,
                                                           const std::string& prefix);
std::string format_value(double v);

}  // namespace mqchat::metrics
