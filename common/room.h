#pragma once
// Usernames, room names and the topic tree: the single source of truth for how
// `chat/<a>_<b>/...` and `users/<u>/...` are spelled and parsed.
#include <optional>
#include <string>
#include <string_view>

#include "common/swar.h"

namespace mqchat {

// 1-32 chars of [a-z0-9.-], first alphanumeric. No '_' so a room splits at its only '_'.
bool is_valid_username(std::string_view name);

struct Room {
  std::string_view first;   // byte-wise smaller username
  std::string_view second;  // byte-wise larger username
  bool has(std::string_view user) const { return swar::equal(user, first) || swar::equal(user, second); }
  std::string_view other(std::string_view user) const { return swar::equal(user, first) ? second : first; }
};

// Parses "<a>_<b>": both valid usernames, a < b byte-wise (so a != b). Views into `name`.
std::optional<Room> parse_room(std::string_view name);

// The canonical room of two distinct valid usernames, in either order; nullopt otherwise.
std::optional<std::string> make_room(std::string_view u1, std::string_view u2);

enum class ChatChannel { Messages, Typing, History, Read, Edit, Delete, Events, React, Archive, Mute };

// A group conversation's room: "g:" and 16 lowercase hex digits. ':' is no username character
// and there is no '_', so it never parses as a pair (and a pair never as a group).
constexpr size_t kGroupRoomChars = 18;
bool is_group_room(std::string_view name);

struct ChatTopic {
  std::string_view room_name;
  Room room;  // empty for a group room: membership is the group directory's (plugin/group_directory.h)
  ChatChannel channel;
  bool group = false;
};

// "chat/<room>/<channel>" with a canonical pair room or a group room and a known channel; nullopt otherwise
// (wildcards, extra levels, unknown channel all fail).
std::optional<ChatTopic> parse_chat_topic(std::string_view topic);

bool is_request_channel(ChatChannel c);
std::string_view channel_name(ChatChannel c);

struct UserTopic {
  std::string_view user;  // the <u> of users/<u>/...
  std::string_view rest;  // what follows "users/<u>/" (may contain wildcards)
};

// "users/<u>/<rest>" with a valid username and non-empty rest; nullopt otherwise.
std::optional<UserTopic> parse_user_topic(std::string_view topic);

// Requests about a user rather than a room, published by that user on users/<me>/requests/<kind>
// (search across conversations, the archived list, group operations), read by service accounts only.
enum class UserRequest { Search, Archived, Group };

struct UserRequestTopic {
  std::string_view user;
  UserRequest kind;
};

// "users/<u>/requests/<kind>" with a valid username and a known kind; nullopt otherwise.
std::optional<UserRequestTopic> parse_user_request_topic(std::string_view topic);
std::string_view user_request_name(UserRequest r);

// A topic only `user` can read, where a reply to `user`'s request may go (an MQTT 5 response
// topic): users/<user>/<rest> without wildcards or empty levels, and not a topic others can read
// (presence) or retained state (conversations) that a reply would overwrite, nor a request topic.
bool is_private_reply_topic(std::string_view topic, std::string_view user);

std::string chat_topic(std::string_view room, ChatChannel channel);
std::string user_topic(std::string_view user, std::string_view leaf);

}  // namespace mqchat
