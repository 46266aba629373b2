#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace mqchat::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end())) throw std::invalid_argument("histogram bounds must ascend");
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) noexcept {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();  // le: v <= bound
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + v, std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // Read without a lock while others observe: the +Inf bucket is the count, so the exposition
  // stays consistent (count == last bucket) even if a concurrent observe is half done.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

Registry::Family& Registry::family(const std::string& name, const std::string& help, const std::string& sys,
                                   Type type) {
  for (auto& f : families_) {
    if (f.name != name) continue;
    if (f.type != type) throw std::logic_error("metric " + name + " registered with two types");
    return f;
  }
  families_.push_back(Family{name, help, sys, type, {}});
  return families_.back();
}

Counter& Registry::counter(const std::string& name, const std::string& help, const std::string& sys, Labels labels) {
  Counter& c = counters_.emplace_back();
  family(name, help, sys, Type::Counter).series.push_back(Series{std::move(labels), &c, nullptr, nullptr, {}});
  return c;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const std::string& sys, Labels labels) {
  Gauge& g = gauges_.emplace_back();
  family(name, help, sys, Type::Gauge).series.push_back(Series{std::move(labels), nullptr, &g, nullptr, {}});
  return g;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help, const std::string& sys,
                               std::vector<double> bounds, Labels labels) {
  Histogram& h = histograms_.emplace_back(std::move(bounds));
  Family& f = family(name, help, sys, Type::Histogram);
  if (!f.series.empty() && f.series.front().histogram->bounds() != h.bounds())
    throw std::logic_error("metric " + name + " registered with two sets of buckets");
  f.series.push_back(Series{std::move(labels), nullptr, nullptr, &h, {}});
  return h;
}

void Registry::computed_gauge(const std::string& name, const std::string& help, const std::string& sys,
                              std::function<double()> read, Labels labels) {
  family(name, help, sys, Type::Gauge).series.push_back(Series{std::move(labels), nullptr, nullptr, nullptr, std::move(read)});
}

std::vector<FamilyValue> Registry::collect() const {
  std::vector<FamilyValue> out;
  out.reserve(families_.size());
  for (const auto& f : families_) {
    FamilyValue fv{f.name, f.help, f.sys, f.type, {}, {}};
    for (const auto& s : f.series) {
      SeriesValue sv{s.labels, 0, {}};
      if (s.counter) sv.value = double(s.counter->value());
      else if (s.gauge) sv.value = double(s.gauge->value());
      else if (s.read) sv.value = s.read();
      else if (s.histogram) {
        sv.histogram = s.histogram->snapshot();
        fv.bounds = s.histogram->bounds();
      }
      fv.series.push_back(std::move(sv));
    }
    out.push_back(std::move(fv));
  }
  return out;
}

std::string format_value(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::vector<std::pair<std::string, std::string>> sys_values(const std::vector<FamilyValue>& families,
                                                           const std::string& prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : families) {
    if (f.sys.empty()) continue;
    for (const auto& s : f.series) {
      std::string topic = prefix + f.sys;
      for (const auto& [name, value] : s.labels) topic += "/" + value;
      if (f.type == Type::Histogram) {
        out.emplace_back(topic + "/count", format_value(double(s.histogram.count)));
        out.emplace_back(topic + "/sum", format_value(s.histogram.sum));
      } else {
        out.emplace_back(std::move(topic), format_value(s.value));
      }
    }
  }
  return out;
}

}  // namespace mqchat::metrics
