#include "plugin/message_pipeline.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <openssl/evp.h>

#include "common/clock.h"
#include "common/room.h"

namespace mqchat {

namespace {
// 128 bits of SHA-256 over topic NUL payload, as hex: which bytes a packet id carried.
std::string fingerprint(std::string_view topic, std::string_view payload) {
  static thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx.get(), topic.data(), topic.size());
  EVP_DigestUpdate(ctx.get(), "", 1);
  EVP_DigestUpdate(ctx.get(), payload.data(), payload.size());
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* hex = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  return out;
}
}  // namespace

PublishDecision MessagePipeline::on_publish(const Principal& who, std::string_view topic, std::string_view payload,
                                            const PublishOrigin& origin) {
  if (who.service) return {};  // e.g. the bridge fanning out rows that are already stored
  const auto t = parse_chat_topic(topic);
  if (!t) {
    // users/<me>/requests/…: only <me> may publish there (ACL); stamped like a room's requests.
    if (const auto r = parse_user_request_topic(topic); r && r->user == who.username)
      return on_request(who.username, payload);
    return {};  // the ACL let it through: not a chat topic we rewrite
  }
  if (!t->room.has(who.username)) {
    PublishDecision d;
    d.action = PublishDecision::Action::Refuse;
    d.error = {"not_participant", "you are not a participant of " + std::string(t->room_name), {}};
    return d;
  }
  if (t->channel == ChatChannel::Messages) return on_chat_message(who.username, t->room_name, topic, payload, origin);
  if (is_request_channel(t->channel)) return on_request(who.username, payload);
  return {};  // typing: ephemeral, passed on as it is
}

PublishDecision MessagePipeline::on_chat_message(std::string_view sender, std::string_view room,
                                                 std::string_view topic, std::string_view payload,
                                                 const PublishOrigin& origin) {
  PublishDecision d;
  const bool tracked = origin.qos == 2 && origin.header && !origin.mqtt_client_id.empty();
  std::string packet_id, print;
  if (tracked) {
    packet_id = std::to_string(origin.header->packet_id);
    print = fingerprint(topic, payload);
    if (origin.header->dup) {
      if (const std::string* earlier =
              retransmissions_.find(origin.mqtt_client_id, packet_id, print, now_unix_us() / 1000000)) {
        d.action = PublishDecision::Action::Duplicate;
        d.payload = *earlier;
        return d;
      }
    }
  }
  auto parsed = parse_message_payload(payload, limits_);
  if (!parsed) {
    d.action = PublishDecision::Action::Refuse;
    d.client_id = parsed.error.client_id;
    d.error = std::move(parsed.error);
    return d;
  }
  DraftMessage& draft = *parsed.value;
  d.client_id = draft.client_id;
  const int64_t now_us = now_unix_us();

  if (!draft.client_id.empty()) {
    if (const std::string* earlier = dedup_.find(sender, room, draft.client_id, now_us / 1000000)) {
      d.action = PublishDecision::Action::Duplicate;
      d.payload = *earlier;
      return d;
    }
  }

  StoredMessage message;
  message.id = to_string(ids_.next(static_cast<uint64_t>(now_us / 1000)));
  message.conversation_id = conversation_id_of(room);
  message.room.assign(room);
  message.sender.assign(sender);
  message.draft = std::move(draft);
  message.created_at = rfc3339_utc(now_us);
  d.payload = to_json(message);

  if (!spool_.append(d.payload)) {
    d.action = PublishDecision::Action::Fail;
    d.error = {"unavailable", "the message could not be stored; retry later", {}};
    return d;
  }
  // A reply is published by the bridge once stored, with a quote of its target (which needs the
  // database): here it is delivered to nobody, like a retry (retries of it then look the same).
  if (!message.draft.reply_to.empty()) d.payload.clear();
  if (!message.draft.client_id.empty())
    dedup_.remember(sender, room, message.draft.client_id, d.payload, now_us / 1000000);
  if (tracked) retransmissions_.remember(origin.mqtt_client_id, packet_id, print, d.payload, now_us / 1000000, true);
  d.action = PublishDecision::Action::Replace;
  return d;
}

const std::string& MessagePipeline::conversation_id_of(std::string_view room) {
  constexpr size_t kMaxRemembered = 100000;  // rooms are cheap to recompute; memory is bounded
  std::string key(room);
  if (const auto found = conversation_ids_.find(key); found != conversation_ids_.end()) return found->second;
  if (conversation_ids_.size() >= kMaxRemembered) conversation_ids_.clear();
  return conversation_ids_.emplace(std::move(key), to_string(conversation_id(room))).first->second;
}

PublishDecision MessagePipeline::on_request(std::string_view requester, std::string_view payload) {
  PublishDecision d;
  auto parsed = parse_json_object(payload, limits_);
  if (!parsed) {
    d.action = PublishDecision::Action::Refuse;
    d.error = std::move(parsed.error);
    return d;
  }
  auto& request = *parsed.value;
  if (const auto id = request.find("request_id"); id != request.end() && id->is_string()) d.client_id = *id;
  request["requester"] = std::string(requester);  // whatever the client claimed, this is who asked
  d.action = PublishDecision::Action::Replace;
  d.payload = request.dump();
  return d;
}

}  // namespace mqchat
