#pragma once
// Remembers recently accepted messages under a key and the payload they became, so a retry is
// recognised and answered with the very same stored message instead of a second one. Used for
// (sender, room, client_id) and for (MQTT client id, packet id, bytes) of QoS 1/2 publishes.
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

  // The stored payload of an earlier key within the window, or nullptr. The key is the parts
  // joined by NUL, which none of them contains (usernames, room names, client ids are refused
  // with NUL; the last part may, being last).
  const std::string* find(std::string_view a, std::string_view b, std::string_view c, int64_t now_s);
  // `replace`: a newer message under the same key wins (packet ids are reused); otherwise the
  // first one stays.
  void remember(std::string_view a, std::string_view b, std::string_view c, std::string payload, int64_t now_s,
                bool replace = false);
  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    std::string key;
    std::string payload;
    int64_t at_s;
  };
  static std::string key_of(std::string_view a, std::string_view b, std::string_view c);
  void expire(int64_t now_s);

  int64_t window_;
  size_t max_entries_;
  std::list<Entry> entries_;  // oldest first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace mqchat
