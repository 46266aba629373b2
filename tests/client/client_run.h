#pragma once
// Runs the real mqchat-client binary against the test stack and captures what it prints.
#include <string>

namespace mqchat::test {

struct ClientRun {
  int status = -1;
  std::string out, err;
};

// `mqchat-client --port <stack> --user <user> <args>` with MQCHAT_PASSWORD=<password>.
// `args` is passed to the shell as it is (quote what needs quoting).
ClientRun run_client(const std::string& user, const std::string& password, const std::string& args);

// Single-quotes `s` for the shell.
std::string shell_quote(const std::string& s);

}  // namespace mqchat::test
