#include "plugin/access_policy.h"

#include "common/room.h"

namespace mqchat {

namespace {

bool room_is_real(const Room& room, const UserExists& user_exists) {
  return user_exists(room.first) && user_exists(room.second);
}

bool group_member(const GroupMembership* groups, std::string_view room, std::string_view user) {
  return groups && groups->is_member(room, user);
}

// A delivery of chat/<a>_<b>/<channel> to `who`. Every message on a chat topic passed the WRITE
// check when it was published (or came from a service account), so the names need no second
// validation here: only whether `who` is one of the two and the channel is one that is read.
// A group room has no '_': `who` must be a member now (a removed member's old subscriptions
// deliver nothing more).
bool chat_read_allowed(const Principal& who, std::string_view topic, const GroupMembership* groups) {
  topic.remove_prefix(5);  // "chat/"
  const auto slash = topic.find('/');
  if (slash == std::string_view::npos) return false;
  const auto channel = topic.substr(slash + 1);
  if (!swar::equal(channel, "messages") && !swar::equal(channel, "typing") && !swar::equal(channel, "events"))
    return false;
  const auto room = topic.substr(0, slash);
  const auto sep = room.find('_');
  if (sep == std::string_view::npos) return is_group_room(room) && group_member(groups, room, who.username);
  if (sep == 0 || sep + 1 == room.size() ||
      room.find('_', sep + 1) != std::string_view::npos)
    return false;  // not <a>_<b>: never published, but cheap to be sure
  return swar::equal(room.substr(0, sep), who.username) || swar::equal(room.substr(sep + 1), who.username);
}

// chat/<room>/<leaf> for an ordinary user. Subscriptions may end in '+' or '#' inside one room.
bool chat_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists,
                  const GroupMembership* groups, std::optional<ChatTopic>* parsed) {
  if (access == kAccessRead) return chat_read_allowed(who, topic, groups);
  if (auto t = parse_chat_topic(topic)) {
    if (parsed) *parsed = t;
    if (t->group) {
      if (!group_member(groups, t->room_name, who.username)) return false;
      if (access == kAccessSubscribe)
        return t->channel == ChatChannel::Messages || t->channel == ChatChannel::Typing || t->channel == ChatChannel::Events;
      return access == kAccessWrite && t->channel != ChatChannel::Events;
    }
    if (!t->room.has(who.username)) return false;
    switch (access) {
      case kAccessSubscribe:
        return (t->channel == ChatChannel::Messages || t->channel == ChatChannel::Typing ||
                t->channel == ChatChannel::Events) &&
               room_is_real(t->room, user_exists);
      case kAccessWrite:
        return t->channel != ChatChannel::Events && room_is_real(t->room, user_exists);
      default:
        return false;
    }
  }
  if (access != kAccessSubscribe) return false;
  // "chat/<room>/#" or "chat/<room>/+": deliveries are still filtered per topic by READ.
  const auto last_slash = topic.rfind('/');
  if (last_slash == std::string_view::npos) return false;
  const auto leaf = topic.substr(last_slash + 1);
  if (leaf != "#" && leaf != "+") return false;
  const auto prefix = topic.substr(0, last_slash);
  if (prefix.substr(0, 5) != "chat/") return false;
  if (is_group_room(prefix.substr(5))) return group_member(groups, prefix.substr(5), who.username);
  const auto room = parse_room(prefix.substr(5));
  return room && room->has(who.username) && room_is_real(*room, user_exists);
}

bool users_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists) {
  const auto t = parse_user_topic(topic);
  if (!t) return false;
  // users/<me>/requests/<kind>: <me> asks, the bridge reads (never echoed back to users).
  if (const auto request = parse_user_request_topic(topic); request && request->user == who.username)
    return access == kAccessWrite;
  if (access != kAccessRead && access != kAccessSubscribe) return false;
  if (t->user == who.username) return true;  // everything else under users/<me>/, wildcards included
  return t->rest == "presence" && user_exists(t->user);
}

}  // namespace

bool is_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists,
                const GroupMembership* groups, std::optional<ChatTopic>* parsed) {
  if (who.service) return true;
  if (access == kAccessUnsubscribe) return true;
  if (topic.substr(0, 5) == "chat/") return chat_allowed(who, topic, access, user_exists, groups, parsed);
  if (topic.substr(0, 6) == "users/") return users_allowed(who, topic, access, user_exists);
  return false;  // $SYS, $share, '#', anything else
}

TopicScope topic_scope(std::string_view topic) {
  if (topic.substr(0, 7) == "$share/") {  // $share/<group>/<filter>
    const auto slash = topic.find('/', 7);
    topic = slash == std::string_view::npos ? std::string_view() : topic.substr(slash + 1);
  }
  const std::string_view first = topic.substr(0, topic.find('/'));
  if (first == "chat" || first == "users") return TopicScope::Ours;
  if (first == "+" || first == "#") return TopicScope::Wildcard;
  return TopicScope::Other;
}

Verdict coexist_verdict(const CoexistRequest& req, std::string_view username, std::string_view topic, int access,
                        const UserExists& user_exists, const GroupMembership* groups) {
  const TopicScope scope = topic_scope(topic);
  if (req.member == Member::Other) {
    if (scope != TopicScope::Ours) return req.others_decide_access ? Verdict::Defer : Verdict::Allow;
    return access == kAccessUnsubscribe ? Verdict::Allow : Verdict::Deny;
  }
  const bool service = req.member == Member::Service;
  if (!service && !req.authenticated_here && scope != TopicScope::Other &&
      (access == kAccessSubscribe || access == kAccessWrite))
    return Verdict::Deny;
  if (scope == TopicScope::Ours)
    return is_allowed(Principal{username, service}, topic, access, user_exists, groups) ? Verdict::Allow : Verdict::Deny;
  if (req.others_decide_access) return Verdict::Defer;
  return access == kAccessUnsubscribe ? Verdict::Allow : Verdict::Deny;
}

size_t max_publish_bytes(std::string_view topic, const MessageLimits& limits) {
  if (const auto t = parse_chat_topic(topic)) {
    if (t->channel == ChatChannel::Messages) return limits.max_payload_bytes;
    if (t->channel == ChatChannel::Typing) return limits.max_typing_bytes;
    if (is_request_channel(t->channel)) return limits.max_request_bytes;
  }
  if (parse_user_request_topic(topic)) return limits.max_request_bytes;
  return limits.max_other_bytes;
}

ValidationError explain_write_refusal(const Principal& who, std::string_view topic, const UserExists& user_exists,
                                      const GroupMembership* groups) {
  const std::string me(who.username);
  if (topic.substr(0, 5) == "chat/") {
    const auto rest = topic.substr(5);
    const auto slash = rest.find('/');
    const auto room_name = rest.substr(0, slash);
    if (is_group_room(room_name)) {
      if (!group_member(groups, room_name, who.username))
        return {"not_member", "you are not a member of the group " + std::string(room_name), {}};
    } else {
      const auto room = parse_room(room_name);
      if (!room) {
        const auto us = room_name.find('_');
        if (us != std::string_view::npos && us == room_name.rfind('_')) {
          const auto a = room_name.substr(0, us), b = room_name.substr(us + 1);
          if (a == b) return {"bad_room", "a room needs two different users", {}};
          if (is_valid_username(a) && is_valid_username(b))
            return {"bad_room", "a room is the two names in byte order: " + std::string(b) + "_" + std::string(a), {}};
        }
        return {"bad_room", "not a room: chat/<a>_<b>/… with the two usernames in byte order", {}};
      }
      if (!room->has(who.username))
        return {"not_participant", "you are not a participant of " + std::string(room_name), {}};
      if (!user_exists(room->other(who.username)))
        return {"unknown_user", "there is no user " + std::string(room->other(who.username)), {}};
    }
    // A room of theirs (pair or group): the channel is the problem.
    const auto t = parse_chat_topic(topic);
    if (t && t->channel == ChatChannel::Events) return {"read_only", "chat/<room>/events is written by the server", {}};
    return {"bad_topic",
            "you may publish to chat/<room>/messages, typing, history, read, edit, delete, react, archive or mute", {}};
  }
  if (topic.substr(0, 6) == "users/")
    return {"read_only", "users/… topics are written by the server (except users/<me>/requests/search|archived)", {}};
  return {"forbidden", "you may publish only to chat/<room>/… topics of your rooms", {}};
}

}  // namespace mqchat
