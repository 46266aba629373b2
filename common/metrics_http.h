#pragma once
// Prometheus text exposition of a metrics::Registry over HTTP, with prometheus-cpp's pull
// exposer (civetweb): its own thread serves GET /metrics and only reads the registry's atomics.
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"

namespace prometheus {
class Exposer;
struct MetricFamily;
}  // namespace prometheus

namespace mqchat::metrics {

// The registry's snapshot in prometheus-cpp's model, and as exposition text (what GET serves).
std::vector<prometheus::MetricFamily> to_prometheus(const std::vector<FamilyValue>& families);
std::string prometheus_text(const Registry& registry);

class HttpExporter {
 public:
  // Listens on `bind_address`:`port` (port 0: any free one). Throws std::runtime_error when the
  // address cannot be bound. `registry` must outlive the exporter.
  HttpExporter(const Registry& registry, const std::string& bind_address, int port);
  ~HttpExporter();
  int port() const { return port_; }

 private:
  struct Collectable;
  std::shared_ptr<Collectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace mqchat::metrics
