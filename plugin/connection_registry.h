#pragma once
// Which authenticated connections exist, for presence (a user is online while any of their
// connections is) and for refusing wills: Mosquitto 2.0.11 sends a will without the MESSAGE
// callback, so a will on a chat topic would skip validation and persistence. A will is only ever
// sent for a connection that is going away (after its DISCONNECT event, or after another
// connection took over its client id), and such connections may no longer publish.
#include <optional>
#include <string>
#include <unordered_map>

namespace mqchat {

class ConnectionRegistry {
 public:
  // A client authenticated. True if the user just came online.
  bool on_authenticated(const void* client, const std::string& username, const std::string& client_id);
  // A client is disconnecting. The username if the user just went offline.
  std::optional<std::string> on_disconnect(const void* client);
  // How many of `username`'s connections would stay if `client` (with `client_id`) connected:
  // a reconnect under the same client id replaces its old connection rather than adding one.
  int others_of(const std::string& username, const void* client, const std::string& client_id) const;
  // True if the client is going away or unknown (its publishes now can only be wills).
  bool is_departing(const void* client) const;

 private:
  struct Connection {
    std::string username;
    std::string client_id;
    bool departing = false;
    bool counted = true;
  };
  void release(Connection& c, std::optional<std::string>* went_offline);

  std::unordered_map<const void*, Connection> connections_;
  std::unordered_map<std::string, const void*> by_client_id_;
  std::unordered_map<std::string, int> per_user_;
};

}  // namespace mqchat
