#include "bridge/redis_link.h"

#include <stdexcept>

#include "bridge/log.h"

namespace mqchat::bridge {

namespace {
timeval to_timeval(int ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; }

Reply run_argv(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
}
}  // namespace

std::vector<HostPort> parse_host_ports(const std::string& list) {
  std::vector<HostPort> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, end - start);
    if (!item.empty()) {
      const size_t colon = item.rfind(':');
      if (colon == std::string::npos || colon == 0) throw std::invalid_argument("expected host:port, got " + item);
      const int port = std::stoi(item.substr(colon + 1));
      if (port < 1 || port > 65535) throw std::invalid_argument("bad port in " + item);
      out.push_back({item.substr(0, colon), port});
    }
    start = end + 1;
  }
  return out;
}

RedisLink::RedisLink(std::vector<HostPort> sentinels, std::string master_name, HostPort fixed, int timeout_ms)
    : sentinels_(std::move(sentinels)), master_name_(std::move(master_name)), fixed_(std::move(fixed)),
      timeout_ms_(timeout_ms) {}

RedisLink::~RedisLink() { drop(); }

void RedisLink::drop() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

std::optional<HostPort> RedisLink::ask_sentinels() {
  for (const auto& s : sentinels_) {
    redisContext* c = redisConnectWithTimeout(s.host.c_str(), s.port, to_timeval(500));
    if (!c || c->err) {
      if (c) redisFree(c);
      continue;
    }
    redisSetTimeout(c, to_timeval(1000));
    Reply r = run_argv(c, {"SENTINEL", "get-master-addr-by-name", master_name_});
    redisFree(c);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING)
      return HostPort{std::string(r->element[0]->str, r->element[0]->len), std::stoi(r->element[1]->str)};
  }
  return std::nullopt;
}

bool RedisLink::connect_to(const HostPort& hp) {
  redisContext* c = redisConnectWithTimeout(hp.host.c_str(), hp.port, to_timeval(500));
  if (!c || c->err) {
    if (c) redisFree(c);
    return false;
  }
  redisSetTimeout(c, to_timeval(timeout_ms_));
  // A Sentinel answer can be stale (the old primary back before it is turned into a replica):
  // only a server that says it is the master gets our writes.
  if (!sentinels_.empty()) {
    Reply role = run_argv(c, {"ROLE"});
    const bool master = role && role->type == REDIS_REPLY_ARRAY && role->elements > 0 &&
                        role->element[0]->type == REDIS_REPLY_STRING && std::string(role->element[0]->str) == "master";
    if (!master) {
      redisFree(c);
      return false;
    }
  }
  ctx_ = c;
  where_ = hp.host + ":" + std::to_string(hp.port);
  return true;
}

bool RedisLink::ensure() {
  if (ctx_) return true;
  std::optional<HostPort> target = sentinels_.empty() ? std::optional<HostPort>(fixed_) : ask_sentinels();
  if (target && connect_to(*target)) {
    if (said_down_) log("backplane: Redis primary is ", where_);
    said_down_ = false;
    return true;
  }
  if (!said_down_) log("backplane: no Redis primary reachable", sentinels_.empty() ? "" : " (asking Sentinel)", "; retrying");
  said_down_ = true;
  return false;
}

Reply RedisLink::command(const std::vector<std::string>& argv) {
  if (!ensure()) return nullptr;
  Reply r = run_argv(ctx_, argv);
  if (!r) drop();
  return r;
}

std::vector<Reply> RedisLink::pipeline(const std::vector<std::vector<std::string>>& commands) {
  std::vector<Reply> out;
  if (!ensure()) return out;
  for (const auto& argv : commands) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()) != REDIS_OK) {
      drop();
      return {};
    }
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    void* r = nullptr;
    if (redisGetReply(ctx_, &r) != REDIS_OK || !r) {
      drop();
      return {};
    }
    out.emplace_back(static_cast<redisReply*>(r));
  }
  return out;
}

}  // namespace mqchat::bridge
