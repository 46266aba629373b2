#pragma once
// A small key → value table that must survive a broker restart (who owns which client id, which
// logins were verified), kept in a file by its own worker thread: the broker thread only queues
// changes (bounded; a change that does not fit is dropped and counted, the table in memory stays
// right) and never touches the disk. The worker rewrites the file (mode 0600, write + rename) at
// most once a second. Read once when the plugin starts, before any client connects.
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/log_queue.h"

namespace mqchat {

class StateFile {
 public:
  using Table = std::unordered_map<std::string, std::string>;

  StateFile(std::string path, size_t max_entries, LogQueue& log, size_t queue_capacity = 65536);
  ~StateFile();

  // The file's table (empty if there is none or it is unreadable); starts the worker with it.
  Table load_and_start();
  void stop();  // writes what is pending, then joins

  // Broker thread. nullopt value = erase.
  void put(std::string key, std::optional<std::string> value);

  // Keys and values are stored one pair a line; these escape '\t', '\n', '%' and NUL.
  static std::string escape(std::string_view s);
  static std::string unescape(std::string_view s);
  static Table parse(const std::string& text);
  static std::string serialize(const Table& table);

 private:
  void run();
  void write_file(const Table& table);

  std::string path_;
  size_t max_entries_;
  LogQueue& log_;
  size_t queue_capacity_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, std::optional<std::string>>> pending_;
  size_t dropped_ = 0;
  bool stopping_ = false;
  Table table_;  // worker's copy
  std::thread worker_;
};

}  // namespace mqchat
