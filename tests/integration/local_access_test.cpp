// A local OS user who is not the stack's owner: the embedded Postgres must not let them in (no
// trust authentication; the socket reachable by its OS owner only; mqchat's password in a 0600 file).
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "tests/integration/fixtures.h"
#include "tests/integration/network_attacks.h"

namespace mqchat::test {

namespace {
std::string dsn_field(const std::string& key) {
  std::smatch m;
  const std::string dsn = Stack::dsn();
  if (!std::regex_search(dsn, m, std::regex("(^|\\s)" + key + "=(\\S+)"))) return "";
  return m[2];
}
}  // namespace

class LocalAccess : public StackTest {};

TEST_F(LocalAccess, PostgresNeedsAPasswordOnASocketOnlyItsOwnerCanReach) {
  const std::string socket_dir = dsn_field("host"), passfile = dsn_field("passfile");
  ASSERT_FALSE(socket_dir.empty());
  ASSERT_FALSE(passfile.empty()) << "the DSN should name a libpq password file, not hold a password";
  // No rule in pg_hba.conf trusts anyone; the socket and its directory are the owner's alone.
  EXPECT_EQ(query_value("select count(*) from pg_hba_file_rules where auth_method not in ('scram-sha-256', 'reject')"),
            "0");
  EXPECT_EQ(query_value("show unix_socket_permissions"), "0700");
  EXPECT_EQ(query_value("show listen_addresses"), "");
  struct stat st{};
  ASSERT_EQ(stat((socket_dir + "/.s.PGSQL.5432").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(socket_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "socket directory mode " << std::oct << (st.st_mode & 0777);
  ASSERT_EQ(stat(passfile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "password file mode " << std::oct << (st.st_mode & 0777);

  // Even the owner gets nowhere without the password: authentication is not trust.
  const std::string no_password = "PGPASSFILE=/dev/null PGPASSWORD= psql 'host=" + socket_dir +
                                  " port=5432 user=mqchat dbname=mqchat' -w -X -tAc 'select 1' 2>&1";
  std::string out;
  EXPECT_NE(run_command(no_password, &out), 0) << out;
  EXPECT_NE(out.find("password"), std::string::npos) << out;

  // Another OS user (nobody): no connection at all, so no COPY ... FROM PROGRAM either.
  if (geteuid() != 0) return;  // switching users needs root; the checks above hold for everyone
  const std::string marker = "/tmp/mqchat-copy-from-program-" + std::to_string(getpid());
  for (const std::string& conn : {Stack::dsn(), "host=" + socket_dir + " port=5432 user=mqchat dbname=mqchat",
                                  "host=" + socket_dir + " port=5432 user=postgres dbname=postgres"}) {
    const std::string as_nobody = "cd /tmp && runuser -u nobody -- env PGPASSWORD=mqchat psql '" + conn +
                                  "' -w -X -tAc \"copy (select 1) to program 'touch " + marker + "'\" 2>&1";
    out.clear();
    EXPECT_NE(run_command(as_nobody, &out), 0) << conn << ": " << out;
    EXPECT_TRUE(out.find("Permission denied") != std::string::npos ||
                out.find("password authentication failed") != std::string::npos ||
                out.find("could not read password file") != std::string::npos)
        << conn << ": " << out;
  }
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "COPY TO PROGRAM ran as " << marker;
  unlink(marker.c_str());
}

// The broker's own loopback ports skip HAProxy's CONNECT checks: other local users get a reset there
// (an nftables rule on root stacks), while the public port works for them like for anyone.
TEST_F(LocalAccess, TheBrokersOwnPortsAreClosedToOtherLocalUsers) {
  const auto reach = [](const std::string& user, int port) {
    const std::string tcp = "timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + "' 2>/dev/null";
    return run_command(user.empty() ? tcp : "cd /tmp && runuser -u " + user + " -- " + tcp) == 0;
  };
  // The stack's own user: both ports (HAProxy, the bridge and the benchmarks use them).
  EXPECT_TRUE(reach("", net::broker_mqtt_port()));
  EXPECT_TRUE(reach("", net::broker_ws_port()));
  if (geteuid() != 0) return;  // a non-root stack cannot install the rule (docs/RELIABILITY.md)
  EXPECT_TRUE(reach("nobody", net::public_mqtt_port())) << "the control: nobody reaches the public port";
  EXPECT_FALSE(reach("nobody", net::broker_mqtt_port()));
  EXPECT_FALSE(reach("nobody", net::broker_ws_port()));
}

}  // namespace mqchat::test
