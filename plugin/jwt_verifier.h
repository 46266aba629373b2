#pragma once
// JSON Web Token logins: a web app that already issues tokens (as the original system's auth
// service did) hands one to its MQTT client, which sends it as the password. A token is accepted
// when it is signed by the configured key with the configured algorithm (the token's own "alg"
// header is never trusted to choose: that is the classic HS256-with-a-public-key forgery), is
// within exp / nbf, and its `sub` is the profile id of the user logging in.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/config.h"

namespace mqchat {

struct TokenCheck {
  bool ok = false;
  std::string subject;  // the `sub` claim when ok
  std::string refusal;  // why not, for the log
};

class JwtVerifier {
 public:
  explicit JwtVerifier(JwtSettings settings) : settings_(std::move(settings)) {}

  bool enabled() const { return !settings_.algorithm.empty(); }
  // header.payload.signature, base64url: what a password never looks like in practice.
  static bool looks_like_token(std::string_view password);
  TokenCheck verify(std::string_view token, int64_t now_s) const;

 private:
  JwtSettings settings_;
};

}  // namespace mqchat
