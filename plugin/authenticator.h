#pragma once
// Username + password checks against crypt(3) hashes (bcrypt as pgcrypto makes them, sha512crypt,
// ...). Hashing is deliberately slow, and Mosquitto 2.0's basic auth is synchronous on the broker
// thread, so a successful check is cached as a keyed digest of the password: a reconnect costs a
// hash lookup, not a bcrypt.
#include <crypt.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/config.h"
#include "plugin/jwt_verifier.h"
#include "plugin/rate_limiter.h"
#include "plugin/user_directory.h"

namespace mqchat {

class Authenticator {
 public:
  Authenticator(std::map<std::string, ServiceAccount> service_accounts, const UserDirectory& directory,
                JwtSettings jwt = {});

  // The password may be a JSON Web Token when jwt.algorithm is configured. `why`, when given,
  // receives the reason a token was refused (wrong passwords get no explanation).
  bool authenticate(std::string_view username, std::string_view password, std::string* why = nullptr);
  bool is_service(std::string_view username) const;

 private:
  using Digest = std::array<uint8_t, 32>;
  Digest digest_of(std::string_view password) const;
  bool verify_hash(const std::string& hash, std::string_view password);

  struct Verified {
    std::string hash;  // the stored hash this password was checked against
    Digest digest;
  };

  std::map<std::string, ServiceAccount> service_accounts_;
  const UserDirectory& directory_;
  JwtVerifier jwt_;
  std::array<uint8_t, 32> key_{};  // random per process: cached digests are useless elsewhere
  std::unordered_map<std::string, Verified> verified_;
  // crypt(3) checks per username: a few at once, then one every 2 s. Basic auth runs on the broker
  // thread and a bcrypt takes milliseconds, so a stream of wrong passwords for one account must
  // not buy the attacker the broker's time. A cached good login never needs a check.
  RateLimiter hash_checks_{0.5, 10};
  std::unique_ptr<crypt_data> crypt_scratch_;
};

}  // namespace mqchat
