#include "plugin/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "plugin/thread_name.h"

namespace mqchat {

StateFile::StateFile(std::string path, size_t max_entries, LogQueue& log, size_t queue_capacity)
    : path_(std::move(path)), max_entries_(max_entries), log_(log), queue_capacity_(queue_capacity) {}

StateFile::~StateFile() { stop(); }

std::string StateFile::escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '%' || c == '\t' || c == '\n' || c == '\r' || c == 0) {
      static const char* hex = "0123456789abcdef";
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string StateFile::unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && nibble(s[i + 1]) >= 0 && nibble(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(nibble(s[i + 1]) * 16 + nibble(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

StateFile::Table StateFile::parse(const std::string& text) {
  Table table;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos || tab == 0) continue;  // a torn or foreign line: skip it
    table[unescape(std::string_view(line).substr(0, tab))] = unescape(std::string_view(line).substr(tab + 1));
  }
  return table;
}

std::string StateFile::serialize(const Table& table) {
  std::string out;
  for (const auto& [k, v] : table) out.append(escape(k)).append(1, '\t').append(escape(v)).append(1, '\n');
  return out;
}

StateFile::Table StateFile::load_and_start() {
  std::ifstream in(path_);
  std::stringstream text;
  if (in) text << in.rdbuf();
  table_ = parse(text.str());
  while (table_.size() > max_entries_) table_.erase(table_.begin());
  Table copy = table_;
  worker_ = std::thread([this] { run(); });
  return copy;
}

void StateFile::put(std::string key, std::optional<std::string> value) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() >= queue_capacity_) {
      ++dropped_;
      return;
    }
    pending_.emplace_back(std::move(key), std::move(value));
  }
  cv_.notify_one();
}

void StateFile::write_file(const Table& table) {
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    log_.push(LogLevel::Warning, "mqchat: cannot write " + tmp);
    return;
  }
  const std::string text = serialize(table);
  size_t done = 0;
  bool ok = true;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ok = false;
      break;
    }
    done += size_t(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    log_.push(LogLevel::Warning, "mqchat: cannot write " + path_ + " (kept the previous copy)");
    ::unlink(tmp.c_str());
  }
}

void StateFile::run() {
  name_this_thread("mqchat-" + path_.substr(path_.rfind('/') + 1));  // mqchat-logins, mqchat-client_i(ds)
  using namespace std::chrono_literals;
  for (;;) {
    std::vector<std::pair<std::string, std::optional<std::string>>> batch;
    size_t dropped = 0;
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      // Coalesce: changes that arrive within a second cost one write.
      if (!stopping_) cv_.wait_for(lock, 1s, [this] { return stopping_; });
      batch.swap(pending_);
      std::swap(dropped, dropped_);
      stopping = stopping_;
    }
    for (auto& [k, v] : batch) {
      if (v) table_[std::move(k)] = std::move(*v);
      else table_.erase(k);
    }
    while (table_.size() > max_entries_) table_.erase(table_.begin());
    if (dropped) log_.push(LogLevel::Warning, "mqchat: " + std::to_string(dropped) + " changes to " + path_ +
                                                  " dropped (queue full); they are kept in memory");
    if (!batch.empty() || dropped) write_file(table_);
    if (stopping) return;
  }
}

void StateFile::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (worker_.joinable()) worker_.join();
}

}  // namespace mqchat
