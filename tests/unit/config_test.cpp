#include "common/config.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace mqchat;

namespace {
const std::string kMinimal = "database: {dsn: 'dbname=x'}\nspool: {dir: spool}\n";

std::string error_of(const std::string& yaml, const Overrides& overrides = {}) {
  try {
    load_config_text(yaml, "/base", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Config, MinimalFileGetsDefaultsAndResolvesPaths) {
  const Config c = load_config_text(kMinimal, "/base");
  EXPECT_EQ(c.database_dsn, "dbname=x");
  EXPECT_EQ(c.spool_dir, "/base/spool");
  EXPECT_EQ(c.fsync, FsyncPolicy::Interval);
  EXPECT_EQ(c.limits.max_content_chars, 4000u);
  EXPECT_TRUE(c.service_accounts.empty());
}

TEST(Config, OverridesReplaceScalarsByDottedKey) {
  const Config c = load_config_text(kMinimal, "/base",
                                    {{"database.dsn", "host=/tmp dbname=y"}, {"spool.dir", "/abs"},
                                     {"spool.fsync", "never"}, {"service_accounts.bridge.password_hash", "$6$x$y"}});
  EXPECT_EQ(c.database_dsn, "host=/tmp dbname=y");
  EXPECT_EQ(c.spool_dir, "/abs");
  EXPECT_EQ(c.fsync, FsyncPolicy::Never);
  ASSERT_EQ(c.service_accounts.count("svc:bridge"), 1u);
  EXPECT_EQ(c.service_accounts.at("svc:bridge").password_hash, "$6$x$y");
}

TEST(Config, KeysThatAreNotNamesAreRefusedNotThrownAsYamlErrors) {  // found by tests/fuzz/config_fuzz
  EXPECT_NE(error_of(kMinimal + "[a, b]: 1\n").find("top-level key is not a plain name"), std::string::npos);
  EXPECT_NE(error_of("database: {dsn: x, {a: 1}: 2}\n").find("key under database is not a plain name"),
            std::string::npos);
}

TEST(Config, ErrorsNameTheKey) {
  EXPECT_NE(error_of("spool: {dir: s}\n").find("database.dsn"), std::string::npos);
  EXPECT_NE(error_of(kMinimal + "spool_typo: 1\n").find("'spool_typo'"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"spool.fsync", "sometimes"}}).find("spool.fsync"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"shipper.batch_max", "-3"}}).find("shipper.batch_max"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"shipper.batch_max", "12abc"}}).find("shipper.batch_max"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"shipper.connections", "0"}}).find("shipper.connections"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"shipper.connections", "17"}}).find("shipper.connections"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"limits.max_content_chars", "4001"}}).find("limits.max_content_chars"),
            std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"limits.max_contents", "1"}}).find("limits.max_contents"), std::string::npos);
  EXPECT_NE(error_of(kMinimal + "service_accounts: {bridge: {}}\n").find("service_accounts.bridge"),
            std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"service_accounts.bridge.password_file", "/nonexistent/pw"}})
                .find("service_accounts.bridge.password_file"),
            std::string::npos);
  EXPECT_NE(error_of("database: [\n").find("invalid YAML"), std::string::npos);
}

TEST(Config, UserLimitsAndTokenLogins) {
  const Config c = load_config_text(kMinimal, "/base", {{"limits.messages_per_second", "0"}});
  EXPECT_EQ(c.user_limits.messages_per_second, 0u);
  EXPECT_EQ(c.user_limits.max_connections, 10u);
  EXPECT_TRUE(c.jwt.algorithm.empty());
  EXPECT_NE(error_of(kMinimal, {{"limits.max_connections_per_user", "-1"}}).find("limits.max_connections_per_user"),
            std::string::npos);

  const std::string secret = testing::TempDir() + "/jwt-secret";
  std::ofstream(secret) << "0123456789abcdef0123456789abcdef!\n";
  const Config j = load_config_text(kMinimal, "/base", {{"jwt.algorithm", "HS256"}, {"jwt.secret_file", secret}});
  EXPECT_EQ(j.jwt.key, "0123456789abcdef0123456789abcdef!");
  EXPECT_NE(error_of(kMinimal, {{"jwt.algorithm", "none"}}).find("jwt.algorithm"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"jwt.algorithm", "HS256"}}).find("jwt.secret_file"), std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"jwt.algorithm", "RS256"}, {"jwt.secret_file", secret}}).find("jwt.public_key_file"),
            std::string::npos);
  EXPECT_NE(error_of(kMinimal, {{"jwt.secret_file", secret}}).find("jwt.algorithm is not"), std::string::npos);
  std::ofstream(secret) << "short\n";
  EXPECT_NE(error_of(kMinimal, {{"jwt.algorithm", "HS256"}, {"jwt.secret_file", secret}}).find("at least 32 bytes"),
            std::string::npos);
}

TEST(Config, ASecretFileGivesItsFirstLineAndAnEmptyOneIsRefused) {
  const std::string file = testing::TempDir() + "/bridge-secret";
  const Overrides use = {{"service_accounts.bridge.password_file", file}};
  std::ofstream(file) << "s3cret\nignored second line\n";
  EXPECT_EQ(load_config_text(kMinimal, "/base", use).service_accounts.at("svc:bridge").password, "s3cret");
  for (const char* empty : {"", "\n", "\nsecret on the second line\n"}) {
    std::ofstream(file) << empty;
    EXPECT_NE(error_of(kMinimal, use).find("is empty"), std::string::npos) << "file: '" << empty << "'";
  }
}

TEST(Config, SecurityLimitsAndSessions) {
  const Config d = load_config_text(kMinimal, "/base");
  EXPECT_EQ(d.limits.max_typing_bytes, 256u);
  EXPECT_EQ(d.limits.max_request_bytes, 4096u);
  EXPECT_EQ(d.logins.hash_ms_per_second, 250u);
  EXPECT_EQ(d.sessions.reserved_prefixes, std::vector<std::string>{"mqchat-bridge"});
  const Config c = load_config_text(kMinimal + "sessions: {reserved_client_id_prefixes: [a-, b-], max_client_ids_per_user: 4}\n",
                                    "/base", {{"limits.login_hash_ms_per_second", "100"}, {"limits.max_typing_bytes", "64"}});
  EXPECT_EQ(c.sessions.reserved_prefixes, (std::vector<std::string>{"a-", "b-"}));
  EXPECT_EQ(c.sessions.max_ids_per_user, 4u);
  EXPECT_EQ(c.logins.hash_ms_per_second, 100u);
  EXPECT_EQ(c.limits.max_typing_bytes, 64u);
  // As a plugin_opt_ override the list is one comma-separated string.
  const Config o = load_config_text(kMinimal, "/base", {{"sessions.reserved_client_id_prefixes", "x, y"}});
  EXPECT_EQ(o.sessions.reserved_prefixes, (std::vector<std::string>{"x", "y"}));
  EXPECT_NE(error_of(kMinimal, {{"limits.login_hash_ms_per_second", "0"}}).find("login_hash_ms_per_second"),
            std::string::npos);
}
