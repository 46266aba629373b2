#include "plugin/dedup_cache.h"

namespace mqchat {

std::string DedupCache::key_of(std::string_view a, std::string_view b, std::string_view c) {
  std::string key;
  key.reserve(a.size() + b.size() + c.size() + 2);
  key.append(a).push_back('\0');
  key.append(b).push_back('\0');
  key.append(c);
  return key;
}

void DedupCache::expire(int64_t now_s) {
  while (!entries_.empty() && (entries_.front().at_s + window_ < now_s || entries_.size() > max_entries_)) {
    index_.erase(entries_.front().key);
    entries_.pop_front();
  }
}

const std::string* DedupCache::find(std::string_view a, std::string_view b, std::string_view c, int64_t now_s) {
  expire(now_s);
  const auto it = index_.find(key_of(a, b, c));
  return it == index_.end() ? nullptr : &it->second->payload;
}

void DedupCache::remember(std::string_view a, std::string_view b, std::string_view c, std::string payload,
                          int64_t now_s, bool replace) {
  if (window_ == 0) return;
  std::string key = key_of(a, b, c);
  if (const auto it = index_.find(key); it != index_.end()) {
    if (!replace) return;
    entries_.erase(it->second);
    index_.erase(it);
  }
  entries_.push_back(Entry{key, std::move(payload), now_s});
  index_.emplace(std::move(key), std::prev(entries_.end()));
  expire(now_s);
}

}  // namespace mqchat
