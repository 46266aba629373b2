#pragma once
// A minimal MQTT 3.1.1 client connection for the load generator: packets are framed into a buffer
// and written together, input is read in large chunks and split into packets.
//
// Why not libmosquitto: it reads each packet with several recv() calls, writes each one with its
// own send(), and wakes its loop thread through a socket pair for every publish made from another
// thread. At tens of thousands of messages a second that cost more CPU than the broker itself, on
// the core the benchmark gives Postgres, the bridge and the load generator: the benchmark measured
// its own client. Only what the load generator needs is here: CONNECT, SUBSCRIBE, PUBLISH at QoS 0
// and 1, PUBACK, PINGREQ, DISCONNECT.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

// Packet types (the fixed header's high nibble).
enum : uint8_t { kConnack = 2, kPublish = 3, kPuback = 4, kSuback = 9, kPingresp = 13 };

struct Packet {
  uint8_t type = 0;
  uint8_t flags = 0;  // the fixed header's low nibble
  std::string_view body;
};

struct Publish {
  std::string_view topic;
  int qos = 0;
  uint16_t id = 0;  // 0 at QoS 0
  std::string_view payload;
};

// Framing: each appends one whole packet to `out`.
void put_connect(std::string& out, std::string_view client_id, std::string_view username, std::string_view password,
                 uint16_t keepalive_s);
void put_subscribe(std::string& out, uint16_t id, std::string_view topic, int qos);
void put_publish(std::string& out, std::string_view topic, std::string_view payload, int qos, uint16_t id);
void put_puback(std::string& out, uint16_t id);
void put_pingreq(std::string& out);
void put_disconnect(std::string& out);

// Splits the first whole packet off `in`: the bytes it took, 0 when more are needed, -1 when the
// bytes cannot be MQTT (a remaining length longer than four bytes).
long take_packet(std::string_view in, Packet& p);
// A PUBLISH's fields; false when the body is too short for them.
bool parse_publish(const Packet& p, Publish& out);
// The first byte of a CONNACK's return code, or of a SUBACK's first granted QoS; -1 if missing.
int connack_code(const Packet& p);
int suback_first_granted(const Packet& p);

// One TCP connection, non-blocking after connect.
class Connection {
 public:
  // Connects to host:port (blocking, with TCP_NODELAY). Throws std::runtime_error.
  Connection(const std::string& host, int port);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  std::string& out() { return out_; }  // frame packets here; flush() sends them
  bool has_output() const { return out_.size() > out_sent_; }
  // Writes what the socket takes now; false when the connection is broken.
  bool flush();
  // Reads everything the socket holds now; false on end of stream or error.
  bool read_available();
  // The next whole packet read so far (valid until the next read_available()); false when there
  // is none. `malformed()` tells a stream that cannot be MQTT from one that needs more bytes.
  bool next(Packet& p);
  bool malformed() const { return malformed_; }

 private:
  int fd_ = -1;
  std::string out_;
  size_t out_sent_ = 0;
  static constexpr size_t kReadChunk = 65536;
  std::vector<char> in_;
  size_t in_len_ = 0;    // bytes read
  size_t in_taken_ = 0;  // of which split off as packets
  bool malformed_ = false;
};

}  // namespace bench
