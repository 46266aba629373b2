#include "plugin/authenticator.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "common/clock.h"
#include "common/hex.h"

namespace mqchat {

namespace {
constexpr size_t kMaxCachedUsers = 200000;
constexpr size_t kMaxTrustedSources = 8;
constexpr int kVerifierRounds = 200;

bool unhex(std::string_view s, uint8_t* out, size_t n) {
  if (s.size() != 2 * n) return false;
  const auto v = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    const int hi = v(s[2 * i]), lo = v(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = uint8_t(hi * 16 + lo);
  }
  return true;
}

bool is_loopback(std::string_view a) {
  return a.substr(0, 4) == "127." || a == "::1" || a.substr(0, 11) == "::ffff:127.";
}

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Authenticator::Key Authenticator::load_or_create_key(const std::string& path) {
  Key key{};
  std::error_code ec;  // the spool dir may not exist yet on a first start
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const ssize_t n = ::read(fd, key.data(), key.size());
    ::close(fd);
    if (n == ssize_t(key.size())) return key;
  }
  if (RAND_bytes(key.data(), int(key.size())) != 1) throw std::runtime_error("no randomness for " + path);
  const std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, key.data(), key.size()) != ssize_t(key.size()) || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot write " + tmp);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path);
  return key;
}

Authenticator::Authenticator(std::map<std::string, ServiceAccount> service_accounts, const UserDirectory& directory,
                             JwtSettings jwt, LoginSettings logins, StateFile* store, const StateFile::Table& stored,
                             const Key* key)
    : service_accounts_(std::move(service_accounts)),
      directory_(directory),
      jwt_(std::move(jwt)),
      gate_(logins),
      store_(store),
      crypt_scratch_(new crypt_data()) {
  if (key) key_ = *key;
  else RAND_bytes(key_.data(), static_cast<int>(key_.size()));
  // value = verifier hex '\t' trusted source tags separated by ' '
  for (const auto& [name, value] : stored) {
    Verified v;
    const auto tab = value.find('\t');
    if (!unhex(std::string_view(value).substr(0, tab), v.verifier.data(), v.verifier.size())) continue;
    v.has_verifier = true;
    if (tab != std::string::npos) {
      std::string_view rest = std::string_view(value).substr(tab + 1);
      while (!rest.empty() && v.trusted.size() < kMaxTrustedSources) {
        const auto sp = rest.find(' ');
        if (sp != 0) v.trusted.emplace_back(rest.substr(0, sp));
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
      }
    }
    verified_.emplace(name, std::move(v));
    if (verified_.size() >= kMaxCachedUsers) break;
  }
}

Authenticator::Digest Authenticator::digest_of(std::string_view password) const {
  Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(password.data()),
       password.size(), out.data(), &len);
  return out;
}

// PBKDF2(password, salt = username NUL hash) keyed by HMAC: bound to this account's current hash,
// worthless without the key, and slow enough (200 rounds) that the file is no cheap oracle.
Authenticator::Digest Authenticator::verifier_of(std::string_view username, const std::string& hash,
                                                 std::string_view password) const {
  std::string salt(username);
  salt.push_back('\0');
  salt += hash;
  Digest stretched{}, out{};
  PKCS5_PBKDF2_HMAC(password.data(), int(password.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    int(salt.size()), kVerifierRounds, EVP_sha256(), int(stretched.size()), stretched.data());
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), int(key_.size()), stretched.data(), stretched.size(), out.data(), &len);
  return out;
}

std::string Authenticator::source_tag(std::string_view source) const {
  Digest d = digest_of(source);
  return to_hex(d.data(), 8);
}

bool Authenticator::verify_hash(const std::string& hash, std::string_view password) {
  if (hash.empty() || hash[0] != '$') return false;  // disabled account, or not a crypt(3) hash
  ++hashes_;
  std::memset(crypt_scratch_.get(), 0, sizeof(crypt_data));
  const std::string phrase(password);
  const char* result = crypt_rn(phrase.c_str(), hash.c_str(), crypt_scratch_.get(), sizeof(crypt_data));
  return result && result[0] != '*' && std::strlen(result) == hash.size() &&
         CRYPTO_memcmp(result, hash.data(), hash.size()) == 0;
}

// A hash of the same algorithm and cost as `hash` (another user's) that no password matches in
// practice: what an unknown username is checked against.
const std::string& Authenticator::dummy_hash_like(const std::string& hash) {
  // "$2a$10$" / "$6$rounds=N$": the setting up to the salt decides the cost.
  const auto last = hash.rfind('$');
  const std::string setting = last == std::string::npos ? std::string() : hash.substr(0, last + 1);
  if (auto it = dummies_.find(setting); it != dummies_.end()) return it->second;
  if (dummies_.size() > 16) dummies_.clear();
  uint8_t random[24];
  RAND_bytes(random, sizeof random);
  std::string dummy;
  std::memset(crypt_scratch_.get(), 0, sizeof(crypt_data));
  const std::string phrase = to_hex(random, sizeof random);
  if (const char* r = crypt_rn(phrase.c_str(), hash.c_str(), crypt_scratch_.get(), sizeof(crypt_data));
      r && r[0] == '$')
    dummy = r;  // same setting and salt as `hash`, another password
  return dummies_.emplace(setting, dummy.empty() ? hash : dummy).first->second;
}

const std::string& Authenticator::typical_hash(const std::shared_ptr<const UserTable>& users) {
  if (users == typical_of_) return typical_;
  // The costliest setting any account has (bcrypt's cost; other schemes rank below bcrypt): an
  // unknown name then costs what the strongest accounts cost, so none of those can be told from
  // a name that does not exist. Accounts are made by `./mqchat user add` at one cost, so in
  // practice this is everyone's cost.
  const auto rank = [](const std::string& h) {
    if (h.size() > 6 && h[0] == '$' && h[1] == '2' && h[3] == '$' && std::isdigit(uint8_t(h[4])) &&
        std::isdigit(uint8_t(h[5])))
      return (h[4] - '0') * 10 + (h[5] - '0');
    return h.size() > 1 && h[0] == '$' ? 0 : -1;
  };
  const std::string* best = nullptr;
  int best_rank = -1;
  for (const auto& [name, user] : *users)
    if (const int r = rank(user.password_hash); r > best_rank) best_rank = r, best = &user.password_hash;
  typical_ = best ? *best : std::string();
  typical_of_ = users;
  return typical_;
}

bool Authenticator::is_service_account(std::string_view username) const {
  return service_accounts_.count(std::string(username)) > 0;
}

bool Authenticator::owns(std::string_view username) const {
  if (username.substr(0, 4) == "svc:") return true;
  return directory_.snapshot()->contains(username);
}

void Authenticator::remember(const std::string& name, const std::string& hash, const Digest& digest,
                             const Digest& verifier, const std::string& tag) {
  if (verified_.size() >= kMaxCachedUsers && !verified_.count(name)) verified_.clear();
  Verified& v = verified_[name];
  const bool changed = !v.has_verifier || CRYPTO_memcmp(v.verifier.data(), verifier.data(), verifier.size()) != 0 ||
                       std::find(v.trusted.begin(), v.trusted.end(), tag) == v.trusted.end();
  v.hash = hash;
  v.digest = digest;
  v.has_digest = true;
  v.verifier = verifier;
  v.has_verifier = true;
  v.trusted.erase(std::remove(v.trusted.begin(), v.trusted.end(), tag), v.trusted.end());
  v.trusted.push_back(tag);
  if (v.trusted.size() > kMaxTrustedSources) v.trusted.erase(v.trusted.begin());
  if (!changed || !store_) return;
  std::string value = to_hex(verifier.data(), verifier.size());
  value.push_back('\t');
  for (size_t i = 0; i < v.trusted.size(); ++i) value.append(i ? " " : "").append(v.trusted[i]);
  store_->put(name, std::move(value));
}

bool Authenticator::authenticate(std::string_view username, std::string_view password, const LoginSource& from,
                                 std::string* why) {
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
  const UserRecord* const user = users->find(name);
  const bool known = user != nullptr;
  if (jwt_.enabled() && JwtVerifier::looks_like_token(password)) {
    auto check = jwt_.verify(password, now_unix_us() / 1000000);
    if (check.ok && (!known || check.subject != user->id))
      check = TokenCheck{false, {}, "its sub is not " + name + "'s profile id"};
    if (!check.ok && why) *why = "token refused: " + check.refusal;
    return check.ok;
  }
  // An unknown name is checked like a known one against a hash of the same cost.
  static const std::string kNoHash;
  const std::string& typical = known ? kNoHash : typical_hash(users);
  const std::string& hash = known ? user->password_hash : typical.empty() ? kNoHash : dummy_hash_like(typical);

  const int64_t now = now_unix_us();
  const std::string source = !from.address.empty() && !is_loopback(from.address)
                                 ? "a:" + std::string(from.address)
                                 : "c:" + std::string(from.client_id);
  const std::string tag = source_tag(source);
  const auto seen = known ? verified_.find(name) : verified_.end();
  const bool trusted =
      seen != verified_.end() && std::find(seen->second.trusted.begin(), seen->second.trusted.end(), tag) !=
                                     seen->second.trusted.end();

  switch (gate_.admit(name, source, trusted, now)) {
    case LoginGate::Verdict::Ok: break;
    case LoginGate::Verdict::SourceThrottled:
      if (why) *why = "too many wrong passwords for this account from this client; retry later";
      return false;
    case LoginGate::Verdict::AccountThrottled:
      if (why) *why = "too many wrong passwords for this account from new clients; known clients still get in";
      return false;
    case LoginGate::Verdict::Busy: break;
  }
  const Digest digest = digest_of(password);
  if (seen != verified_.end() && seen->second.has_digest && seen->second.hash == hash &&
      CRYPTO_memcmp(seen->second.digest.data(), digest.data(), digest.size()) == 0) {
    gate_.succeeded(name, source, now);
    remember(name, hash, digest, seen->second.verifier, tag);
    return true;
  }
  if (!gate_.budget_for_hash(trusted, now)) {
    if (why) *why = "password checks are busy (limits.login_hash_ms_per_second); retry in a moment";
    return false;
  }
  const int64_t t0 = monotonic_us();
  const Digest verifier = verifier_of(name, hash, password);
  bool ok = seen != verified_.end() && seen->second.has_verifier &&
            CRYPTO_memcmp(seen->second.verifier.data(), verifier.data(), verifier.size()) == 0;
  if (!ok) ok = verify_hash(hash, password) && known;
  gate_.charge(trusted, monotonic_us() - t0, now);
  if (!ok) {
    gate_.failed(name, source, trusted, now);
    return false;
  }
  gate_.succeeded(name, source, now);
  remember(name, hash, digest, verifier, tag);
  return true;
}

}  // namespace mqchat
