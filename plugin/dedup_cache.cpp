#include "plugin/dedup_cache.h"

#include <openssl/rand.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace mqchat {

namespace {
constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kMinSlots = 64;

uint64_t fold_multiply(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Eight bytes per step, each step a 64x64->128-bit multiply folded back (as wyhash does), seeded
// with the secret so the collisions cannot be chosen from outside.
uint64_t keyed_hash(std::string_view s, uint64_t secret) {
  constexpr uint64_t k1 = 0xa0761d6478bd642full, k2 = 0xe7037ed1a0b428dbull;
  const uint64_t multiplier = (k1 ^ secret) | 1;
  uint64_t h = secret ^ (s.size() * k2);
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = fold_multiply(h ^ w ^ k2, multiplier);
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < n; ++i) tail |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return fold_multiply(h ^ tail ^ k1, multiplier ^ k2);
}

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }
}  // namespace

size_t DedupCache::Record::footprint() const { return align8(sizeof(Record) + key_size + payload_size); }

DedupCache::DedupCache(uint32_t window_s, uint32_t max_entries)
    : window_(window_s), max_entries_(max_entries), slots_(kMinSlots, nullptr) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&secret_), sizeof secret_) != 1)
    throw std::runtime_error("RAND_bytes failed");
}

DedupCache::~DedupCache() = default;  // records are plain bytes in the chunks

DedupCache::Key DedupCache::key(std::string_view a, std::string_view b, std::string_view c) {
  key_buffer_.resize(a.size() + b.size() + c.size() + 2);
  char* p = key_buffer_.data();
  std::memcpy(p, a.data(), a.size());
  p[a.size()] = '\0';
  p += a.size() + 1;
  std::memcpy(p, b.data(), b.size());
  p[b.size()] = '\0';
  std::memcpy(p + b.size() + 1, c.data(), c.size());
  return {key_buffer_, keyed_hash(key_buffer_, secret_)};
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
  index_insert(append(key, payload, now_s));
  expire(now_s);
}

}  // namespace mqchat
