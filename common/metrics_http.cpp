#include "common/metrics_http.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>
#include <stdexcept>

namespace mqchat::metrics {

std::vector<prometheus::MetricFamily> to_prometheus(const std::vector<FamilyValue>& families) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (const auto& f : families) {
    prometheus::MetricFamily pf;
    pf.name = f.name;
    pf.help = f.help;
    pf.type = f.type == Type::Counter ? prometheus::MetricType::Counter
              : f.type == Type::Gauge ? prometheus::MetricType::Gauge
                                      : prometheus::MetricType::Histogram;
    for (const auto& s : f.series) {
      prometheus::ClientMetric m;
      for (const auto& [name, value] : s.labels) m.label.push_back({name, value});
      switch (f.type) {
        case Type::Counter: m.counter.value = s.value; break;
        case Type::Gauge: m.gauge.value = s.value; break;
        case Type::Histogram:
          m.histogram.sample_count = s.histogram.count;
          m.histogram.sample_sum = s.histogram.sum;
          for (size_t i = 0; i < s.histogram.cumulative.size(); ++i)
            m.histogram.bucket.push_back({s.histogram.cumulative[i], i < f.bounds.size()
                                                                        ? f.bounds[i]
                                                                        : std::numeric_limits<double>::infinity()});
          break;
      }
      pf.metric.push_back(std::move(m));
    }
    out.push_back(std::move(pf));
  }
  return out;
}

std::string prometheus_text(const Registry& registry) {
  return prometheus::TextSerializer().Serialize(to_prometheus(registry.collect()));
}

struct HttpExporter::Collectable : prometheus::Collectable {
  explicit Collectable(const Registry& r) : registry(r) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return to_prometheus(registry.collect()); }
  const Registry& registry;
};

HttpExporter::HttpExporter(const Registry& registry, const std::string& bind_address, int port)
    : collectable_(std::make_shared<Collectable>(registry)) {
  const std::string where = bind_address + ":" + std::to_string(port);
  try {
    // One serving thread: a scrape is a snapshot of a few dozen atomics.
    exposer_ = std::make_unique<prometheus::Exposer>(where, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve metrics on " + where + ": " + e.what());
  }
  exposer_->RegisterCollectable(collectable_);
  const auto ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? port : ports.front();
}

HttpExporter::~HttpExporter() = default;

}  // namespace mqchat::metrics
