#pragma once
// What happens to a PUBLISH from an ordinary user, decided on the broker thread before the
// broker acknowledges it: chat messages are validated, given an id, a sender and a time, written
// to the spool and delivered in their stored form; requests to the bridge are stamped with the
// requester's name; everything else passes as it is.
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/message.h"
#include "common/room.h"
#include "common/uuid.h"
#include "plugin/access_policy.h"
#include "plugin/broker_packet.h"
#include "plugin/dedup_cache.h"
#include "plugin/spool.h"

namespace mqchat {

struct PublishDecision {
  enum class Action {
    Pass,       // deliver unchanged
    Replace,    // deliver `payload` instead
    Duplicate,  // a retry of an accepted message: `payload` is what the original became
    Refuse,     // invalid: not delivered, not stored; report `error`
    Fail,       // could not be made durable: the publisher must retry later
  };
  Action action = Action::Pass;
  std::string payload;
  ValidationError error;
  std::string client_id;  // the message's client_id / request_id, echoed in error reports
};

// Where a publish came from, for recognising QoS 2 retransmissions (see broker_packet.h).
struct PublishOrigin {
  std::string_view mqtt_client_id;
  int qos = 0;
  std::optional<PublishHeader> header;  // packet id and DUP, when they could be read
  int64_t received_us = 0;  // when the broker thread took it (now_unix_us()), if the caller read the clock
  int64_t received_or_now_us() const { return received_us ? received_us : now_unix_us(); }
};

class MessagePipeline {
 public:
  MessagePipeline(const MessageLimits& limits, SpoolWriter& spool, DedupCache& dedup)
      : limits_(limits), spool_(spool), dedup_(dedup) {}

  PublishDecision on_publish(const Principal& who, std::string_view topic, std::string_view payload,
                             const PublishOrigin& origin = {});
  // The same into `d`, whose strings keep their capacity from one message to the next (the
  // broker thread reuses one decision: no allocation for the stored form of each message).
  void decide(const Principal& who, std::string_view topic, std::string_view payload, const PublishOrigin& origin,
              PublishDecision& d);
  // The same with the topic already read: `chat` is parse_chat_topic(topic) (the broker thread has
  // it from the publish's WRITE check, plugin/topic_handoff.h).
  void decide(const Principal& who, std::string_view topic, const std::optional<ChatTopic>& chat,
              std::string_view payload, const PublishOrigin& origin, PublishDecision& d);

 private:
  void on_chat_message(std::string_view sender, std::string_view room, std::string_view topic,
                       std::string_view payload, const PublishOrigin& origin, PublishDecision& d);
  void on_request(std::string_view requester, std::string_view payload, PublishDecision& d);
  // A chat message published by a service (the bridge: another node's message routed here, or one
  // sent through the SQL API), remembered by (sender, room, client_id) in routed_.
  void remember_routed(std::string_view topic, std::string_view payload, int64_t now_s);
  // Appends d.payload to the spool; if it cannot, d becomes a Fail (not acknowledged: the client
  // retries) and this returns false.
  bool spool(PublishDecision& d);
  // The UUIDv5 of a room, remembered: SHA-1 per message was a tenth of the broker's work.
  const std::string& conversation_id_of(std::string_view room);

  MessageLimits limits_;
  SpoolWriter& spool_;
  DedupCache& dedup_;
  // QoS 2 messages by (MQTT client id, packet id, hash of topic + bytes): a DUP retransmission
  // is answered with what the original became (the broker then sees the same bytes and keeps
  // one copy); a new message reusing the packet id replaces the entry.
  DedupCache retransmissions_{600, 100000};
  // Chat messages this node delivered but did not accept (remember_routed). A sender whose PUBACK
  // was lost with another node retries here: the retry becomes that same message (same id),
  // spooled here too (acknowledged here, so durable here; the merge stores one row) and delivered
  // to nobody, since this node's subscribers already had it. Empty, and so never looked up, until a
  // service publishes a chat message with a client_id (routed from another node, or sent through
  // the SQL API with one: a retry of that over MQTT is then that message too).
  DedupCache routed_{600, 200000};
  Uuidv7Generator ids_;
  Rfc3339Formatter timestamps_;
  DraftMessage draft_;  // the message being accepted; its strings keep their capacity
  char id_[kUuidTextSize];
  char created_at_[kRfc3339Size];
  // Conversation ids by room name (keys view room_names_, whose elements never move).
  std::deque<std::string> room_names_;
  std::unordered_map<std::string_view, std::string> conversation_ids_;
};

}  // namespace mqchat
