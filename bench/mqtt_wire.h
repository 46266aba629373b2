#pragma once
// A minimal buffered MQTT 3.1.1 client and an epoll loop for the load generator.
//
// On 2 cores the load generator shares a core with Postgres, the plugin's threads and the bridge,
// so every microsecond it spends is taken from the system it measures. libmosquitto reads a packet
// in three or four read(2) calls and writes a wake-up byte to an unread socket pair per queued
// packet (EAGAIN once it fills): ~10 system calls per message. Here each readable socket is read
// in one call and every packet in it is parsed; what the callbacks queue goes out in one write per
// client and loop turn. Only what the benchmark needs: CONNECT, SUBSCRIBE, PUBLISH at QoS 0/1,
// PUBACK, keepalive.
#include <sys/epoll.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

struct WireCallbacks {
  void (*on_connack)(void* obj, int rc) = nullptr;
  void (*on_suback)(void* obj, int granted_qos) = nullptr;  // 0x80: refused
  void (*on_puback)(void* obj, uint16_t packet_id) = nullptr;
  void (*on_message)(void* obj, std::string_view payload) = nullptr;
};

class WireClient {
 public:
  WireClient(void* obj, WireCallbacks callbacks) : obj_(obj), cb_(callbacks) {}
  ~WireClient();
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;

  // Blocking TCP connect, then CONNECT is queued (clean session). Empty password: none sent.
  // Returns "" or what failed.
  std::string connect(const std::string& host, int port, const std::string& client_id, const std::string& username,
                      const std::string& password, uint16_t keepalive_s);

  void subscribe(const std::string& topic, int qos);
  // Queues a PUBLISH; returns its packet id (0 at QoS 0).
  uint16_t publish(const std::string& topic, std::string_view payload, int qos);

  int fd() const { return fd_; }
  bool wants_write() const { return out_sent_ < out_.size(); }

  // Reads what the socket holds and runs the callbacks; "" or why the connection is lost.
  std::string on_readable();
  // Writes what is queued; `drained` false when the socket is full (wait for EPOLLOUT). "" or an error.
  std::string flush(bool& drained);
  void ping() { out_.append("\xC0\x00", 2); }

  bool watching_out = false;  // WireLoop's: registered for EPOLLOUT while a write is pending

 private:
  uint16_t next_packet_id();
  void put_u16(uint16_t v);
  void put_string(std::string_view s);
  void put_remaining_length(size_t n);
  std::string parse();  // every complete packet in in_

  void* obj_;
  WireCallbacks cb_;
  int fd_ = -1;
  uint16_t next_id_ = 0;
  std::string out_;
  size_t out_sent_ = 0;
  std::vector<char> in_;
  size_t in_begin_ = 0, in_end_ = 0;
};

// Drives many WireClients on one thread.
class WireLoop {
 public:
  WireLoop();
  ~WireLoop();
  void add(WireClient* c);

  // Writes whatever the clients queued, waits up to timeout_us for input, reads it (callbacks
  // may queue more, written before returning). A PINGREQ per client every 30 s.
  // "" or why a connection failed.
  std::string run_once(int64_t timeout_us);

 private:
  std::string flush_all();

  int epfd_ = -1;
  std::vector<WireClient*> clients_;
  std::vector<epoll_event> events_;
  int64_t next_ping_us_ = 0;
};

}  // namespace bench
