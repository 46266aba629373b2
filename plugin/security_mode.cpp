#include "plugin/security_mode.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mqchat {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

bool read_file(const std::string& path, std::string& text) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

std::string canonical_or_same(const std::string& path) {
  std::error_code ec;
  const auto c = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

}  // namespace

std::string config_file_from_cmdline(std::string_view cmdline) {
  std::vector<std::string_view> args;
  while (!cmdline.empty()) {
    const auto nul = cmdline.find('\0');
    args.push_back(cmdline.substr(0, nul));
    if (nul == std::string_view::npos) break;
    cmdline.remove_prefix(nul + 1);
  }
  std::string path;  // Mosquitto reads every -c it is given; the last one's settings win
  for (size_t i = 1; i + 1 < args.size(); ++i)
    if (args[i] == "-c" || args[i] == "--config-file") path = std::string(args[++i]);
  return path;
}

void scan_config_text(std::string_view text, const std::function<bool(const std::string&)>& is_own_plugin,
                      BrokerSecurity& out, std::vector<std::string>& include_dirs) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line[0] == '#') continue;
    // strtok(" ") as Mosquitto does: leading spaces skipped, the option ends at a space.
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    const auto sp = line.find(' ');
    const std::string option(trim(line.substr(0, sp)));
    const std::string value = sp == std::string_view::npos ? "" : trim(line.substr(sp + 1));
    if (option == "password_file" || option == "psk_file") {
      out.authenticate.push_back(option + " " + value);
    } else if (option == "acl_file") {
      out.access.push_back(option + " " + value);
    } else if (option == "plugin" || option == "auth_plugin") {
      if (is_own_plugin(value)) continue;
      out.authenticate.push_back(option + " " + value);
      out.access.push_back(option + " " + value);
    } else if ((option == "use_identity_as_username" || option == "use_subject_as_username") && value == "true") {
      out.authenticate.push_back(option + " true");
    } else if (option == "include_dir" && !value.empty()) {
      include_dirs.push_back(value);
    }
  }
}

BrokerSecurity scan_broker_config(const std::string& path, const std::string& own_plugin) {
  BrokerSecurity out;
  out.config_path = path;
  if (path.empty()) {
    out.problem = "the broker was started without a configuration file (-c)";
    return out;
  }
  const std::string own = canonical_or_same(own_plugin);
  const auto is_own = [&own](const std::string& p) { return canonical_or_same(p) == own; };
  std::string text;
  if (!read_file(path, text)) {
    out.problem = "cannot read the broker's configuration file " + path;
    return out;
  }
  std::vector<std::string> dirs;
  scan_config_text(text, is_own, out, dirs);
  // Mosquitto follows include_dir in the main file only, reading its *.conf files.
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      if (entry.path().extension() == ".conf") files.push_back(entry.path().string());
    if (ec) {
      out.problem = "cannot read include_dir " + dir;
      return out;
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::vector<std::string> ignored;  // include_dir in an included file is ignored by Mosquitto
      if (!read_file(f, text)) {
        out.problem = "cannot read " + f;
        return out;
      }
      scan_config_text(text, is_own, out, ignored);
    }
  }
  out.config_read = true;
  return out;
}

BrokerSecurity scan_running_broker(const std::string& own_plugin) {
  std::string cmdline;
  if (!read_file("/proc/self/cmdline", cmdline)) {
    BrokerSecurity out;
    out.problem = "cannot read /proc/self/cmdline";
    return out;
  }
  return scan_broker_config(config_file_from_cmdline(cmdline), own_plugin);
}

SecurityMode choose_mode(SecurityModeSetting setting, const BrokerSecurity& broker) {
  SecurityMode m;
  const bool others = !broker.authenticate.empty() || !broker.access.empty();
  // Unknown (the file could not be read): defer, so whatever else there is decides, and what
  // nobody allows stays denied.
  m.others_decide_access = !broker.access.empty() || !broker.config_read;
  switch (setting) {
    case SecurityModeSetting::Exclusive:
      m.coexist = false;
      m.why = "mode: exclusive is configured";
      break;
    case SecurityModeSetting::Coexist:
      m.coexist = true;
      m.why = "mode: coexist is configured";
      break;
    case SecurityModeSetting::Auto:
      if (!broker.config_read) {
        m.coexist = false;
        m.why = "mode: auto, but " + broker.problem + "; set plugin_opt_mode coexist to share the broker";
      } else {
        m.coexist = others;
        m.why = others ? "mode: auto, and " + broker.config_path + " has other security: " + join(broker.authenticate) +
                             (broker.access.empty() ? "" : "; access: " + join(broker.access))
                       : "mode: auto, and " + broker.config_path + " has no other security";
      }
      break;
  }
  if (m.coexist)
    m.why += m.others_decide_access ? " (outside chat/ and users/ the other security decides)"
                                    : " (no other access control: outside chat/ and users/ other clients are "
                                      "allowed, mqchat users are not)";
  return m;
}

}  // namespace mqchat
