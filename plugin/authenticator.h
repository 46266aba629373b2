#pragma once
// Username + password checks against crypt(3) hashes (bcrypt as pgcrypto makes them, sha512crypt,
// ...). Hashing is deliberately slow, and Mosquitto 2.0's basic auth is synchronous on the broker
// thread, so:
// - a good login is remembered as a keyed digest of the password (in memory: a reconnect costs a
//   hash lookup) and as a keyed, salted verifier bound to the current password hash (in the
//   spool dir, written by a worker thread): after a broker restart a returning user costs a
//   PBKDF2 of 200 rounds (~0.2 ms), not a bcrypt. Neither is a reusable secret: without the key
//   (a 0600 file next to it) they are random bytes, and a new password hash voids them;
// - every hash is admitted by the LoginGate (total budget, per-source and per-account throttles);
// - an unknown username takes the same path as a wrong password: the same gate, a verifier
//   check and a hash at the costliest setting any account has (in practice everyone's: accounts
//   are made at one cost), so timing does not tell which names exist.
// Mosquitto cuts the password at its first NUL before any plugin sees it ("pw\0junk" arrives as
// "pw"); the HAProxy front refuses such CONNECTs.
#include <crypt.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/config.h"
#include "plugin/jwt_verifier.h"
#include "plugin/login_gate.h"
#include "plugin/state_file.h"
#include "plugin/user_directory.h"

namespace mqchat {

struct LoginSource {
  std::string_view address;    // the peer address Mosquitto reports
  std::string_view client_id;
};

class Authenticator {
 public:
  using Key = std::array<uint8_t, 32>;

  // `store` (may be null: nothing persists) keeps verified logins across restarts; `key` keys
  // the verifiers (random per process when there is no store).
  Authenticator(std::map<std::string, ServiceAccount> service_accounts, const UserDirectory& directory,
                JwtSettings jwt = {}, LoginSettings logins = {}, StateFile* store = nullptr,
                const StateFile::Table& stored = {}, const Key* key = nullptr);

  // The password may be a JSON Web Token when jwt.algorithm is configured. `why`, when given,
  // receives the reason a login was refused other than a wrong password (throttled, busy, token).
  bool authenticate(std::string_view username, std::string_view password, const LoginSource& from = {},
                    std::string* why = nullptr);
  // Asked for every check and publish: the "svc:" prefix inline, the accounts only for a name with it.
  bool is_service(std::string_view username) const {
    return username.size() >= 4 && std::memcmp(username.data(), "svc:", 4) == 0 && is_service_account(username);
  }
  // The plugin decides this name's logins: a profile, or anything starting with "svc:" (service
  // names are reserved). In coexist mode the others' logins are deferred.
  bool owns(std::string_view username) const;

  // Reads `path` (32 bytes), or creates it (mode 0600) with random bytes. Plugin start only.
  static Key load_or_create_key(const std::string& path);
  // Work counters, for tests and logs.
  uint64_t hashes() const { return hashes_; }

 private:
  bool is_service_account(std::string_view username) const;
  using Digest = std::array<uint8_t, 32>;
  Digest digest_of(std::string_view password) const;
  Digest verifier_of(std::string_view username, const std::string& hash, std::string_view password) const;
  std::string source_tag(std::string_view source) const;
  bool verify_hash(const std::string& hash, std::string_view password);
  const std::string& dummy_hash_like(const std::string& hash);
  // A hash with the costliest setting among the users, found again when the directory changes:
  // unknown names are checked at the cost the strongest real accounts have.
  const std::string& typical_hash(const std::shared_ptr<const UserTable>& users);
  void remember(const std::string& name, const std::string& hash, const Digest& digest, const Digest& verifier,
                const std::string& tag);

  struct Verified {
    std::string hash;  // the stored hash this password was checked against
    Digest digest{};   // in-memory fast path (keyed by key_)
    bool has_digest = false;
    Digest verifier{};  // persisted
    bool has_verifier = false;
    std::vector<std::string> trusted;  // source tags that logged in (most recent last, ≤ 8)
  };

  std::map<std::string, ServiceAccount> service_accounts_;
  const UserDirectory& directory_;
  JwtVerifier jwt_;
  LoginGate gate_;
  StateFile* store_;
  Key key_{};
  std::unordered_map<std::string, Verified> verified_;
  std::unordered_map<std::string, std::string> dummies_;  // hash setting prefix → dummy hash
  std::shared_ptr<const UserTable> typical_of_;
  std::string typical_;
  std::unique_ptr<crypt_data> crypt_scratch_;
  uint64_t hashes_ = 0;
};

}  // namespace mqchat
