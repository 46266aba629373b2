#pragma once
// The packet id and DUP flag of the PUBLISH a MESSAGE callback is handling. Mosquitto 2.0's
// plugin API does not pass them, and without them a QoS 2 retransmission cannot be told from a
// new message with the same bytes. The broker is still inside handle__publish, so the raw packet
// is in the client's `in_packet` (lib/mosquitto_internal.h, struct mosquitto: ... address, id,
// username, password, keepalive, last_mid, state, last_msg_in, next_msg_out, ping_t, in_packet).
// The layout is located and CHECKED on every call, never assumed: the three pointers must be
// exactly what mosquitto_client_address/id/username return, the packet must be a PUBLISH whose
// own topic bytes equal the event's topic and whose QoS matches. Anything else (another broker
// build, a topic alias) answers nullopt and the caller treats the message as new.
#include <cstdint>
#include <optional>
#include <string_view>

struct mosquitto;

namespace mqchat {

struct PublishHeader {
  uint16_t packet_id;
  bool dup;
};

// The inputs are what the broker API reports for `client`; `topic`/`qos` those of the event.
std::optional<PublishHeader> peek_publish_header(const mosquitto* client, const char* address, const char* id,
                                                 const char* username, std::string_view topic, int qos);

}  // namespace mqchat
