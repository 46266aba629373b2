#include "plugin/dedup_cache.h"

#include <cstring>
#include <new>

#include "common/keyed_hash.h"

namespace mqchat {

namespace {
constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kMinSlots = 64;

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }
}  // namespace

size_t DedupCache::Record::footprint() const { return align8(sizeof(Record) + key_size + payload_size); }

DedupCache::DedupCache(uint32_t window_s, uint32_t max_entries)
    : window_(window_s), max_entries_(max_entries), secret_(random_hash_secret()), slots_(kMinSlots, nullptr) {}

DedupCache::~DedupCache() = default;  // records are plain bytes in the chunks

DedupCache::Key DedupCache::key(std::string_view a, std::string_view b, std::string_view c) {
  const size_t size = a.size() + b.size() + c.size() + 2;
  if (key_buffer_.size() < size) key_buffer_.resize(size);
  char* p = key_buffer_.data();
  std::memcpy(p, a.data(), a.size());
  p[a.size()] = '\0';
  p += a.size() + 1;
  std::memcpy(p, b.data(), b.size());
  p[b.size()] = '\0';
  std::memcpy(p + b.size() + 1, c.data(), c.size());
  const std::string_view text(key_buffer_.data(), size);
  return {text, keyed_hash(text, secret_)};
}

DedupCache::Record* DedupCache::lookup(const Key& key) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = key.hash & mask;; i = (i + 1) & mask) {
    Record* r = slots_[i];
    if (!r) return nullptr;
    if (r->hash == key.hash && r->key() == key.text) return r;
  }
}

void DedupCache::index_insert(Record* r) {
  if ((live_ + 1) * 2 > slots_.size()) grow_index();  // at most half full: probes stay short
  const size_t mask = slots_.size() - 1;
  size_t i = r->hash & mask;
  while (slots_[i]) i = (i + 1) & mask;
  slots_[i] = r;
  ++live_;
}

// Linear probing without tombstones: the records after the hole that belong at or before it
// move back into it.
void DedupCache::index_erase(const Record* r) {
  const size_t mask = slots_.size() - 1;
  size_t hole = r->hash & mask;
  while (slots_[hole] != r) hole = (hole + 1) & mask;
  for (size_t i = (hole + 1) & mask; slots_[i]; i = (i + 1) & mask) {
    const size_t home = slots_[i]->hash & mask;
    // Does `home` lie cyclically outside (hole, i]? Then the record may fill the hole.
    if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
      slots_[hole] = slots_[i];
      hole = i;
    }
  }
  slots_[hole] = nullptr;
  --live_;
}

void DedupCache::grow_index() {
  std::vector<Record*> old(slots_.size() * 2, nullptr);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (Record* r : old) {
    if (!r) continue;
    size_t i = r->hash & mask;
    while (slots_[i]) i = (i + 1) & mask;
    slots_[i] = r;
  }
}

DedupCache::Record* DedupCache::append(const Key& key, std::string_view payload, int64_t now_s) {
  const size_t need = align8(sizeof(Record) + key.text.size() + payload.size());
  if (chunks_.empty() || chunks_.back().capacity - chunks_.back().end < need) {
    Chunk& c = chunks_.emplace_back();
    c.capacity = std::max(kChunkBytes, need);
    c.bytes.reset(new char[c.capacity]);
  }
  Chunk& c = chunks_.back();
  char* at = c.bytes.get() + c.end;
  c.end += need;
  Record* r = new (at) Record{key.hash, now_s, uint32_t(key.text.size()), uint32_t(payload.size()), true};
  char* bytes = at + sizeof(Record);
  std::memcpy(bytes, key.text.data(), key.text.size());
  std::memcpy(bytes + key.text.size(), payload.data(), payload.size());
  ++records_;
  return r;
}

void DedupCache::expire(int64_t now_s) {
  while (records_ > 0) {
    Chunk& c = chunks_.front();
    if (c.begin == c.end) {  // emptied: free it, or rewind it when it is the one being filled
      if (chunks_.size() > 1) chunks_.pop_front();
      else c.begin = c.end = 0;
      continue;
    }
    auto* r = reinterpret_cast<Record*>(c.bytes.get() + c.begin);
    if (r->at_s + window_ >= now_s && records_ <= max_entries_) return;
    if (r->live) index_erase(r);
    c.begin += r->footprint();
    --records_;
  }
  while (chunks_.size() > 1) chunks_.pop_front();  // everything aged out: keep one chunk to fill
  if (!chunks_.empty()) chunks_.front().begin = chunks_.front().end = 0;
}

std::optional<std::string_view> DedupCache::find(const Key& key, int64_t now_s) {
  expire(now_s);
  if (const Record* r = lookup(key)) return r->payload();
  return std::nullopt;
}

void DedupCache::remember(const Key& key, std::string_view payload, int64_t now_s, bool replace) {
  if (window_ == 0) return;
  if (Record* earlier = lookup(key)) {
    if (!replace) return;
    earlier->live = false;  // leaves with its age; the index no longer points at it
    index_erase(earlier);
  }
  remember_missing(key, payload, now_s);
}

void DedupCache::remember_missing(const Key& key, std::string_view payload, int64_t now_s) {
  if (window_ == 0) return;
  index_insert(append(key, payload, now_s));
  expire(now_s);
}

}  // namespace mqchat
