#include "tests/support/stack.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <sys/wait.h>

namespace mqchat::test {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string("environment variable ") + name + " is not set");
  return v;
}
}  // namespace

bool Stack::available() { return std::getenv("MQCHAT_MQTT_PORT") && std::getenv("MQCHAT_DATABASE_URL"); }
int Stack::mqtt_port() { return std::stoi(env("MQCHAT_MQTT_PORT")); }
int Stack::ws_port() { return std::stoi(env("MQCHAT_WS_PORT")); }
std::string Stack::mqtt_uri() { return "tcp://127.0.0.1:" + std::to_string(mqtt_port()); }
std::string Stack::dsn() { return env("MQCHAT_DATABASE_URL"); }
std::string Stack::root() { return env("MQCHAT_ROOT"); }
std::string Stack::run_dir() { return env("MQCHAT_RUN_DIR"); }

std::string Stack::bridge_password() {
  std::ifstream in(env("MQCHAT_BRIDGE_PASSWORD_FILE"));
  std::string pw;
  std::getline(in, pw);
  return pw;
}

void Stack::svc(const std::string& action, const std::string& service, const std::string& plugin_opts) {
  const char* stack_opts = std::getenv("MQCHAT_PLUGIN_OPTS");
  const std::string prefix = plugin_opts.empty() ? ""
                                                 : "MQCHAT_PLUGIN_OPTS='" + std::string(stack_opts ? stack_opts : "") +
                                                       " " + plugin_opts + "' ";
  const std::string cmd = prefix + env("MQCHAT_CLI") + " svc " + action + " " + service + " >&2";
  if (run_command(cmd) != 0) throw std::runtime_error("failed: " + cmd);
}

int run_command(const std::string& command, std::string* output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0)
    if (output) output->append(buf.data(), n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace mqchat::test
