#include "plugin/client_id_owners.h"

#include <algorithm>

namespace mqchat {

namespace {
constexpr int64_t kPersistEvery = 3600;  // last_seen is rewritten at most hourly per id
}

std::string ClientIdOwners::value_of(const Entry& e) { return e.owner + '\t' + std::to_string(e.last_seen_s); }

bool ClientIdOwners::is_reserved(std::string_view client_id) const {
  for (const auto& p : s_.reserved_prefixes)
    if (client_id.substr(0, p.size()) == p) return true;
  return false;
}

std::optional<std::string> ClientIdOwners::owner_of(std::string_view client_id) const {
  const auto it = ids_.find(std::string(client_id));
  if (it == ids_.end()) return std::nullopt;
  return it->second.owner;
}

void ClientIdOwners::load(const std::unordered_map<std::string, std::string>& table, int64_t now_s) {
  const int64_t expiry = int64_t(s_.expiry_days) * 86400;
  Changes ignored;
  for (const auto& [id, value] : table) {
    const auto tab = value.find('\t');
    if (tab == std::string::npos || tab == 0) continue;
    int64_t seen = 0;
    try {
      seen = std::stoll(value.substr(tab + 1));
    } catch (...) {
      continue;
    }
    if (seen + expiry < now_s) continue;
    std::string owner = value.substr(0, tab);
    auto& mine = by_owner_[owner];
    if (mine.size() >= s_.max_ids_per_user || ids_.size() >= s_.max_ids) continue;
    mine.push_back(id);
    ids_[id] = Entry{std::move(owner), seen, seen};
  }
}

void ClientIdOwners::release(const std::string& client_id, Changes& changes) {
  const auto it = ids_.find(client_id);
  if (it == ids_.end()) return;
  auto owned = by_owner_.find(it->second.owner);
  if (owned != by_owner_.end()) {
    auto& v = owned->second;
    v.erase(std::remove(v.begin(), v.end(), client_id), v.end());
    if (v.empty()) by_owner_.erase(owned);
  }
  ids_.erase(it);
  changes.emplace_back(client_id, std::nullopt);
}

// Past max_ids: forget the expired, and if that is not enough the least recently used tenth.
// O(n) once per n/10 new ids.
void ClientIdOwners::make_room(int64_t now_s, Changes& changes) {
  const int64_t expiry = int64_t(s_.expiry_days) * 86400;
  std::vector<std::pair<int64_t, std::string>> by_age;
  by_age.reserve(ids_.size());
  for (const auto& [id, e] : ids_) by_age.emplace_back(e.last_seen_s + expiry < now_s ? INT64_MIN : e.last_seen_s, id);
  const size_t target = ids_.size() - ids_.size() / 10;
  std::sort(by_age.begin(), by_age.end());
  for (const auto& [age, id] : by_age) {
    if (ids_.size() <= target && age != INT64_MIN) break;
    release(id, changes);
  }
}

ClientIdOwners::Verdict ClientIdOwners::claim(std::string_view user, bool service, std::string_view client_id,
                                              int64_t now_s, Changes& changes) {
  if (!service && is_reserved(client_id)) return Verdict::Reserved;
  std::string id(client_id);
  if (auto it = ids_.find(id); it != ids_.end()) {
    Entry& e = it->second;
    const int64_t expiry = int64_t(s_.expiry_days) * 86400;
    if (e.owner != user) {
      // A service account's id is never a user's; an expired user claim is free to take.
      if (!service && e.last_seen_s + expiry >= now_s) return Verdict::Taken;
      release(id, changes);
    } else {
      e.last_seen_s = now_s;
      if (now_s - e.persisted_s >= kPersistEvery) {
        e.persisted_s = now_s;
        changes.emplace_back(id, value_of(e));
      }
      return Verdict::Ok;
    }
  }
  std::string owner(user);
  auto& mine = by_owner_[owner];
  if (mine.size() >= s_.max_ids_per_user) {
    // Release this user's least recently used id: a user's ids are bounded, not their logins.
    const auto oldest = std::min_element(mine.begin(), mine.end(), [this](const std::string& a, const std::string& b) {
      return ids_.at(a).last_seen_s < ids_.at(b).last_seen_s;
    });
    release(std::string(*oldest), changes);
  }
  if (ids_.size() >= s_.max_ids) make_room(now_s, changes);
  Entry e{owner, now_s, now_s};
  changes.emplace_back(id, value_of(e));
  by_owner_[owner].push_back(id);
  ids_.emplace(std::move(id), std::move(e));
  return Verdict::Ok;
}

}  // namespace mqchat
