#include "plugin/dedup_cache.h"

#include <cstring>

namespace mqchat {

std::string_view DedupCache::compose_key(std::string_view a, std::string_view b, std::string_view c) {
  key_buffer_.resize(a.size() + b.size() + c.size() + 2);
  char* p = key_buffer_.data();
  std::memcpy(p, a.data(), a.size());
  p[a.size()] = '\0';
  p += a.size() + 1;
  std::memcpy(p, b.data(), b.size());
  p[b.size()] = '\0';
  std::memcpy(p + b.size() + 1, c.data(), c.size());
  return key_buffer_;
}

void DedupCache::expire(int64_t now_s) {
  while (!entries_.empty() && (entries_.front().at_s + window_ < now_s || entries_.size() > max_entries_)) {
    if (entries_.front().live) index_.erase(entries_.front().key());
    entries_.pop_front();
  }
}

std::optional<std::string_view> DedupCache::find(std::string_view a, std::string_view b, std::string_view c,
                                                 int64_t now_s) {
  expire(now_s);
  const auto it = index_.find(compose_key(a, b, c));
  if (it == index_.end()) return std::nullopt;
  return it->second->payload();
}

void DedupCache::remember(std::string_view a, std::string_view b, std::string_view c, std::string_view payload,
                          int64_t now_s, bool replace) {
  if (window_ == 0) return;
  const std::string_view key = compose_key(a, b, c);
  if (const auto it = index_.find(key); it != index_.end()) {
    if (!replace) return;
    it->second->live = false;  // leaves with its age; the index no longer points at it
    index_.erase(it);
  }
  Entry& entry = entries_.emplace_back();
  entry.data.reserve(key.size() + payload.size());
  entry.data.append(key).append(payload);
  entry.key_size = key.size();
  entry.at_s = now_s;
  index_.emplace(entry.key(), &entry);
  expire(now_s);
}

}  // namespace mqchat
