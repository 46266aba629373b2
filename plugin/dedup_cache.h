#pragma once
// Remembers recently accepted messages under a key and the payload they became, so a retry is
// recognised and answered with the very same stored message instead of a second one. Used for
// (sender, room, client_id) and for (MQTT client id, packet id, bytes) of QoS 1/2 publishes.
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mqchat {

class DedupCache {
 public:
  DedupCache(uint32_t window_s, uint32_t max_entries) : window_(window_s), max_entries_(max_entries) {}

  // The stored payload of an earlier key within the window, if any; valid until the next call.
  // The key is the parts joined by NUL, which none of them contains (usernames, room names,
  // client ids are refused with NUL; the last part may, being last).
  std::optional<std::string_view> find(std::string_view a, std::string_view b, std::string_view c, int64_t now_s);
  // `replace`: a newer message under the same key wins (packet ids are reused); otherwise the
  // first one stays.
  void remember(std::string_view a, std::string_view b, std::string_view c, std::string_view payload, int64_t now_s,
                bool replace = false);
  size_t size() const { return index_.size(); }

 private:
  // One allocation per remembered message: the key and the payload in one string.
  struct Entry {
    std::string data;
    size_t key_size = 0;
    int64_t at_s = 0;
    bool live = true;  // false once a newer entry under the same key replaced it
    std::string_view key() const { return {data.data(), key_size}; }
    std::string_view payload() const { return std::string_view(data).substr(key_size); }
  };
  std::string_view compose_key(std::string_view a, std::string_view b, std::string_view c);
  void expire(int64_t now_s);

  int64_t window_;
  size_t max_entries_;
  std::deque<Entry> entries_;  // oldest first; only pushed at the back and popped at the front, so never moved
  std::unordered_map<std::string_view, Entry*> index_;  // keys view the live entries' data
  std::string key_buffer_;     // reused for lookups: no allocation per message
};

}  // namespace mqchat
