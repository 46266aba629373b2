#include "plugin/jwt_verifier.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace mqchat;

namespace {

constexpr int64_t kNow = 1800000000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-shared";

// A token as an issuer makes it, with libjwt.
std::string make_token(jwt_alg_t alg, const std::string& key, const std::map<std::string, long>& numbers,
                       const char* sub = "6d716368-0000-4000-8000-000000000001") {
  jwt_t* j = nullptr;
  jwt_new(&j);
  if (sub) jwt_add_grant(j, "sub", sub);
  for (const auto& [name, value] : numbers) jwt_add_grant_int(j, name.c_str(), value);
  jwt_set_alg(j, alg, alg == JWT_ALG_NONE ? nullptr : reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  char* text = jwt_encode_str(j);
  std::string token = text ? text : "";
  free(text);
  jwt_free(j);
  return token;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// An RSA or EC key pair made by openssl for this test: {private PEM, public PEM}.
std::pair<std::string, std::string> key_pair(const std::string& kind) {
  const auto dir = std::filesystem::temp_directory_path() / ("mqchat-jwt-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string priv = (dir / (kind + ".key")).string(), pub = (dir / (kind + ".pub")).string();
  const std::string gen = kind == "rsa" ? "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
                                        : "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256";
  const std::string cmd = gen + " -out " + priv + " 2>/dev/null && openssl pkey -in " + priv + " -pubout -out " +
                          pub + " 2>/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return {read(priv), read(pub)};
}

}  // namespace

TEST(JwtVerifier, Hs256TokenWithinItsLifetimeGivesItsSubject) {
  const JwtVerifier v(JwtSettings{"HS256", kSecret, 30});
  const auto token = make_token(JWT_ALG_HS256, kSecret, {{"exp", kNow + 60}, {"nbf", kNow - 5}});
  ASSERT_TRUE(JwtVerifier::looks_like_token(token)) << token;
  const auto check = v.verify(token, kNow);
  EXPECT_TRUE(check.ok) << check.refusal;
  EXPECT_EQ(check.subject, "6d716368-0000-4000-8000-000000000001");
}

TEST(JwtVerifier, RefusesWrongKeyExpiryNotBeforeMissingClaimsAndGarbage) {
  const JwtVerifier v(JwtSettings{"HS256", kSecret, 30});
  const auto refusal = [&](const std::string& token) { return v.verify(token, kNow).refusal; };
  EXPECT_EQ(refusal(make_token(JWT_ALG_HS256, kSecret + "x", {{"exp", kNow + 60}})), "bad signature");
  EXPECT_EQ(refusal(make_token(JWT_ALG_HS256, kSecret, {{"exp", kNow - 31}})), "expired");
  EXPECT_EQ(refusal(make_token(JWT_ALG_HS256, kSecret, {{"exp", kNow - 29}})), "");  // within the leeway
  EXPECT_EQ(refusal(make_token(JWT_ALG_HS256, kSecret, {{"exp", kNow + 600}, {"nbf", kNow + 60}})),
            "not valid yet (nbf)");
  EXPECT_EQ(refusal(make_token(JWT_ALG_HS256, kSecret, {})), "no exp claim: tokens must expire");
  EXPECT_EQ(refusal(make_token(JWT_ALG_HS256, kSecret, {{"exp", kNow + 60}}, nullptr)), "no sub claim");
  EXPECT_EQ(refusal(make_token(JWT_ALG_HS512, kSecret, {{"exp", kNow + 60}})), "signed with HS512, expected HS256");
  // alg "none": no signature at all.
  const auto unsigned_token = make_token(JWT_ALG_NONE, "", {{"exp", kNow + 60}});
  EXPECT_FALSE(v.verify(unsigned_token, kNow).ok) << unsigned_token;
  EXPECT_EQ(refusal("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln"), "bad signature");
  EXPECT_FALSE(v.verify(std::string(9000, 'a'), kNow).ok);
  EXPECT_FALSE(JwtVerifier(JwtSettings{}).verify(make_token(JWT_ALG_HS256, kSecret, {{"exp", kNow + 60}}), kNow).ok);
}

TEST(JwtVerifier, Rs256AndEs256WithAPublicKeyAndNoAlgorithmConfusion) {
  for (const auto& [kind, alg, name] : {std::tuple{"rsa", JWT_ALG_RS256, "RS256"}, std::tuple{"ec", JWT_ALG_ES256, "ES256"}}) {
    const auto [private_pem, public_pem] = key_pair(kind);
    ASSERT_FALSE(public_pem.empty());
    const JwtVerifier v(JwtSettings{name, public_pem, 30});
    const auto check = v.verify(make_token(alg, private_pem, {{"exp", kNow + 60}}), kNow);
    EXPECT_TRUE(check.ok) << name << ": " << check.refusal;
    // The forgery: HS256 "signed" with the public key, which everybody has.
    const auto forged = make_token(JWT_ALG_HS256, public_pem, {{"exp", kNow + 60}});
    EXPECT_EQ(v.verify(forged, kNow).refusal, std::string("signed with HS256, expected ") + name);
    // Signed by some other key of the same kind.
    const auto [other_private, other_public] = key_pair(kind);
    EXPECT_EQ(v.verify(make_token(alg, other_private, {{"exp", kNow + 60}}), kNow).refusal, "bad signature") << name;
  }
}

TEST(JwtVerifier, OnlyTokenShapedPasswordsAreTreatedAsTokens) {
  EXPECT_FALSE(JwtVerifier::looks_like_token("correct horse battery staple"));
  EXPECT_FALSE(JwtVerifier::looks_like_token("eyJ.only-one-dot"));
  EXPECT_FALSE(JwtVerifier::looks_like_token("eyJabc.def.ghi jkl"));
  EXPECT_TRUE(JwtVerifier::looks_like_token("eyJhbGciOiJIUzI1NiJ9.e30.sig-_nature"));
}
