#include "plugin/jwt_verifier.h"

#include <jwt.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace mqchat {

namespace {

constexpr size_t kMaxTokenBytes = 8192;

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

// A numeric claim; false when it is absent.
bool numeric_claim(jwt_t* j, const char* name, long& value) {
  errno = 0;
  value = jwt_get_grant_int(j, name);
  return errno == 0;
}

// The "alg" of a token's header (base64url JSON); "" when it cannot be read.
std::string header_algorithm(std::string_view encoded) {
  std::string b64(encoded);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4) b64.push_back('=');
  std::string json(b64.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(json.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return "";
  json.resize(static_cast<size_t>(n));
  while (!json.empty() && json.back() == '\0') json.pop_back();  // EVP_DecodeBlock counts the padding
  const auto header = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return "";
  const auto alg = header.find("alg");
  return alg != header.end() && alg->is_string() ? alg->get<std::string>() : "";
}

}  // namespace

bool JwtVerifier::looks_like_token(std::string_view password) {
  if (password.size() < 16 || password.substr(0, 3) != "eyJ") return false;  // base64url of '{"'
  if (std::count(password.begin(), password.end(), '.') != 2) return false;
  return std::all_of(password.begin(), password.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

TokenCheck JwtVerifier::verify(std::string_view token, int64_t now_s) const {
  TokenCheck check;
  const auto refuse = [&check](std::string why) {
    check.refusal = std::move(why);
    return check;
  };
  if (!enabled()) return refuse("token logins are not configured (jwt.algorithm)");
  if (token.size() > kMaxTokenBytes) return refuse("token longer than 8 KiB");
  const std::string text(token);

  // First the header alone, unverified: a token for another algorithm is refused before any key
  // is used with it.
  const std::string alg = header_algorithm(token.substr(0, token.find('.')));
  if (alg != settings_.algorithm)
    return refuse("signed with " + (alg.empty() ? std::string("an unreadable header") : alg) + ", expected " +
                  settings_.algorithm);

  jwt_t* raw = nullptr;
  const auto* key = reinterpret_cast<const unsigned char*>(settings_.key.data());
  if (jwt_decode(&raw, text.c_str(), key, static_cast<int>(settings_.key.size())) != 0 || !raw)
    return refuse("bad signature");
  JwtPtr verified(raw);
  const char* verified_alg = jwt_alg_str(jwt_get_alg(verified.get()));
  if (!verified_alg || settings_.algorithm != verified_alg) return refuse("bad signature");

  long exp = 0, nbf = 0;
  if (!numeric_claim(verified.get(), "exp", exp)) return refuse("no exp claim: tokens must expire");
  if (now_s > exp + static_cast<long>(settings_.leeway_s)) return refuse("expired");
  if (numeric_claim(verified.get(), "nbf", nbf) && now_s + static_cast<long>(settings_.leeway_s) < nbf)
    return refuse("not valid yet (nbf)");
  const char* sub = jwt_get_grant(verified.get(), "sub");
  if (!sub || !*sub) return refuse("no sub claim");
  check.ok = true;
  check.subject = sub;
  return check;
}

}  // namespace mqchat
