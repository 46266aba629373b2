#pragma once
// Exclusive or coexist: does the plugin decide every login and topic, or only its own users' and
// the chat/ and users/ topics, deferring the rest to the broker's other security? `mode: auto`
// looks at the broker's configuration file (the `-c` in /proc/self/cmdline, with its include_dir)
// at plugin start, the only moment the plugin may read files.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"

namespace mqchat {

// What mosquitto.conf configures for security besides mqchat.
struct BrokerSecurity {
  bool config_read = false;  // false: no -c on the command line, or a file could not be read
  std::string config_path;
  std::string problem;                    // why config_read is false
  std::vector<std::string> authenticate;  // "password_file /etc/mosquitto/passwd", "plugin …", …
  std::vector<std::string> access;        // "acl_file …", "plugin …": who else answers ACL checks
};

// The argument of -c / --config-file in a NUL-separated command line, or "".
std::string config_file_from_cmdline(std::string_view cmdline);

// Adds what one file's text configures to `out` (Mosquitto's syntax: the first space-separated
// word of a line not starting with '#' is the option). `is_own_plugin` tells mqchat's own plugin
// line from others. include_dir values are appended to `include_dirs` for the caller to follow.
void scan_config_text(std::string_view text, const std::function<bool(const std::string&)>& is_own_plugin,
                      BrokerSecurity& out, std::vector<std::string>& include_dirs);

// Reads `path` and the *.conf files of its include_dir (file I/O: plugin start only).
// `own_plugin` is the path of this plugin's module.
BrokerSecurity scan_broker_config(const std::string& path, const std::string& own_plugin);
// The same for the broker this plugin runs in (its /proc/self/cmdline).
BrokerSecurity scan_running_broker(const std::string& own_plugin);

struct SecurityMode {
  bool coexist = false;
  // Coexist only: another mechanism answers ACL checks, so the plugin defers outside its own
  // topics. Without one, Mosquitto would allow everything to everyone, so the plugin answers for
  // it: other clients are allowed there (as on the bare broker), mqchat users are not.
  bool others_decide_access = false;
  std::string why;  // for the log
};

SecurityMode choose_mode(SecurityModeSetting setting, const BrokerSecurity& broker);

}  // namespace mqchat
