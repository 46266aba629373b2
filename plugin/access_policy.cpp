#include "plugin/access_policy.h"

#include "common/room.h"

namespace mqchat {

namespace {

bool room_is_real(const Room& room, const UserExists& user_exists) {
  return user_exists(room.first) && user_exists(room.second);
}

// chat/<room>/<leaf> for an ordinary user. Subscriptions may end in '+' or '#' inside one room.
bool chat_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists) {
  if (auto t = parse_chat_topic(topic)) {
    if (!t->room.has(who.username)) return false;
    switch (access) {
      case kAccessRead:  // the room was vetted when the message was published
        return t->channel == ChatChannel::Messages || t->channel == ChatChannel::Typing ||
               t->channel == ChatChannel::Events;
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
  const auto room = parse_room(prefix.substr(5));
  return room && room->has(who.username) && room_is_real(*room, user_exists);
}

bool users_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists) {
  const auto t = parse_user_topic(topic);
  if (!t || (access != kAccessRead && access != kAccessSubscribe)) return false;
  if (t->user == who.username) return true;  // everything under users/<me>/, wildcards included
  return t->rest == "presence" && user_exists(t->user);
}

}  // namespace

bool is_allowed(const Principal& who, std::string_view topic, int access, const UserExists& user_exists) {
  if (who.service) return true;
  if (access == kAccessUnsubscribe) return true;
  if (topic.substr(0, 5) == "chat/") return chat_allowed(who, topic, access, user_exists);
  if (topic.substr(0, 6) == "users/") return users_allowed(who, topic, access, user_exists);
  return false;  // $SYS, $share, '#', anything else
}

}  // namespace mqchat
