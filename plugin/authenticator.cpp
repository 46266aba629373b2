#include "plugin/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstring>

#include "common/clock.h"

namespace mqchat {

namespace {
constexpr size_t kMaxCachedUsers = 200000;
}

Authenticator::Authenticator(std::map<std::string, ServiceAccount> service_accounts, const UserDirectory& directory,
                             JwtSettings jwt)
    : service_accounts_(std::move(service_accounts)),
      directory_(directory),
      jwt_(std::move(jwt)),
      crypt_scratch_(new crypt_data()) {
  RAND_bytes(key_.data(), static_cast<int>(key_.size()));
}

Authenticator::Digest Authenticator::digest_of(std::string_view password) const {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(password.data()),
       password.size(), out.data(), &len);
  return out;
}

bool Authenticator::verify_hash(const std::string& hash, std::string_view password) {
  if (hash.empty() || hash[0] != '$') return false;  // disabled account, or not a crypt(3) hash
  std::memset(crypt_scratch_.get(), 0, sizeof(crypt_data));
  const std::string phrase(password);
  const char* result = crypt_rn(phrase.c_str(), hash.c_str(), crypt_scratch_.get(), sizeof(crypt_data));
  return result && result[0] != '*' && std::strlen(result) == hash.size() &&
         CRYPTO_memcmp(result, hash.data(), hash.size()) == 0;
}

bool Authenticator::is_service(std::string_view username) const {
  return username.substr(0, 4) == "svc:" && service_accounts_.count(std::string(username)) > 0;
}

bool Authenticator::authenticate(std::string_view username, std::string_view password, std::string* why) {
  if (username.empty()) return false;
  const std::string name(username);

  if (username.substr(0, 4) == "svc:") {
    const auto it = service_accounts_.find(name);
    if (it == service_accounts_.end()) return false;
    if (!it->second.password.empty()) {
      const Digest a = digest_of(password), b = digest_of(it->second.password);
      return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
    }
    return verify_hash(it->second.password_hash, password);
  }

  const auto users = directory_.snapshot();
  const auto user = users->find(name);
  if (user == users->end()) return false;
  if (jwt_.enabled() && JwtVerifier::looks_like_token(password)) {
    auto check = jwt_.verify(password, now_unix_us() / 1000000);
    if (check.ok && check.subject != user->second.id)
      check = TokenCheck{false, {}, "its sub is not " + name + "'s profile id"};
    if (!check.ok && why) *why = "token refused: " + check.refusal;
    return check.ok;
  }
  const std::string& hash = user->second.password_hash;
  const Digest digest = digest_of(password);

  if (const auto hit = verified_.find(name); hit != verified_.end() && hit->second.hash == hash &&
                                             CRYPTO_memcmp(hit->second.digest.data(), digest.data(), digest.size()) == 0)
    return true;
  if (!hash_checks_.allow(name, now_unix_us())) {
    if (why) *why = "too many failed logins for this account; password checks are slowed to one per 2 s";
    return false;
  }
  if (!verify_hash(hash, password)) return false;
  if (verified_.size() >= kMaxCachedUsers) verified_.clear();
  verified_[name] = Verified{hash, digest};
  return true;
}

}  // namespace mqchat
