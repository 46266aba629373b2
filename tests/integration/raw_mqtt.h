#pragma once
// MQTT 3.1.1 over a plain socket, packet by packet, for what a library will not do on request:
// resend a QoS 2 PUBLISH with the DUP flag and the same packet id, hold back a PUBREL.
#include <cstdint>
#include <optional>
#include <string>

namespace mqchat::test {

struct RawPacket {
  uint8_t header = 0;  // first byte: type << 4 | flags
  std::string body;
};

class RawMqtt {
 public:
  ~RawMqtt();
  // CONNACK return code (0 = accepted), or -1 when there was none.
  int connect(const std::string& user, const std::string& password, const std::string& client_id, bool clean);
  void publish(const std::string& topic, const std::string& payload, int qos, uint16_t packet_id, bool dup);
  void pubrel(uint16_t packet_id);
  // The next packet within `timeout_ms`, or nullopt.
  std::optional<RawPacket> read(int timeout_ms = 5000);
  // Reads until a packet of `type` (e.g. 5 = PUBREC) arrives; returns it.
  std::optional<RawPacket> expect(int type, int timeout_ms = 5000);
  void close();

 private:
  void send(uint8_t header, const std::string& body);
  int fd_ = -1;
};

}  // namespace mqchat::test
