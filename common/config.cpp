#include "common/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>

namespace mqchat {

namespace {

// Every leaf the file may have; '*' stands for a service account name.
const std::set<std::string> kKnownKeys = {
    "mode",
    "database.dsn",
    "spool.dir", "spool.fsync", "spool.fsync_interval_ms", "spool.segment_bytes",
    "shipper.batch_max", "shipper.batch_latency_ms", "shipper.method", "shipper.connections",
    "limits.max_content_chars", "limits.max_payload_bytes", "limits.max_metadata_bytes",
    "limits.max_json_depth", "limits.max_client_id_chars",
    "limits.messages_per_second", "limits.message_burst", "limits.max_connections_per_user",
    "limits.max_typing_bytes", "limits.max_request_bytes", "limits.max_other_bytes",
    "limits.error_reports_per_second", "limits.error_report_burst",
    "limits.login_hash_ms_per_second", "limits.login_trusted_share_percent",
    "limits.login_failures_per_minute", "limits.login_account_failures_per_minute",
    "sessions.reserved_client_id_prefixes", "sessions.max_client_ids_per_user", "sessions.max_client_ids",
    "sessions.client_id_expiry_days",
    "dedup.window_seconds", "dedup.max_entries",
    "directory.refresh_ms",
    "service_accounts.*.password_hash", "service_accounts.*.password_file",
    "jwt.algorithm", "jwt.secret_file", "jwt.public_key_file", "jwt.leeway_seconds",
    "metrics.bind", "metrics.port", "metrics.sys_interval_s",
};

std::vector<std::string> split_dots(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  return parts;
}

std::string pattern_of(const std::vector<std::string>& parts) {
  std::string p;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) p += '.';
    p += (parts[0] == "service_accounts" && i == 1) ? "*" : parts[i];
  }
  return p;
}

void check_known_keys(const YAML::Node& node, std::vector<std::string>& path) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      // A key that is itself a list or a map (`[a]: 1`, `? {a: 1}`) names nothing we know.
      if (!kv.first.IsScalar()) {
        std::string where;
        for (const auto& p : path) where += p + ".";
        throw ConfigError("config: " + (where.empty() ? std::string("a top-level key") : "a key under " + where.substr(0, where.size() - 1)) +
                          " is not a plain name");
      }
      path.push_back(kv.first.as<std::string>());
      check_known_keys(kv.second, path);
      path.pop_back();
    }
    return;
  }
  if (path.empty()) return;
  const std::string pattern = pattern_of(path);
  if (!kKnownKeys.count(pattern)) {
    std::string key;
    for (const auto& p : path) key += (key.empty() ? "" : ".") + p;
    throw ConfigError("config: unknown key '" + key + "'");
  }
}

// yaml-cpp nodes are handles: assigning through a child handle edits the tree.
void set_path(YAML::Node node, const std::vector<std::string>& parts, size_t i, const std::string& value) {
  if (i + 1 == parts.size()) {
    node[parts[i]] = value;
    return;
  }
  if (!node[parts[i]].IsMap()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
  set_path(node[parts[i]], parts, i + 1, value);
}

YAML::Node find(const YAML::Node& root, const std::string& key) {
  YAML::Node node;
  node.reset(root);  // reset() rebinds the handle; operator= would overwrite the tree
  for (const auto& part : split_dots(key)) {
    if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& as_const = node;  // const lookup never inserts
    YAML::Node child = as_const[part];
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    node.reset(child);
  }
  return node;
}

std::string get_string(const YAML::Node& root, const std::string& key, const std::string& fallback) {
  const YAML::Node n = find(root, key);
  if (!n.IsDefined() || n.IsNull()) return fallback;
  if (!n.IsScalar()) throw ConfigError("config: " + key + " must be a string");
  return n.as<std::string>();
}

template <typename T>
T get_uint(const YAML::Node& root, const std::string& key, T fallback, T min_value, T max_value) {
  const std::string text = get_string(root, key, "");
  if (text.empty()) return fallback;
  size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text[0] == '-' || v < min_value || v > max_value)
    throw ConfigError("config: " + key + " must be a whole number from " + std::to_string(min_value) +
                      " to " + std::to_string(max_value) + " (got '" + text + "')");
  return static_cast<T>(v);
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

std::string read_whole_file(const std::string& key, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("config: " + key + ": cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) throw ConfigError("config: " + key + ": '" + path + "' is empty");
  return text.str();
}

// A secret is the file's first line (so a trailing newline is not part of it).
std::string read_secret_file(const std::string& key, const std::string& path) {
  const std::string text = read_whole_file(key, path);
  std::string secret = text.substr(0, text.find('\n'));
  if (secret.empty()) throw ConfigError("config: " + key + ": '" + path + "' is empty");
  return secret;
}

}  // namespace

Config load_config_text(const std::string& yaml_text, const std::string& base_dir, const Overrides& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("config: invalid YAML: ") + e.what());
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError("config: the top level must be a mapping");
  for (const auto& [key, value] : overrides) set_path(root, split_dots(key), 0, value);
  std::vector<std::string> path;
  check_known_keys(root, path);

  Config c;
  constexpr auto u32max = std::numeric_limits<uint32_t>::max();
  const std::string mode = get_string(root, "mode", "auto");
  if (mode == "auto") c.mode = SecurityModeSetting::Auto;
  else if (mode == "coexist") c.mode = SecurityModeSetting::Coexist;
  else if (mode == "exclusive") c.mode = SecurityModeSetting::Exclusive;
  else throw ConfigError("config: mode must be auto, coexist or exclusive (got '" + mode + "')");
  c.database_dsn = get_string(root, "database.dsn", "");
  if (c.database_dsn.empty()) throw ConfigError("config: database.dsn is required");

  c.spool_dir = resolve(base_dir, get_string(root, "spool.dir", ""));
  if (c.spool_dir.empty()) throw ConfigError("config: spool.dir is required");
  const std::string fsync = get_string(root, "spool.fsync", "interval");
  if (fsync == "always") c.fsync = FsyncPolicy::Always;
  else if (fsync == "interval") c.fsync = FsyncPolicy::Interval;
  else if (fsync == "never") c.fsync = FsyncPolicy::Never;
  else throw ConfigError("config: spool.fsync must be always, interval or never (got '" + fsync + "')");
  c.fsync_interval_ms = get_uint<uint32_t>(root, "spool.fsync_interval_ms", c.fsync_interval_ms, 1, 60000);
  c.segment_bytes = get_uint<uint64_t>(root, "spool.segment_bytes", c.segment_bytes, 1 << 16, 1ull << 36);

  c.batch_max = get_uint<uint32_t>(root, "shipper.batch_max", c.batch_max, 1, 100000);
  c.batch_latency_ms = get_uint<uint32_t>(root, "shipper.batch_latency_ms", c.batch_latency_ms, 1, 10000);
  c.ship_connections = get_uint<uint32_t>(root, "shipper.connections", c.ship_connections, 1, 16);
  const std::string method = get_string(root, "shipper.method", "copy");
  if (method == "copy") c.ship_by_copy = true;
  else if (method == "json") c.ship_by_copy = false;
  else throw ConfigError("config: shipper.method must be copy or json (got '" + method + "')");

  auto& l = c.limits;
  l.max_content_chars = get_uint<size_t>(root, "limits.max_content_chars", l.max_content_chars, 1, 4000);
  l.max_payload_bytes = get_uint<size_t>(root, "limits.max_payload_bytes", l.max_payload_bytes, 64, 1 << 24);
  l.max_metadata_bytes = get_uint<size_t>(root, "limits.max_metadata_bytes", l.max_metadata_bytes, 2, 1 << 20);
  l.max_json_depth = get_uint<size_t>(root, "limits.max_json_depth", l.max_json_depth, 2, 256);
  l.max_client_id_chars = get_uint<size_t>(root, "limits.max_client_id_chars", l.max_client_id_chars, 1, 64);
  l.max_typing_bytes = get_uint<size_t>(root, "limits.max_typing_bytes", l.max_typing_bytes, 16, 1 << 20);
  l.max_request_bytes = get_uint<size_t>(root, "limits.max_request_bytes", l.max_request_bytes, 256, 1 << 20);
  l.max_other_bytes = get_uint<size_t>(root, "limits.max_other_bytes", l.max_other_bytes, 16, 1 << 20);
  c.error_reports_per_second = get_uint<uint32_t>(root, "limits.error_reports_per_second", c.error_reports_per_second, 1, 10000);
  c.error_report_burst = get_uint<uint32_t>(root, "limits.error_report_burst", c.error_report_burst, 1, 100000);
  auto& lg = c.logins;
  lg.hash_ms_per_second = get_uint<uint32_t>(root, "limits.login_hash_ms_per_second", lg.hash_ms_per_second, 10, 1000);
  lg.trusted_share_percent = get_uint<uint32_t>(root, "limits.login_trusted_share_percent", lg.trusted_share_percent, 0, 90);
  lg.failures_per_minute = get_uint<uint32_t>(root, "limits.login_failures_per_minute", lg.failures_per_minute, 1, 60000);
  lg.account_failures_per_minute =
      get_uint<uint32_t>(root, "limits.login_account_failures_per_minute", lg.account_failures_per_minute, 1, 60000);
  auto& ss = c.sessions;
  if (const YAML::Node n = find(root, "sessions.reserved_client_id_prefixes"); n.IsDefined() && !n.IsNull()) {
    // A YAML list, or (as a plugin_opt_ override) one comma-separated string.
    std::vector<std::string> items;
    if (n.IsSequence())
      for (const auto& item : n) items.push_back(item.as<std::string>());
    else if (n.IsScalar()) {
      std::stringstream in(n.as<std::string>());
      for (std::string item; std::getline(in, item, ',');) items.push_back(item);
    } else
      throw ConfigError("config: sessions.reserved_client_id_prefixes must be a list of strings");
    ss.reserved_prefixes.clear();
    for (auto& item : items) {
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) ss.reserved_prefixes.push_back(item);
    }
  }
  ss.max_ids_per_user = get_uint<uint32_t>(root, "sessions.max_client_ids_per_user", ss.max_ids_per_user, 1, 10000);
  ss.max_ids = get_uint<uint32_t>(root, "sessions.max_client_ids", ss.max_ids, 100, 10000000);
  ss.expiry_days = get_uint<uint32_t>(root, "sessions.client_id_expiry_days", ss.expiry_days, 1, 3650);
  auto& u = c.user_limits;
  u.messages_per_second = get_uint<uint32_t>(root, "limits.messages_per_second", u.messages_per_second, 0, 1000000);
  u.message_burst = get_uint<uint32_t>(root, "limits.message_burst", u.message_burst, 1, 10000000);
  u.max_connections = get_uint<uint32_t>(root, "limits.max_connections_per_user", u.max_connections, 0, 100000);

  c.dedup_window_s = get_uint<uint32_t>(root, "dedup.window_seconds", c.dedup_window_s, 0, 86400);
  c.dedup_max_entries = get_uint<uint32_t>(root, "dedup.max_entries", c.dedup_max_entries, 1, 10000000);
  c.directory_refresh_ms = get_uint<uint32_t>(root, "directory.refresh_ms", c.directory_refresh_ms, 50, u32max);

  if (const YAML::Node accounts = root["service_accounts"]; accounts.IsDefined() && !accounts.IsNull()) {
    if (!accounts.IsMap()) throw ConfigError("config: service_accounts must be a mapping of name → settings");
    for (const auto& kv : accounts) {
      const std::string name = kv.first.as<std::string>();
      const std::string key = "service_accounts." + name;
      for (char ch : name)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'))
          throw ConfigError("config: " + key + ": a service account name is [a-z0-9-]");
      ServiceAccount account;
      account.login = "svc:" + name;
      account.password_hash = get_string(root, key + ".password_hash", "");
      const std::string file = get_string(root, key + ".password_file", "");
      if (!file.empty()) account.password = read_secret_file(key + ".password_file", resolve(base_dir, file));
      if (account.password_hash.empty() == account.password.empty())
        throw ConfigError("config: " + key + " needs exactly one of password_hash, password_file");
      c.service_accounts[account.login] = account;
    }
  }

  auto& jwt = c.jwt;
  jwt.algorithm = get_string(root, "jwt.algorithm", "");
  jwt.leeway_s = get_uint<uint32_t>(root, "jwt.leeway_seconds", jwt.leeway_s, 0, 3600);
  const std::string secret_file = get_string(root, "jwt.secret_file", "");
  const std::string public_key_file = get_string(root, "jwt.public_key_file", "");
  if (!jwt.algorithm.empty()) {
    static const std::set<std::string> kAlgorithms = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                                      "RS512", "ES256", "ES384", "ES512"};
    if (!kAlgorithms.count(jwt.algorithm))
      throw ConfigError("config: jwt.algorithm: '" + jwt.algorithm + "' is not one of HS256/384/512, RS256/384/512, ES256/384/512");
    const bool shared_secret = jwt.algorithm[0] == 'H';
    if (shared_secret && (secret_file.empty() || !public_key_file.empty()))
      throw ConfigError("config: jwt.algorithm " + jwt.algorithm + " needs jwt.secret_file (and no jwt.public_key_file)");
    if (!shared_secret && (public_key_file.empty() || !secret_file.empty()))
      throw ConfigError("config: jwt.algorithm " + jwt.algorithm + " needs jwt.public_key_file (and no jwt.secret_file)");
    jwt.key = shared_secret ? read_secret_file("jwt.secret_file", resolve(base_dir, secret_file))
                            : read_whole_file("jwt.public_key_file", resolve(base_dir, public_key_file));
    if (shared_secret && jwt.key.size() < 32)
      throw ConfigError("config: jwt.secret_file: a shared secret needs at least 32 bytes");
  } else if (!secret_file.empty() || !public_key_file.empty()) {
    throw ConfigError("config: jwt.secret_file / jwt.public_key_file are set but jwt.algorithm is not");
  }
  c.metrics.bind = get_string(root, "metrics.bind", c.metrics.bind);
  if (c.metrics.bind.empty()) throw ConfigError("config: metrics.bind must be an address (127.0.0.1 by default)");
  c.metrics.port = get_uint<uint32_t>(root, "metrics.port", c.metrics.port, 0, 65535);
  c.metrics.sys_interval_s = get_uint<uint32_t>(root, "metrics.sys_interval_s", c.metrics.sys_interval_s, 0, 86400);
  return c;
}

Config load_config(const std::string& path, const Overrides& overrides) {
  std::ifstream in(path);
  if (!in) throw ConfigError("config: cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  const auto slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return load_config_text(text.str(), base_dir, overrides);
}

}  // namespace mqchat
