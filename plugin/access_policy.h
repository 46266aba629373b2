#pragma once
// Who may publish, subscribe to or receive which topic. Pure and in-memory: it runs for every
// publish and for every delivery, on the broker thread.
#include <functional>
#include <string_view>

namespace mqchat {

// Values of MOSQ_ACL_READ / WRITE / SUBSCRIBE / UNSUBSCRIBE.
enum Access : int { kAccessRead = 1, kAccessWrite = 2, kAccessSubscribe = 4, kAccessUnsubscribe = 8 };

struct Principal {
  std::string_view username;
  bool service = false;
};

using UserExists = std::function<bool(std::string_view)>;

// Deny by default; see the topic table in docs/DESIGN.md.
bool is_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists);

}  // namespace mqchat
