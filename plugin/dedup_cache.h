#pragma once
// Remembers recently accepted messages under a key and the payload they became, so a retry is
// recognised and answered with the very same stored message instead of a second one. Used for
// (sender, room, client_id) and for (MQTT client id, packet id, bytes) of QoS 1/2 publishes.
//
// It runs on the broker thread for every message, so it allocates nothing per entry: records
// (key and payload together) are appended to 64 KiB chunks in arrival order and leave from the
// front as they age out, and the index is an open-addressing table of pointers to them. The hash
// is keyed with a random secret: client ids are chosen by clients, and a table whose collisions
// they could predict would let one of them slow the broker thread down.
#include <climits>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqchat {

class DedupCache {
 public:
  DedupCache(uint32_t window_s, uint32_t max_entries);
  ~DedupCache();
  DedupCache(const DedupCache&) = delete;
  DedupCache& operator=(const DedupCache&) = delete;

  // A key's three parts and its hash, so a lookup and the remember that follows it hash once. It
  // views the parts: valid while they are. Records hold the parts joined by NUL (which none of
  // the first two contains: usernames and room names are refused with NUL; the last part may,
  // being last); they are compared part by part, never composed first.
  struct Key {
    std::string_view a, b, c;
    uint64_t hash = 0;
    size_t size() const { return a.size() + b.size() + c.size() + 2; }
  };
  Key key(std::string_view a, std::string_view b, std::string_view c) const;

  // The stored payload of an earlier key within the window, if any; valid until the next call.
  std::optional<std::string_view> find(const Key& key, int64_t now_s);
  // `replace`: a newer message under the same key wins (packet ids are reused); otherwise the
  // first one stays.
  void remember(const Key& key, std::string_view payload, int64_t now_s, bool replace = false);
  // The same right after find(key) found nothing (and nothing was remembered since): no second
  // lookup of what is known to be absent.
  void remember_missing(const Key& key, std::string_view payload, int64_t now_s);

  std::optional<std::string_view> find(std::string_view a, std::string_view b, std::string_view c, int64_t now_s) {
    return find(key(a, b, c), now_s);
  }
  void remember(std::string_view a, std::string_view b, std::string_view c, std::string_view payload, int64_t now_s,
                bool replace = false) {
    remember(key(a, b, c), payload, now_s, replace);
  }
  size_t size() const { return live_; }

 private:
  // A record's header; its key and payload bytes follow it in the chunk.
  struct Record {
    uint64_t hash;
    int64_t at_s;
    uint32_t key_size;
    uint32_t payload_size;
    bool live;  // false once a newer record under the same key replaced it (it then only ages out)
    const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return {bytes(), key_size}; }
    std::string_view payload() const { return {bytes() + key_size, payload_size}; }
    size_t footprint() const;
  };
  struct Chunk {
    std::unique_ptr<char[]> bytes;
    size_t capacity = 0, begin = 0, end = 0;  // records live in [begin, end)
  };

  Record* lookup(const Key& key) const;
  void index_insert(Record* r);
  void index_erase(const Record* r);
  void grow_index();
  Record* append(const Key& key, std::string_view payload, int64_t now_s);
  void expire(int64_t now_s);

  int64_t window_;
  size_t max_entries_;
  uint64_t secret_;
  // expire() has nothing to do before this second unless records_ > max_entries_: the oldest
  // record's age limit (its at_s + window), or the largest value while there is no record.
  bool expiry_due(int64_t now_s) const { return now_s > oldest_expires_s_ || records_ > max_entries_; }

  std::deque<Chunk> chunks_;    // oldest first
  size_t records_ = 0;          // in the chunks, live or replaced
  int64_t oldest_expires_s_ = INT64_MAX;
  size_t live_ = 0;             // in the index
  std::vector<Record*> slots_;  // linear probing; nullptr = empty; a power of two in size
};

}  // namespace mqchat
