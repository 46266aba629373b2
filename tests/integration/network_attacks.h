#pragma once
// Raw-socket tools for the network and resource attacks: MQTT packets built by hand (so they can
// be malformed, oversized or trickled), connections from chosen loopback source addresses (the
// test stack exempts only 127.0.0.1 from HAProxy's per-source limits), and what a process holds
// (resident memory and file descriptors, read from /proc).
#include <sys/types.h>

#include <chrono>
#include <string>

namespace mqchat::test::net {

// Ports and processes of the running test stack (environment and pid files of `./mqchat test`).
int public_mqtt_port();
int public_ws_port();
int broker_mqtt_port();
int broker_ws_port();
pid_t broker_pid();
pid_t proxy_pid();

long rss_kib(pid_t pid);  // VmRSS from /proc/<pid>/status
int fd_count(pid_t pid);  // entries of /proc/<pid>/fd

// MQTT's variable-byte remaining length.
std::string varint(size_t n);
// A complete CONNECT (level 4 = 3.1.1, 5 = MQTT 5) with username and password, clean start.
std::string connect_packet(const std::string& user, const std::string& password, const std::string& client_id,
                           int level = 4);

// A TCP connection from `source` (e.g. "127.0.0.2") to 127.0.0.1:port; -1 on failure.
// Non-blocking when asked (then the connect may still be in progress).
int tcp_connect(const std::string& source, int port, bool nonblocking = false);
bool send_all(int fd, const std::string& data);
// Reads exactly n bytes within the timeout; "" when the peer closed or nothing came in time.
std::string read_exact(int fd, size_t n, std::chrono::milliseconds timeout);
// True when the peer has closed (EOF or reset) within the timeout. Discards anything it sends.
bool wait_closed(int fd, std::chrono::milliseconds timeout);
// The CONNACK return/reason code after sending `packet`, or -1 when the connection was closed
// (or stayed silent) instead.
int connack_after(int fd, const std::string& packet, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// One HTTP/1.1 GET to 127.0.0.1:port; returns the status code (0 when the connection closed first).
int http_get_status(int port, const std::string& path, std::string* body = nullptr);

// Lifts this process's file descriptor limit to at least n if it can; returns the limit in force.
long raise_fd_limit(long n);

// The long settings of `./mqchat attack` (MQCHAT_ATTACK_LONG=1) or the short ones of `./mqchat test`.
bool long_run();

// Seconds of HAProxy's connect timeout (MQCHAT_CONNECT_TIMEOUT as the stack was started, default 5).
double connect_timeout_s();

}  // namespace mqchat::test::net
