#pragma once
// Mosquitto 2.0.11 asks its callbacks in registration order and the first answer that is not
// MOSQ_ERR_PLUGIN_DEFER wins (src/security.c). password_file and acl_file register after every
// plugin (mosquitto_security_init_default runs after the plugins' init), so they always come
// after mqchat; but a plugin listed before mqchat in mosquitto.conf registers first and could
// let anyone into chat/ or users/. At mqchat's init, every plugin already loaded was listed
// before it: the dynamic-security plugin's login and ACL callbacks are moved behind mqchat's
// (unregistered and registered again; its userdata is NULL in 2.0.x); any other plugin found
// there is reported, and mqchat refuses to start rather than run with its topics exposed.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <string>
#include <vector>

namespace mqchat {

struct CallbackOrder {
  std::vector<std::string> moved;    // "<library>: <callback>" put behind mqchat's
  std::vector<std::string> unknown;  // plugins loaded before mqchat that it cannot reorder
};

// Call after registering mqchat's own callbacks. `own_address`: any address inside this module.
CallbackOrder put_own_callbacks_first(mosquitto_plugin_id_t* id, const void* own_address);

}  // namespace mqchat
