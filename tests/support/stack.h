#pragma once
// The stack `./mqchat test` started for this run, described by its environment.
#include <string>

namespace mqchat::test {

struct Stack {
  static bool available();         // false when run outside `./mqchat test`
  static std::string mqtt_uri();   // tcp://127.0.0.1:<port>
  static int mqtt_port();
  static int ws_port();
  static std::string dsn();
  static std::string root();       // repository root
  static std::string run_dir();
  static std::string bridge_password();
  // `./mqchat svc <action> <service>` (start|stop|kill|restart, postgres|broker|bridge); throws on failure.
  // `plugin_opts` ("key=value ..."), when given, is added after MQCHAT_PLUGIN_OPTS for this start
  // (later settings win).
  static void svc(const std::string& action, const std::string& service, const std::string& plugin_opts = "");
};

// Runs a shell command, returns its exit status and (optionally) its stdout.
int run_command(const std::string& command, std::string* output = nullptr);

// Skips the current test unless the stack is there (inside `./mqchat test` it always is).
#define MQCHAT_REQUIRE_STACK()                                                              \
  do {                                                                                      \
    if (!::mqchat::test::Stack::available()) GTEST_SKIP() << "needs ./mqchat test's stack"; \
  } while (0)

}  // namespace mqchat::test
