#include "tests/support/broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/stack.h"

namespace mqchat::test {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no free port");
  const int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool port_open(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void run_or_throw(const std::string& cmd) {
  std::string out;
  if (run_command(cmd + " 2>&1", &out) != 0) throw std::runtime_error("failed: " + cmd + "\n" + out);
}

std::string dynsec_library() {
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
                        "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
                        "/usr/lib/mosquitto_dynamic_security.so"})
    if (std::filesystem::exists(p)) return p;
  throw std::runtime_error("the dynamic-security plugin is not installed (package mosquitto)");
}

}  // namespace

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

TestBroker::TestBroker(BrokerSetup setup) {
  static std::mt19937_64 rng{std::random_device{}()};
  dir_ = Stack::run_dir() + "/brokers/" + std::to_string(rng() % 1000000000);
  std::filesystem::create_directories(dir_ + "/spool");
  port_ = free_port();
  const passwd* me = getpwuid(geteuid());
  std::ostringstream conf;
  conf << "per_listener_settings false\nallow_anonymous false\npersistence false\n"
       << "log_dest file " << dir_ << "/mosquitto.log\n"
       << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\nconnection_messages true\n"
       << "user " << (me ? me->pw_name : "root") << "\n";
  if (!setup.passwords.empty()) {
    const std::string file = dir_ + "/passwd";
    { std::ofstream(file).flush(); }
    for (const auto& [user, password] : setup.passwords)
      run_or_throw("mosquitto_passwd -b " + shell_quote(file) + " " + shell_quote(user) + " " + shell_quote(password));
    conf << "password_file " << file << "\n";
  }
  if (!setup.acl.empty()) {
    std::ofstream(dir_ + "/acl") << setup.acl;
    conf << "acl_file " << dir_ << "/acl\n";
  }
  std::string dynsec;
  if (setup.dynamic_security) {
    const auto [admin, password] = dynsec_admin();
    run_or_throw("mosquitto_ctrl dynsec init " + shell_quote(dir_ + "/dynsec.json") + " " + admin + " " + password);
    dynsec = "plugin " + dynsec_library() + "\nplugin_opt_config_file " + dir_ + "/dynsec.json\n";
  }
  if (setup.dynamic_security_first) conf << dynsec;
  if (setup.mqchat) {
    const std::string build = env_or("MQCHAT_BUILD_DIR", Stack::root() + "/build");
    conf << "plugin " << env_or("MQCHAT_PLUGIN", build + "/plugin/mqchat_plugin.so") << "\n"
         << "plugin_opt_config " << Stack::root() << "/config/mqchat.yaml\n"
         << "plugin_opt_database.dsn " << Stack::dsn() << "\n"
         << "plugin_opt_spool.dir " << dir_ << "/spool\n"
         << "plugin_opt_service_accounts.bridge.password_file "
         << env_or("MQCHAT_BRIDGE_PASSWORD_FILE", Stack::run_dir() + "/bridge.password") << "\n"
         << "plugin_opt_limits.messages_per_second 0\nplugin_opt_limits.max_connections_per_user 0\n";
    for (const auto& opt : setup.plugin_opts) conf << "plugin_opt_" << opt << "\n";
  }
  if (!setup.dynamic_security_first) conf << dynsec;
  conf << setup.extra << "\nlistener " << port_ << " 127.0.0.1\n";
  std::ofstream(dir_ + "/mosquitto.conf") << conf.str();

  const std::string conf_path = dir_ + "/mosquitto.conf", out_path = dir_ + "/stdout.log";
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execlp("mosquitto", "mosquitto", "-c", conf_path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0) throw std::runtime_error("fork failed");
  for (int i = 0; i < 200; ++i) {
    if (port_open(port_)) return;
    if (!running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string why = log();
  stop();
  throw std::runtime_error("the test broker did not start; its log:\n" + why);
}

TestBroker::~TestBroker() { stop(); }

void TestBroker::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool TestBroker::running() {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string TestBroker::log() const {
  std::string text;
  for (const char* f : {"/stdout.log", "/mosquitto.log"}) {
    std::ifstream in(dir_ + f);
    std::stringstream ss;
    ss << in.rdbuf();
    text += ss.str();
  }
  return text;
}

void TestBroker::dynsec(const std::string& args) const {
  const auto [admin, password] = dynsec_admin();
  run_or_throw("mosquitto_ctrl -h 127.0.0.1 -p " + std::to_string(port_) + " -u " + admin + " -P " + password +
               " dynsec " + args);
}

}  // namespace mqchat::test
