#include "tests/client/client_run.h"

#include <fstream>
#include <sstream>
#include <unistd.h>

#include "tests/support/stack.h"

namespace mqchat::test {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ClientRun run_client(const std::string& user, const std::string& password, const std::string& args) {
  const std::string err_file = "/tmp/mqchat-client-test-" + std::to_string(getpid()) + ".err";
  const std::string cmd = "MQCHAT_PASSWORD=" + shell_quote(password) + " " MQCHAT_CLIENT_BIN " --port " +
                          std::to_string(Stack::mqtt_port()) + " --user " + shell_quote(user) + " " + args +
                          " 2>" + err_file + " </dev/null";
  ClientRun r;
  r.status = run_command(cmd, &r.out);
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  unlink(err_file.c_str());
  return r;
}

}  // namespace mqchat::test
