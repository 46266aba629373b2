// mqchat-bench-diy: the do-it-yourself alternative the benchmark compares the plugin with — a
// subscriber on chat/# next to a bare Mosquitto that INSERTs every message it receives, one
// autocommitted statement per message, the way such a service is usually written. The sender is
// taken from the payload ("sender"), since a bare broker tells a subscriber nothing about who
// published (one of the holes the plugin closes).
#include <mosquitto.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace {

struct State {
  pqxx::connection* db = nullptr;
  long stored = 0, failed = 0;
};

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void on_connect(mosquitto* m, void*, int rc) {
  if (rc != 0) {
    std::cerr << "mqchat-bench-diy: connection refused: " << mosquitto_connack_string(rc) << "\n";
    std::exit(3);
  }
  mosquitto_subscribe(m, nullptr, "chat/#", 1);
}

void on_message(mosquitto*, void* obj, const mosquitto_message* msg) {
  auto& st = *static_cast<State*>(obj);
  const std::string topic = msg->topic;
  // chat/<room>/messages only
  const auto slash = topic.find('/', 5);
  if (topic.compare(0, 5, "chat/") != 0 || slash == std::string::npos || topic.substr(slash) != "/messages") return;
  try {
    const auto body = nlohmann::json::parse(static_cast<const char*>(msg->payload),
                                            static_cast<const char*>(msg->payload) + msg->payloadlen);
    pqxx::nontransaction tx(*st.db);
    tx.exec_prepared("insert", topic.substr(5, slash - 5), body.at("sender").get<std::string>(),
                     body.at("content").get<std::string>(), body.value("client_id", std::string()));
    ++st.stored;
  } catch (const std::exception& e) {
    if (st.failed++ < 5) std::cerr << "mqchat-bench-diy: " << e.what() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: mqchat-bench-diy HOST PORT DSN\n";
    return 2;
  }
  pqxx::connection db(argv[3]);
  db.prepare("insert",
             "insert into messages (conversation_id, sender_id, content, client_id, origin) "
             "values (mqchat_conversation_id($1), (select id from profiles where username = $2), $3, "
             "nullif($4, ''), 'mqtt')");
  State st;
  st.db = &db;

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  mosquitto_lib_init();
  mosquitto* m = mosquitto_new("bench-diy-persister", true, &st);
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_connect_callback_set(m, on_connect);
  mosquitto_message_callback_set(m, on_message);
  if (mosquitto_connect(m, argv[1], std::atoi(argv[2]), 60) != MOSQ_ERR_SUCCESS) {
    std::cerr << "mqchat-bench-diy: cannot connect to " << argv[1] << ":" << argv[2] << "\n";
    return 3;
  }
  while (!g_stop) {
    const int rc = mosquitto_loop(m, 100, 1);
    if (rc != MOSQ_ERR_SUCCESS && !g_stop) {
      std::cerr << "mqchat-bench-diy: connection lost (" << mosquitto_strerror(rc) << ")\n";
      return 3;
    }
  }
  std::cerr << "mqchat-bench-diy: stored " << st.stored << ", failed " << st.failed << "\n";
  mosquitto_destroy(m);
  mosquitto_lib_cleanup();
  return 0;
}
