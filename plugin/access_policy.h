#pragma once
// Who may publish, subscribe to or receive which topic. Pure and in-memory: it runs for every
// publish and for every delivery, on the broker thread.
#include <cstddef>
#include <functional>
#include <string_view>

#include "common/message.h"

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

// The largest payload an ordinary user may publish on `topic`, by kind: messages, typing,
// requests to the bridge, anything else. Checked in the ACL write check, before the broker
// queues anything.
size_t max_publish_bytes(std::string_view topic, const MessageLimits& limits);

// Why is_allowed refused `who` writing `topic`, for the report on users/<me>/errors:
// code `bad_room` (a_a, reversed order, not a room), `unknown_user`, `not_participant`,
// `read_only` (events), `bad_topic` (unknown channel or level), `forbidden` (anything else).
ValidationError explain_write_refusal(const Principal& who, std::string_view topic, const UserExists& user_exists);

}  // namespace mqchat
