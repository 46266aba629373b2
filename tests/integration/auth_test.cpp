// Who gets in: real clients against the running broker + plugin.
#include "tests/integration/fixtures.h"

namespace mqchat::test {

class Auth : public StackTest {};

TEST_F(Auth, CorrectPasswordIsAcceptedWrongOneRefused) {
  const auto name = unique_username("auth");
  create_user(name, kPassword);
  wait_until_login_works(name, kPassword);
  TestClient wrong(name, "not the password");
  EXPECT_FALSE(wrong.try_connect());
  TestClient unknown(unique_username("nobody"), kPassword);
  EXPECT_FALSE(unknown.try_connect());
  TestClient empty(name, "");
  EXPECT_FALSE(empty.try_connect());
}

TEST_F(Auth, AnonymousClientsAreRefused) {
  std::string out;
  const int rc = run_command("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(Stack::mqtt_port()) +
                                 " -t chat/x_y/messages -m hi -q 1 2>&1",
                             &out);
  EXPECT_NE(rc, 0) << out;
  EXPECT_NE(out.find("not authorised"), std::string::npos) << out;
}

TEST_F(Auth, NewUsersCanLogInWithinTwoSecondsWithoutRestart) {
  const auto name = unique_username("fresh");
  create_user(name, kPassword);
  const auto start = std::chrono::steady_clock::now();
  wait_until_login_works(name, kPassword);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(Auth, PasswordChangesTakeEffect) {
  const auto name = unique_username("rotate");
  create_user(name, kPassword);
  wait_until_login_works(name, kPassword);
  query_value("update profiles set password_hash = crypt('new secret', gen_salt('bf', 4)) where username = '" + name +
              "' returning 1");
  wait_until_login_works(name, "new secret");
  TestClient old_password(name, kPassword);
  EXPECT_FALSE(old_password.try_connect());
}

TEST_F(Auth, Sha512CryptHashesWork) {
  const auto name = unique_username("sha");
  // openssl passwd -6 makes the $6$ format libcrypt reads.
  std::string hash;
  ASSERT_EQ(run_command("openssl passwd -6 -salt saltsalt 'pw-6'", &hash), 0);
  hash.erase(hash.find_last_not_of('\n') + 1);
  query_value("insert into profiles(username, password_hash) values ('" + name + "', '" + hash + "') returning 1");
  wait_until_login_works(name, "pw-6");
}

TEST_F(Auth, ServiceAccountLogsInOnlyWithItsSecret) {
  TestClient bridge("svc:bridge", Stack::bridge_password());
  EXPECT_TRUE(bridge.try_connect());
  TestClient impostor("svc:bridge", "guess");
  EXPECT_FALSE(impostor.try_connect());
  TestClient unknown_service("svc:other", Stack::bridge_password());
  EXPECT_FALSE(unknown_service.try_connect());
}

}  // namespace mqchat::test
