// mqchat-bridge: serves history, read receipts, edits and deletions requested over MQTT, keeps the
// retained conversation summaries current and publishes what was done through the SQL API.
// Runs as a service account; several instances may run (shared subscriptions, one leader).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <thread>

#include "bridge/backplane.h"
#include "bridge/log.h"
#include "bridge/metrics.h"
#include "bridge/mqtt_link.h"
#include "bridge/notifier.h"
#include "bridge/options.h"
#include "bridge/request_dispatcher.h"
#include "bridge/summary_publisher.h"
#include "common/metrics_http.h"

using namespace mqchat::bridge;

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // threads started below inherit the mask

  // A signal only sets `stopping`; the shutdown itself runs below, in order.
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable stopped_cv;
  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log("mqchat-bridge: stopping (signal ", sig, ")");
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    stopped_cv.notify_all();
  });

  std::unique_ptr<mqchat::metrics::HttpExporter> exporter;
  if (options.metrics_port) {
    try {
      exporter = std::make_unique<mqchat::metrics::HttpExporter>(bridge_metrics.registry, options.metrics_bind,
                                                                 options.metrics_port);
      log("mqchat-bridge: metrics on http://", options.metrics_bind, ":", exporter->port(), "/metrics");
    } catch (const std::exception& e) {  // metrics are not worth refusing requests for
      log("mqchat-bridge: no metrics endpoint: ", e.what());
    }
  }

  MqttLink* link = nullptr;
  RequestDispatcher dispatcher(options, link);
  MqttLink mqtt(options, [&dispatcher](IncomingRequest r) { dispatcher.submit(std::move(r)); });
  link = &mqtt;
  std::unique_ptr<Notifier> notifier;  // webhook notifications for offline users, when configured
  if (options.notify.enabled()) {
    notifier = std::make_unique<Notifier>(options);
    mqtt.set_event_handler([n = notifier.get()](const std::string& topic, const std::string& payload) {
      if (topic.rfind("users/", 0) == 0)
        n->on_presence(topic.substr(6, topic.size() - 6 - std::string("/presence").size()), payload);
      else
        n->on_message(payload);
    });
    notifier->start();
  }
  dispatcher.start();
  SummaryPublisher summaries(options, link);
  summaries.start();
  std::unique_ptr<Backplane> backplane;  // cluster only: routes between this node and the others
  if (options.backplane()) {
    backplane = std::make_unique<Backplane>(options);
    backplane->start();
  }
  log("mqchat-bridge ", options.client_id, " starting: broker ", options.mqtt_host, ":", options.mqtt_port,
      ", ", options.workers, " workers");
  if (mqtt.start(stopping)) {
    std::unique_lock<std::mutex> lock(mu);
    stopped_cv.wait(lock, [&] { return stopping.load(); });
  }
  signals.join();

  // Everything that publishes stops before the link goes: first the leader's work, then the
  // request workers (they finish what is queued for up to 2 s and answer the rest "busy").
  summaries.stop();
  if (backplane) backplane->stop();
  dispatcher.stop(std::chrono::seconds(2));
  mqtt.close();
  if (notifier) notifier->stop();  // after the link: nothing hands it messages any more
  log("mqchat-bridge: stopped (", dispatcher.refused_busy(), " request(s) answered busy, ", dispatcher.dropped(),
      " dropped under overload)");
  return 0;
}
