#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mqchat {

using Uuid = std::array<uint8_t, 16>;

constexpr size_t kUuidTextSize = 36;
// Writes the 36 characters of 8-4-4-4-12 lowercase hex at `out` (no terminator).
void format_uuid(const Uuid& id, char* out);
std::string to_string(const Uuid& id);
std::optional<Uuid> parse_uuid(std::string_view text);

// RFC 4122 name-based UUID (SHA-1), as Postgres' uuid_generate_v5(ns, name).
Uuid uuid_v5(const Uuid& ns, std::string_view name);

// Namespace of conversation ids; SQL's mqchat_conversation_id(room) uses the same.
extern const Uuid kConversationNamespace;
inline Uuid conversation_id(std::string_view room) { return uuid_v5(kConversationNamespace, room); }

// UUIDv7 (RFC 9562): 48-bit Unix ms, then a 12-bit counter seeded randomly each ms so ids
// from one generator are strictly increasing, then 62 random bits. Not thread-safe: one generator
// per thread (the pipeline's lives on the broker thread, where a lock per id was measurable).
// The random bits come from xoshiro256** reseeded from OpenSSL every kReseedEvery ids: ids are
// public, so they need to be unguessable-ish and unique, not secret, and RAND_bytes per id was
// an eighth of the broker's per-message work.
class Uuidv7Generator {
 public:
  Uuid next();
  Uuid next(uint64_t unix_ms);

 private:
  static constexpr uint32_t kReseedEvery = 1u << 16;
  uint64_t random64();

  uint64_t last_ms_ = 0;
  uint32_t counter_ = 0;
  uint64_t state_[4] = {0, 0, 0, 0};
  uint32_t until_reseed_ = 0;
};

}  // namespace mqchat
