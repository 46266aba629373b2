#include "plugin/dedup_cache.h"

namespace mqchat {

std::string DedupCache::key_of(std::string_view sender, std::string_view client_id) {
  std::string key;
  key.reserve(sender.size() + 1 + client_id.size());
  key.append(sender).push_back('\0');  // usernames never contain NUL, so the key is unambiguous
  key.append(client_id);
  return key;
}

void DedupCache::expire(int64_t now_s) {
  while (!entries_.empty() && (entries_.front().at_s + window_ < now_s || entries_.size() > max_entries_)) {
    index_.erase(entries_.front().key);
    entries_.pop_front();
  }
}

const std::string* DedupCache::find(std::string_view sender, std::string_view client_id, int64_t now_s) {
  expire(now_s);
  const auto it = index_.find(key_of(sender, client_id));
  return it == index_.end() ? nullptr : &it->second->payload;
}

void DedupCache::remember(std::string_view sender, std::string_view client_id, std::string payload, int64_t now_s) {
  if (window_ == 0) return;
  std::string key = key_of(sender, client_id);
  if (index_.count(key)) return;
  entries_.push_back(Entry{key, std::move(payload), now_s});
  index_.emplace(std::move(key), std::prev(entries_.end()));
  expire(now_s);
}

}  // namespace mqchat
