#pragma once
// Who owns which MQTT client id. Mosquitto gives a client id to whoever connects with it last:
// the old connection is kicked and, with a persistent session, its queued messages go to the
// newcomer. So a client id belongs to the first user who connects with it, and another user's
// CONNECT with it is refused in basic auth, which 2.0.11 runs before the takeover
// (handle_connect.c: mosquitto_unpwd_check, then connect__on_authorised). Ids with a reserved
// prefix (the bridge's) belong to service accounts only. Bounded: a user's least recently used id
// is released beyond max_ids_per_user, ids unused for expiry_days are forgotten, and past max_ids
// the least recently used are released. Broker thread only; the caller persists `changes`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/config.h"

namespace mqchat {

class ClientIdOwners {
 public:
  enum class Verdict { Ok, Reserved, Taken };
  // key = client id; value = owner + '\t' + last seen (unix s), or nullopt when released.
  using Changes = std::vector<std::pair<std::string, std::optional<std::string>>>;

  explicit ClientIdOwners(SessionSettings settings) : s_(std::move(settings)) {}

  // Restores what the state file held (entries past their expiry are dropped).
  void load(const std::unordered_map<std::string, std::string>& table, int64_t now_s);

  // A login of `user` with `client_id`: refused if reserved or someone else's; otherwise the id
  // is (now) `user`'s.
  Verdict claim(std::string_view user, bool service, std::string_view client_id, int64_t now_s, Changes& changes);
  std::optional<std::string> owner_of(std::string_view client_id) const;
  bool is_reserved(std::string_view client_id) const;
  size_t size() const { return ids_.size(); }

 private:
  struct Entry {
    std::string owner;
    int64_t last_seen_s;
    int64_t persisted_s;  // last_seen as last written; rewritten once it is an hour stale
  };
  void release(const std::string& client_id, Changes& changes);
  void make_room(int64_t now_s, Changes& changes);
  static std::string value_of(const Entry& e);

  SessionSettings s_;
  std::unordered_map<std::string, Entry> ids_;
  std::unordered_map<std::string, std::vector<std::string>> by_owner_;
};

}  // namespace mqchat
