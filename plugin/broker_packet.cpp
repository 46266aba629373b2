#include "plugin/broker_packet.h"

#include <cstddef>
#include <cstring>
#include <ctime>

namespace mqchat {

namespace {

// lib/mosquitto_internal.h (v2.0.11 … v2.0.20 alike): the fields from `address` to `in_packet`.
struct ClientTail {
  char* address;
  char* id;
  char* username;
  char* password;
  uint16_t keepalive;
  uint16_t last_mid;
  int state;
  time_t last_msg_in;
  time_t next_msg_out;
  time_t ping_t;
  struct {
    uint8_t* payload;
    void* next;
    uint32_t remaining_mult;
    uint32_t remaining_length;
    uint32_t packet_length;
    uint32_t to_process;
    uint32_t pos;
    uint16_t mid;
    uint8_t command;
    int8_t remaining_count;
  } in_packet;
};

// `address` comes after ident/sock/maximum_packet_size/adns/protocol depending on the build:
// somewhere in the first 64 bytes.
constexpr size_t kMaxHeadBytes = 64;

}  // namespace

std::optional<PublishHeader> peek_publish_header(const mosquitto* client, const char* address, const char* id,
                                                 const char* username, std::string_view topic, int qos) {
  if (!client || !address || !id || !username || qos == 0) return std::nullopt;
  const auto* base = reinterpret_cast<const unsigned char*>(client);
  for (size_t off = 0; off <= kMaxHeadBytes; off += alignof(char*)) {
    char* ptrs[3];
    std::memcpy(ptrs, base + off, sizeof ptrs);
    if (ptrs[0] != address || ptrs[1] != id || ptrs[2] != username) continue;
    ClientTail tail;
    std::memcpy(&tail, base + off, sizeof tail);
    const auto& p = tail.in_packet;
    if ((p.command & 0xF0) != 0x30 || ((p.command >> 1) & 3) != qos || !p.payload) return std::nullopt;
    // Variable header: u16 topic length, topic, u16 packet id.
    const size_t need = 2 + topic.size() + 2;
    if (p.remaining_length < need) return std::nullopt;
    const size_t topic_len = size_t(p.payload[0]) << 8 | p.payload[1];
    if (topic_len != topic.size() || std::memcmp(p.payload + 2, topic.data(), topic.size()) != 0) return std::nullopt;
    const uint16_t packet_id = uint16_t(p.payload[2 + topic_len] << 8 | p.payload[3 + topic_len]);
    if (packet_id == 0) return std::nullopt;
    return PublishHeader{packet_id, (p.command & 0x08) != 0};
  }
  return std::nullopt;
}

}  // namespace mqchat
