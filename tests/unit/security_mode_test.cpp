#include "plugin/security_mode.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace mqchat;

namespace {
const auto kOwn = [](const std::string& p) { return p == "/opt/mqchat/mqchat_plugin.so"; };

BrokerSecurity scan(const std::string& text) {
  BrokerSecurity b;
  b.config_read = true;
  b.config_path = "/etc/mosquitto/mosquitto.conf";
  std::vector<std::string> dirs;
  scan_config_text(text, kOwn, b, dirs);
  return b;
}
}  // namespace

TEST(SecurityMode, ConfigFileComesFromDashC) {
  using namespace std::string_literals;
  EXPECT_EQ(config_file_from_cmdline("mosquitto\0-c\0/etc/mosquitto/mosquitto.conf\0"s), "/etc/mosquitto/mosquitto.conf");
  EXPECT_EQ(config_file_from_cmdline("/usr/sbin/mosquitto\0-d\0--config-file\0/x.conf\0-v\0"s), "/x.conf");
  EXPECT_EQ(config_file_from_cmdline("mosquitto\0-p\01883\0"s), "");
  EXPECT_EQ(config_file_from_cmdline("mosquitto\0-c\0"s), "");
  EXPECT_EQ(config_file_from_cmdline(""), "");
}

TEST(SecurityMode, FindsOtherSecurityButNotItself) {
  auto b = scan("plugin /opt/mqchat/mqchat_plugin.so\nplugin_opt_config /x.yaml\nallow_anonymous false\n");
  EXPECT_TRUE(b.authenticate.empty());
  EXPECT_TRUE(b.access.empty());
  b = scan("# password_file /commented\n  password_file /etc/mosquitto/passwd\nacl_file /etc/mosquitto/acl\r\n");
  ASSERT_EQ(b.authenticate.size(), 1u);
  EXPECT_EQ(b.authenticate[0], "password_file /etc/mosquitto/passwd");
  ASSERT_EQ(b.access.size(), 1u);
  EXPECT_EQ(b.access[0], "acl_file /etc/mosquitto/acl");
  b = scan("plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\nplugin_opt_config_file /d.json\n");
  EXPECT_EQ(b.authenticate.size(), 1u);
  EXPECT_EQ(b.access.size(), 1u);
  b = scan("auth_plugin /usr/lib/go-auth.so\n");
  EXPECT_EQ(b.access.size(), 1u);
  b = scan("listener 8883\nuse_identity_as_username true\n");
  EXPECT_EQ(b.authenticate.size(), 1u);
  b = scan("use_subject_as_username false\npsk_hint x\n");
  EXPECT_TRUE(b.authenticate.empty());
  b = scan("psk_file /etc/mosquitto/psk\n");
  EXPECT_EQ(b.authenticate.size(), 1u);
  // Mosquitto's own parser: a line starting with '#' is a comment, an option ends at a space.
  b = scan("#acl_file /x\nacl_files /y\nmy_password_file /z\n");
  EXPECT_TRUE(b.access.empty());
  EXPECT_TRUE(b.authenticate.empty());
}

TEST(SecurityMode, AutoChoosesCoexistOnlyWithOtherSecurity) {
  auto m = choose_mode(SecurityModeSetting::Auto, scan("listener 1883\n"));
  EXPECT_FALSE(m.coexist);
  m = choose_mode(SecurityModeSetting::Auto, scan("password_file /p\n"));
  EXPECT_TRUE(m.coexist);
  EXPECT_FALSE(m.others_decide_access);  // no ACL mechanism: the plugin answers as bare Mosquitto would
  EXPECT_NE(m.why.find("password_file /p"), std::string::npos);
  m = choose_mode(SecurityModeSetting::Auto, scan("password_file /p\nacl_file /a\n"));
  EXPECT_TRUE(m.coexist);
  EXPECT_TRUE(m.others_decide_access);
  m = choose_mode(SecurityModeSetting::Exclusive, scan("password_file /p\nacl_file /a\n"));
  EXPECT_FALSE(m.coexist);
  m = choose_mode(SecurityModeSetting::Coexist, scan("listener 1883\n"));
  EXPECT_TRUE(m.coexist);
  EXPECT_FALSE(m.others_decide_access);
}

TEST(SecurityMode, AnUnreadableConfigIsExclusiveUnlessCoexistIsAskedFor) {
  BrokerSecurity unread;
  unread.problem = "cannot read /nope";
  auto m = choose_mode(SecurityModeSetting::Auto, unread);
  EXPECT_FALSE(m.coexist);
  EXPECT_NE(m.why.find("/nope"), std::string::npos);
  m = choose_mode(SecurityModeSetting::Coexist, unread);
  EXPECT_TRUE(m.coexist);
  EXPECT_TRUE(m.others_decide_access);  // unknown: defer, so nothing nobody allows gets through
}

TEST(SecurityMode, FollowsIncludeDirConfFilesOnly) {
  const auto dir = std::filesystem::temp_directory_path() / ("mqchat-mode-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir / "conf.d");
  std::ofstream(dir / "mosquitto.conf") << "listener 1883\ninclude_dir " << (dir / "conf.d").string() << "\n";
  std::ofstream(dir / "conf.d" / "mqchat.conf") << "plugin /opt/mqchat/mqchat_plugin.so\n";
  std::ofstream(dir / "conf.d" / "notes.txt") << "acl_file /ignored\n";
  auto b = scan_broker_config((dir / "mosquitto.conf").string(), "/opt/mqchat/mqchat_plugin.so");
  EXPECT_TRUE(b.config_read);
  EXPECT_TRUE(b.access.empty());
  std::ofstream(dir / "conf.d" / "fleet.conf") << "password_file /etc/mosquitto/passwd\nacl_file /etc/mosquitto/acl\n";
  b = scan_broker_config((dir / "mosquitto.conf").string(), "/opt/mqchat/mqchat_plugin.so");
  EXPECT_EQ(b.authenticate.size(), 1u);
  EXPECT_EQ(b.access.size(), 1u);
  b = scan_broker_config((dir / "missing.conf").string(), "/x");
  EXPECT_FALSE(b.config_read);
  EXPECT_FALSE(b.problem.empty());
  std::filesystem::remove_all(dir);
}

TEST(SecurityMode, ConfigKeyAndOverride) {
  const std::string base = "database:\n  dsn: x\nspool:\n  dir: /tmp/s\n";
  EXPECT_EQ(load_config_text(base, "/").mode, SecurityModeSetting::Auto);
  EXPECT_EQ(load_config_text(base + "mode: exclusive\n", "/").mode, SecurityModeSetting::Exclusive);
  EXPECT_EQ(load_config_text(base, "/", {{"mode", "coexist"}}).mode, SecurityModeSetting::Coexist);
  EXPECT_THROW(load_config_text(base + "mode: shared\n", "/"), ConfigError);
}
