#pragma once
// Who may publish, subscribe to or receive which topic. Pure and in-memory: it runs for every
// publish and for every delivery, on the broker thread.
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>

#include "common/message.h"
#include "common/room.h"
#include "plugin/user_table.h"

namespace mqchat {

// Values of MOSQ_ACL_READ / WRITE / SUBSCRIBE / UNSUBSCRIBE.
enum Access : int { kAccessRead = 1, kAccessWrite = 2, kAccessSubscribe = 4, kAccessUnsubscribe = 8 };

struct Principal {
  std::string_view username;
  bool service = false;
};

// Whether a username is a profile: the user table itself on the broker thread (a direct lookup,
// which every WRITE check makes twice), or any predicate (tests, tools).
class UserExists {
 public:
  UserExists(const UserTable& users) : users_(&users) {}  // NOLINT: implicit, as a predicate would be
  template <typename F, typename = std::enable_if_t<std::is_invocable_r_v<bool, const F&, std::string_view>>>
  UserExists(F predicate) : predicate_(std::move(predicate)) {}  // NOLINT
  bool operator()(std::string_view name) const { return users_ ? users_->contains(name) : predicate_(name); }

 private:
  const UserTable* users_ = nullptr;
  std::function<bool(std::string_view)> predicate_;
};

// Who is in which group room (plugin/group_directory.h keeps it in memory). Without one, every
// group room is refused. Asked on the broker thread only (GroupDirectory reads its lock-free view).
class GroupMembership {
 public:
  virtual ~GroupMembership() = default;
  virtual bool is_member(std::string_view room, std::string_view user) const = 0;
};

// Deny by default; see the topic table in docs/DESIGN.md. A group room (chat/g:<id>/…) is a pair
// room's channels for the group's members only. `parsed`, when given, receives the check's parse of
// a chat/<room>/<channel> topic it was asked to WRITE or SUBSCRIBE, so the publish's MESSAGE event
// need not parse it again (plugin/topic_handoff.h).
bool is_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists,
                const GroupMembership* groups = nullptr, std::optional<ChatTopic>* parsed = nullptr);

// The largest payload an ordinary user may publish on `topic`, by kind: messages, typing,
// requests to the bridge, anything else. Checked in the ACL write check, before the broker
// queues anything.
size_t max_publish_bytes(std::string_view topic, const MessageLimits& limits);

// Why is_allowed refused `who` writing `topic`, for the report on users/<me>/errors:
// code `bad_room` (a_a, reversed order, not a room), `unknown_user`, `not_participant`,
// `read_only` (events), `bad_topic` (unknown channel or level), `forbidden` (anything else).
// `not_member` for a group room the user is not in.
ValidationError explain_write_refusal(const Principal& who, std::string_view topic, const UserExists& user_exists,
                                      const GroupMembership* groups = nullptr);

// Coexist mode (docs/DESIGN.md "Modes"): the plugin answers for its own users and namespaces and
// defers the rest to the broker's other security.

// Where a topic or subscription filter falls. Ours: its first level, after "$share/<group>/", is
// chat or users (mqchat's namespaces). Wildcard: a filter whose first level is '+' or '#', which
// may match ours and others'. Other: anything else.
enum class TopicScope { Ours, Wildcard, Other };
TopicScope topic_scope(std::string_view topic);

enum class Verdict { Allow, Deny, Defer };

// Who the client is to mqchat: a service account, a profile (an mqchat user), or someone else
// (a device from the password file, a dynamic-security client, an anonymous client).
enum class Member { Other, User, Service };

struct CoexistRequest {
  Member member = Member::Other;
  // For Member::User: the plugin authenticated this connection and it is not going away.
  // Another mechanism may name a client after a profile (a certificate's CN): such a
  // connection may neither subscribe nor publish where chat can be reached.
  bool authenticated_here = true;
  bool others_decide_access = true;  // another ACL mechanism exists (else: decided here)
};

// The verdict for `topic` and `access`. Outside mqchat's namespaces: Defer when another ACL
// mechanism exists, whoever asks; without one, others are allowed (as on the bare broker) and
// mqchat users denied. Inside: mqchat users by is_allowed, everyone else denied, never deferred.
Verdict coexist_verdict(const CoexistRequest& req, std::string_view username, std::string_view topic, int access,
                        const UserExists& user_exists, const GroupMembership* groups = nullptr);

}  // namespace mqchat
