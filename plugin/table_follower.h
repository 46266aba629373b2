#pragma once
// A worker thread that keeps an in-memory copy of a table current (the user directory, the group
// directory): with a connection of its own it LISTENs on the channel the table's trigger notifies,
// reloads on every NOTIFY and at least once per refresh period, and when Postgres goes away it
// reconnects with a growing back-off. The broker thread only ever reads what `load` installs.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "plugin/log_queue.h"

namespace pqxx {
class connection_base;
}

namespace mqchat {

// `dsn` with a connect timeout, unless it has one (or is a URL): fail fast instead of hanging the
// broker's start when Postgres is unreachable.
std::string with_connect_timeout(const std::string& dsn);

class TableFollower {
 public:
  using Load = std::function<void(pqxx::connection_base&)>;
  // `what` names the table in log lines ("user directory").
  TableFollower(std::string dsn, std::string channel, std::chrono::milliseconds refresh, std::string what,
                LogQueue& log, Load load);
  ~TableFollower();
  TableFollower(const TableFollower&) = delete;
  TableFollower& operator=(const TableFollower&) = delete;

  // One load now, on a connection of its own (before the broker takes clients); the error if the
  // database could not be read.
  std::optional<std::string> load_once();
  void start();  // the thread: connects, loads (whatever changed while not listening), follows
  void stop();

 private:
  void run();
  bool wait_or_stop(std::chrono::milliseconds d);

  std::string dsn_, channel_, what_;
  std::chrono::milliseconds refresh_;
  LogQueue& log_;
  Load load_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace mqchat
