#pragma once
// A Mosquitto of a test's own, next to the stack's broker and sharing its Postgres: its own
// mosquitto.conf, port, spool and lifetime. For the coexistence and conformance suites, which need
// brokers with a real password_file / acl_file (made with mosquitto_passwd), the dynamic-security
// plugin (configured with mosquitto_ctrl), or no mqchat plugin at all.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace mqchat::test {

struct BrokerSetup {
  bool mqchat = true;                                         // load the mqchat plugin
  std::vector<std::string> plugin_opts;                       // "mode coexist" → plugin_opt_mode coexist
  std::vector<std::pair<std::string, std::string>> passwords;  // password_file users (empty: no file)
  std::string acl;                                            // acl_file text (empty: no file)
  bool dynamic_security = false;     // the dynamic-security plugin, with an admin (dynsec_admin())
  bool dynamic_security_first = false;  // listed before mqchat in mosquitto.conf
  std::string extra;                 // more mosquitto.conf lines
};

class TestBroker {
 public:
  // Starts the broker and waits until it listens; throws with its log when it does not.
  explicit TestBroker(BrokerSetup setup);
  ~TestBroker();  // SIGTERM, then SIGKILL after 5 s
  TestBroker(const TestBroker&) = delete;
  TestBroker& operator=(const TestBroker&) = delete;

  int port() const { return port_; }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  std::string log() const;  // the broker's log so far
  bool running();

  // `mosquitto_ctrl … dynsec <args>` as the admin; throws when it fails.
  void dynsec(const std::string& args) const;
  static std::pair<std::string, std::string> dynsec_admin() { return {"dynsec-admin", "admin-secret-1"}; }

 private:
  void stop();
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The shell-quoted form of `s`.
std::string shell_quote(const std::string& s);

}  // namespace mqchat::test
