#include "plugin/connection_registry.h"

namespace mqchat {

void ConnectionRegistry::release(Connection& c, std::optional<std::string>* went_offline) {
  if (!c.counted) return;
  c.counted = false;
  auto it = per_user_.find(c.username);
  if (it != per_user_.end() && --it->second <= 0) {
    per_user_.erase(it);
    if (went_offline) *went_offline = c.username;
  }
}

bool ConnectionRegistry::on_authenticated(const void* client, const std::string& username,
                                          const std::string& client_id) {
  if (connections_.count(client)) on_disconnect(client);  // re-authentication of one connection
  // Same client id as a live connection: the broker will take that session over (and may send
  // its will on the way out without a DISCONNECT event first).
  if (auto by_id = by_client_id_.find(client_id); by_id != by_client_id_.end()) {
    if (auto taken = connections_.find(by_id->second); taken != connections_.end()) taken->second.departing = true;
  }
  connections_[client] = Connection{username, client_id};
  by_client_id_[client_id] = client;
  return ++per_user_[username] == 1;
}

std::optional<std::string> ConnectionRegistry::on_disconnect(const void* client) {
  std::optional<std::string> went_offline;
  auto it = connections_.find(client);
  if (it == connections_.end()) return went_offline;
  release(it->second, &went_offline);
  if (auto by_id = by_client_id_.find(it->second.client_id); by_id != by_client_id_.end() && by_id->second == client)
    by_client_id_.erase(by_id);
  connections_.erase(it);  // unknown connections count as departing, so a delayed will is refused too
  return went_offline;
}

int ConnectionRegistry::others_of(const std::string& username, const void* client,
                                  const std::string& client_id) const {
  const auto count = per_user_.find(username);
  int n = count == per_user_.end() ? 0 : count->second;
  const auto replaced = [&](const void* c) {
    const auto it = connections_.find(c);
    return it != connections_.end() && it->second.counted && it->second.username == username;
  };
  if (replaced(client)) --n;
  if (const auto by_id = by_client_id_.find(client_id); by_id != by_client_id_.end() && by_id->second != client &&
                                                        replaced(by_id->second))
    --n;
  return n;
}

bool ConnectionRegistry::is_departing(const void* client) const {
  const auto it = connections_.find(client);
  return it == connections_.end() || it->second.departing;
}

}  // namespace mqchat
