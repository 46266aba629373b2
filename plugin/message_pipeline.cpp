#include "plugin/message_pipeline.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <openssl/evp.h>

#include "common/clock.h"
#include "common/hex.h"
#include "common/json_text.h"
#include "common/room.h"
#include "plugin/ingest_row.h"
#include "plugin/metrics.h"

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
  return to_hex(digest, 16);
}
}  // namespace

PublishDecision MessagePipeline::on_publish(const Principal& who, std::string_view topic, std::string_view payload,
                                            const PublishOrigin& origin) {
  PublishDecision d;
  decide(who, topic, payload, origin, d);
  return d;
}

void MessagePipeline::decide(const Principal& who, std::string_view topic, std::string_view payload,
                             const PublishOrigin& origin, PublishDecision& d) {
  decide(who, topic, who.service ? std::nullopt : parse_chat_topic(topic), payload, origin, d);
}

void MessagePipeline::decide(const Principal& who, std::string_view topic, const std::optional<ChatTopic>& t,
                             std::string_view payload, const PublishOrigin& origin, PublishDecision& d) {
  d.action = PublishDecision::Action::Pass;
  d.payload.clear();
  d.client_id.clear();
  if (who.service) {  // e.g. the bridge fanning out rows that are already stored
    remember_routed(topic, payload, origin.received_or_now_us() / 1000000);
    return;
  }
  if (!t) {
    // users/<me>/requests/…: only <me> may publish there (ACL); stamped like a room's requests.
    if (const auto r = parse_user_request_topic(topic); r && r->user == who.username)
      on_request(who.username, payload, d);
    return;  // otherwise the ACL let it through: not a chat topic we rewrite
  }
  if (!t->group && !t->room.has(who.username)) {  // a group's members: checked by the ACL (write) already
    d.action = PublishDecision::Action::Refuse;
    d.error = {"not_participant", "you are not a participant of " + std::string(t->room_name), {}};
    return;
  }
  if (t->channel == ChatChannel::Messages) return on_chat_message(who.username, t->room_name, topic, payload, origin, d);
  if (is_request_channel(t->channel)) return on_request(who.username, payload, d);
  // typing: ephemeral, passed on as it is
}

bool MessagePipeline::spool(PublishDecision& d) {
  if (spool_.append(d.payload)) return true;
  d.action = PublishDecision::Action::Fail;
  d.error = {"unavailable", "the message could not be stored; retry later", {}};
  return false;
}

void MessagePipeline::remember_routed(std::string_view topic, std::string_view payload, int64_t now_s) {
  const auto t = parse_chat_topic(topic);
  if (!t || t->channel != ChatChannel::Messages) return;
  // Only what the shipper can store (the stored form: a retry here spools it as it is).
  const auto key = stored_message_key(payload);
  if (key && !key->client_id.empty() && key->room == t->room_name)
    routed_.remember(key->sender, t->room_name, key->client_id, payload, now_s);
}

void MessagePipeline::on_chat_message(std::string_view sender, std::string_view room, std::string_view topic,
                                      std::string_view payload, const PublishOrigin& origin, PublishDecision& d) {
  const int64_t now_us = origin.received_or_now_us();
  const bool tracked = origin.qos == 2 && origin.header && !origin.mqtt_client_id.empty();
  std::string packet_id, print;
  if (tracked) {
    packet_id = std::to_string(origin.header->packet_id);
    print = fingerprint(topic, payload);
    if (origin.header->dup) {
      if (const auto earlier =
              retransmissions_.find(origin.mqtt_client_id, packet_id, print, now_us / 1000000)) {
        d.action = PublishDecision::Action::Duplicate;
        d.payload.assign(*earlier);
        return;
      }
    }
  }
  // The message is parsed into and stored from members reused for every message: no allocation
  // here once warm, apart from the payload handed on.
  DraftMessage& draft = draft_;
  if (auto refused = parse_message_payload(payload, limits_, draft)) {
    d.action = PublishDecision::Action::Refuse;
    d.client_id = refused->client_id;
    d.error = std::move(*refused);
    return;
  }
  const std::string& client_id = draft.client_id;
  assign_text(d.client_id, client_id);

  DedupCache::Key dedup_key;  // composed and hashed once for the lookup and the remember
  if (!client_id.empty()) {
    dedup_key = dedup_.key(sender, room, client_id);
    if (const auto earlier = dedup_.find(dedup_key, now_us / 1000000)) {
      d.action = PublishDecision::Action::Duplicate;
      d.payload.assign(*earlier);
      return;
    }
    if (routed_.size() > 0) {
      if (const auto routed = routed_.find(sender, room, client_id, now_us / 1000000)) {
        d.payload.assign(*routed);
        if (!spool(d)) return;
        dedup_.remember_missing(dedup_key, d.payload, now_us / 1000000);  // found missing above; later retries: local
        d.action = PublishDecision::Action::Duplicate;
        return;
      }
    }
  }

  format_uuid(ids_.next(static_cast<uint64_t>(now_us / 1000)), id_);
  timestamps_.format(now_us, created_at_);
  append_json(d.payload, StoredMessageRef{{id_, kUuidTextSize}, conversation_id_of(room), room, sender, draft,
                                          {created_at_, kRfc3339Size}});

  if (!spool(d)) return;
  plugin_metrics.accepted.inc();
  // A reply is published by the bridge once stored, with a quote of its target (which needs the
  // database): here it is delivered to nobody, like a retry (retries of it then look the same).
  if (!draft.reply_to.empty()) d.payload.clear();
  if (!client_id.empty()) dedup_.remember_missing(dedup_key, d.payload, now_us / 1000000);  // find() missed above
  if (tracked) retransmissions_.remember(origin.mqtt_client_id, packet_id, print, d.payload, now_us / 1000000, true);
  d.action = PublishDecision::Action::Replace;
}

const std::string& MessagePipeline::conversation_id_of(std::string_view room) {
  constexpr size_t kMaxRemembered = 100000;  // rooms are cheap to recompute; memory is bounded
  if (const auto found = conversation_ids_.find(room); found != conversation_ids_.end()) return found->second;
  if (conversation_ids_.size() >= kMaxRemembered) {
    conversation_ids_.clear();
    room_names_.clear();
  }
  const std::string& key = room_names_.emplace_back(room);
  return conversation_ids_.emplace(key, to_string(conversation_id(room))).first->second;
}

void MessagePipeline::on_request(std::string_view requester, std::string_view payload, PublishDecision& d) {
  auto parsed = parse_json_object(payload, limits_);
  if (!parsed) {
    d.action = PublishDecision::Action::Refuse;
    d.error = std::move(parsed.error);
    return;
  }
  auto& request = *parsed.value;
  if (const auto id = request.find("request_id"); id != request.end() && id->is_string()) d.client_id = *id;
  request["requester"] = std::string(requester);  // whatever the client claimed, this is who asked
  d.action = PublishDecision::Action::Replace;
  d.payload = request.dump();
}

}  // namespace mqchat
