#pragma once
// A LISTEN on one channel that hands each notification's payload to a function. Notifications
// arrive while the connection waits in await_notification() (or runs a statement), on that thread.
#include <functional>
#include <string>
#include <utility>

#include <pqxx/pqxx>

namespace mqchat {

class PgListener : public pqxx::notification_receiver {
 public:
  PgListener(pqxx::connection_base& conn, const std::string& channel, std::function<void(const std::string&)> on)
      : pqxx::notification_receiver(conn, channel), on_(std::move(on)) {}
  void operator()(const std::string& payload, int) override { on_(payload); }

 private:
  std::function<void(const std::string&)> on_;
};

}  // namespace mqchat
