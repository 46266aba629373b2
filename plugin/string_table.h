#pragma once
// A table of values by name for the broker thread's per-check lookups (plugin/user_table.h: every
// WRITE check looks up both users of a room; plugin/rate_limiter.h: every publish its user's
// bucket). A lookup takes the name as it is (a view into the topic or the login: no std::string
// built for it) and is one keyed hash (common/keyed_hash.h: names come from outside) and a probe
// of an open-addressing index, at most half full. Entries are never removed one by one; a table
// that must forget some is rebuilt without them.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/keyed_hash.h"
#include "common/swar.h"

namespace mqchat {

template <typename V>
class StringTable {
 public:
  using Entry = std::pair<std::string, V>;

  StringTable() : secret_(random_hash_secret()), slots_(kMinSlots) {}

  const V* find(std::string_view name) const {
    const Slot& s = slots_[probe(name, keyed_hash(name, secret_))];
    return s.entry ? &entries_[s.entry - 1].second : nullptr;
  }
  V* find(std::string_view name) { return const_cast<V*>(std::as_const(*this).find(name)); }
  bool contains(std::string_view name) const { return find(name) != nullptr; }

  // The value under `name`, added as `value` if there was none; true if it was added.
  std::pair<V*, bool> try_emplace(std::string_view name, V value) {
    const uint64_t hash = keyed_hash(name, secret_);
    const size_t at = probe(name, hash);
    if (const Slot& s = slots_[at]; s.entry) return {&entries_[s.entry - 1].second, false};
    entries_.emplace_back(std::string(name), std::move(value));
    if (entries_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);  // places the new entry too
    else slots_[at] = Slot{tag_of(hash), static_cast<uint32_t>(entries_.size())};
    return {&entries_.back().second, true};
  }
  // Adds `name`, or replaces its value if it is already there.
  void set(std::string_view name, V value) {
    if (V* v = find(name)) *v = std::move(value);
    else try_emplace(name, std::move(value));
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Every (name, value), in the order they were added.
  typename std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  typename std::vector<Entry>::const_iterator end() const { return entries_.end(); }

 private:
  static constexpr size_t kMinSlots = 16;
  struct Slot {
    uint32_t tag = 0;    // the hash's high half: most mismatches skip the comparing of names
    uint32_t entry = 0;  // index into entries_ + 1; 0 = empty
  };
  static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  // The index of the slot holding `name`, or of the empty slot where it would go.
  size_t probe(std::string_view name, uint64_t hash) const {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.entry == 0) return i;
      if (s.tag == tag_of(hash)) {
        const std::string& candidate = entries_[s.entry - 1].first;
        if (candidate.size() == name.size() && swar::equal_bytes(candidate.data(), name.data(), name.size())) return i;
      }
    }
  }

  void rehash(size_t slots) {
    slots_.assign(slots, Slot{});
    for (size_t i = 0; i < entries_.size(); ++i) {
      const uint64_t hash = keyed_hash(entries_[i].first, secret_);
      slots_[probe(entries_[i].first, hash)] = Slot{tag_of(hash), static_cast<uint32_t>(i + 1)};
    }
  }

  uint64_t secret_;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;  // linear probing; a power of two in size
};

}  // namespace mqchat
