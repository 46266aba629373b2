#pragma once
// One PUBLISH's chat topic, parsed by its WRITE check and taken by its MESSAGE event. Mosquitto
// 2.0.11 (src/handle_publish.c) runs the two back to back on the broker thread, with the same client
// and the same topic pointer and no other plugin event between them, so the topic need not be
// parsed twice. Anything else in between forgets it (every ACL check starts with forget(), every
// MESSAGE event takes it once), and another client or topic pointer never matches: a miss only
// costs the parse it would have saved. (Not covered: another plugin whose MESSAGE callback runs
// before ours and frees the topic and allocates a new one at the same address; 2.0.11 itself never
// frees a replaced topic there, and a plugin that does is wrong on 2.0.15.)
#include <optional>

#include "common/room.h"

namespace mqchat {

class TopicHandoff {
 public:
  // A WRITE check let `client` publish on `topic`, parsed as `parsed` (views into `topic`).
  void keep(const void* client, const char* topic, const ChatTopic& parsed) {
    client_ = client;
    topic_ = topic;
    parsed_ = parsed;
  }
  void forget() { topic_ = nullptr; }

  // The parse kept for this client's `topic` (the same pointer), or nullopt; forgotten either way.
  std::optional<ChatTopic> take(const void* client, const char* topic) {
    const bool kept = topic_ != nullptr && topic_ == topic && client_ == client;
    topic_ = nullptr;
    if (!kept) return std::nullopt;
    return parsed_;
  }

 private:
  const void* client_ = nullptr;
  const char* topic_ = nullptr;  // null: nothing kept
  ChatTopic parsed_{};
};

}  // namespace mqchat
