// mqchat-bridge: serves history, read receipts, edits and deletions requested over MQTT, keeps the
// retained conversation summaries current and publishes messages sent through the SQL API.
// Runs as a service account; several instances may run (shared subscriptions, one leader).
#include <csignal>
#include <thread>

#include "bridge/log.h"
#include "bridge/mqtt_link.h"
#include "bridge/options.h"
#include "bridge/request_dispatcher.h"
#include "bridge/summary_publisher.h"

using namespace mqchat::bridge;

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // threads started below inherit the mask

  MqttLink* link = nullptr;
  RequestDispatcher dispatcher(options, link);
  MqttLink mqtt(options, [&dispatcher](IncomingRequest r) { dispatcher.submit(std::move(r)); });
  link = &mqtt;
  dispatcher.start();
  SummaryPublisher summaries(options, link);
  summaries.start();
  log("mqchat-bridge ", options.client_id, " starting: broker ", options.mqtt_host, ":", options.mqtt_port,
      ", ", options.workers, " workers");
  mqtt.start();

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log("mqchat-bridge: stopping (signal ", sig, ")");
  return 0;
}
