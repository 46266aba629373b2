#pragma once
// Remembers recently accepted (sender, client_id) pairs and the payload they became, so a retry
// is recognised and answered with the very same stored message instead of a second one.
#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mqchat {

class DedupCache {
 public:
  DedupCache(uint32_t window_s, uint32_t max_entries) : window_(window_s), max_entries_(max_entries) {}

  // The stored payload of an earlier (sender, client_id) within the window, or nullptr.
  const std::string* find(std::string_view sender, std::string_view client_id, int64_t now_s);
  void remember(std::string_view sender, std::string_view client_id, std::string payload, int64_t now_s);
  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string key;
    std::string payload;
    int64_t at_s;
  };
  static std::string key_of(std::string_view sender, std::string_view client_id);
  void expire(int64_t now_s);

  int64_t window_;
  size_t max_entries_;
  std::list<Entry> entries_;  // oldest first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace mqchat
