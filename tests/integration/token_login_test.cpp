// Logins with a JSON Web Token as the password (config `jwt.*`), against the real broker: the
// suite restarts it with an HS256 secret and restores it afterwards.
#include <jwt.h>

#include <cstdlib>
#include <fstream>

#include "tests/integration/fixtures.h"

namespace mqchat::test {

namespace {
const std::string kSecret = "integration-test-secret-0123456789abcdef";

std::string token_for(const std::string& subject, long exp_from_now) {
  jwt_t* j = nullptr;
  jwt_new(&j);
  jwt_add_grant(j, "sub", subject.c_str());
  jwt_add_grant_int(j, "exp", static_cast<long>(std::time(nullptr)) + exp_from_now);
  jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(kSecret.data()), int(kSecret.size()));
  char* text = jwt_encode_str(j);
  std::string token = text;
  free(text);
  jwt_free(j);
  return token;
}

std::string profile_id(const std::string& username) {
  return query_value("select id from profiles where username = '" + username + "'");
}
}  // namespace

class TokenLogin : public PairTest {
 protected:
  static void SetUpTestSuite() {
    if (!Stack::available()) return;
    const std::string secret_file = Stack::run_dir() + "/jwt.secret";
    std::ofstream(secret_file) << kSecret << "\n";
    Stack::svc("restart", "broker", "jwt.algorithm=HS256 jwt.secret_file=" + secret_file);
  }
  static void TearDownTestSuite() {
    if (Stack::available()) Stack::svc("restart", "broker");
  }
};

TEST_F(TokenLogin, ATokenWhoseSubIsTheProfileIdLogsInAndChats) {
  TestClient bob(pair_.bob, kPassword);
  bob.connect();
  bob.subscribe(messages_topic(pair_.room));
  TestClient alice(pair_.alice, token_for(profile_id(pair_.alice), 300));
  ASSERT_TRUE(alice.try_connect());
  ASSERT_EQ(alice.publish(messages_topic(pair_.room), "signed in with a token"), 0);
  const auto got = bob.wait_message(messages_topic(pair_.room));
  ASSERT_TRUE(got);
  EXPECT_EQ(nlohmann::json::parse(got->payload)["sender"], pair_.alice);
}

TEST_F(TokenLogin, SomeoneElsesExpiredOrForgedTokensAreRefusedAndPasswordsStillWork) {
  // Bob's valid token does not make anyone Alice.
  EXPECT_FALSE(TestClient(pair_.alice, token_for(profile_id(pair_.bob), 300)).try_connect());
  EXPECT_FALSE(TestClient(pair_.alice, token_for(profile_id(pair_.alice), -120)).try_connect());  // expired
  std::string forged = token_for(profile_id(pair_.alice), 300);
  char& c = forged[forged.size() - 10];  // inside the signature, away from its padding bits
  c = c == 'A' ? 'B' : 'A';
  EXPECT_FALSE(TestClient(pair_.alice, forged).try_connect());
  EXPECT_TRUE(TestClient(pair_.alice, kPassword).try_connect());
  // The broker's log says why, for whoever investigates.
  std::string log;
  run_command("grep -c 'login of " + pair_.alice + " refused: token refused: expired' " + Stack::run_dir() +
                  "/mosquitto.log",
              &log);
  EXPECT_EQ(log.substr(0, 1), "1");
}

}  // namespace mqchat::test
