#pragma once
// One synchronous hiredis connection to the current Redis primary of the backplane. The primary
// is asked of Sentinel on every (re)connect (SENTINEL get-master-addr-by-name), and checked with
// ROLE, so after a failover the next command goes to the promoted replica. Used by one thread.
#include <hiredis/hiredis.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mqchat::bridge {

struct HostPort {
  std::string host;
  int port = 0;
};
// "host:port,host:port" → list; throws std::invalid_argument on a malformed item.
std::vector<HostPort> parse_host_ports(const std::string& list);

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisLink {
 public:
  // Either sentinels (+ master name) or one fixed server (sentinels empty).
  RedisLink(std::vector<HostPort> sentinels, std::string master_name, HostPort fixed, int timeout_ms);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Connects if needed; false (and logs, at most once per outage) when no primary is reachable.
  bool ensure();
  bool connected() const { return ctx_ != nullptr; }
  void drop();  // after an error: the next ensure() asks Sentinel again

  // One command; nullptr on a connection error (then dropped). Error replies are returned as is.
  Reply command(const std::vector<std::string>& argv);
  // Pipelined: all commands sent, then all replies read. Empty on a connection error (dropped).
  std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);
  const std::string& where() const { return where_; }

 private:
  std::optional<HostPort> ask_sentinels();
  bool connect_to(const HostPort& hp);

  std::vector<HostPort> sentinels_;
  std::string master_name_;
  HostPort fixed_;
  int timeout_ms_;
  redisContext* ctx_ = nullptr;
  std::string where_;
  bool said_down_ = false;
};

}  // namespace mqchat::bridge
