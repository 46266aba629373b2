#include "plugin/callback_order.h"

#include <dlfcn.h>
#include <link.h>

#include <cstring>

namespace mqchat {

namespace {

// Plugins whose callbacks can be moved: their exported callback functions and the userdata
// they register them with (NULL for dynamic-security, plugins/dynamic-security/plugin.c).
struct KnownCallback {
  const char* symbol;
  int event;
};
constexpr KnownCallback kDynamicSecurity[] = {
    {"dynsec_auth__basic_auth_callback", MOSQ_EVT_BASIC_AUTH},
    {"dynsec__acl_check_callback", MOSQ_EVT_ACL_CHECK},
};

int collect(struct dl_phdr_info* info, size_t, void* data) {
  auto* names = static_cast<std::vector<std::string>*>(data);
  if (info->dlpi_name && *info->dlpi_name) names->emplace_back(info->dlpi_name);
  return 0;
}

// The symbol if `library` itself defines it (dlsym also searches the library's dependencies).
void* own_symbol(void* handle, const std::string& library, const char* name) {
  void* sym = dlsym(handle, name);
  Dl_info where{};
  if (!sym || !dladdr(sym, &where) || !where.dli_fname || library != where.dli_fname) return nullptr;
  return sym;
}

}  // namespace

CallbackOrder put_own_callbacks_first(mosquitto_plugin_id_t* id, const void* own_address) {
  CallbackOrder order;
  Dl_info self{};
  dladdr(own_address, &self);
  const std::string own = self.dli_fname ? self.dli_fname : "";
  std::vector<std::string> libraries;
  dl_iterate_phdr(collect, &libraries);
  for (const auto& library : libraries) {
    if (library == own) continue;
    void* handle = dlopen(library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (!handle) continue;
    if (own_symbol(handle, library, "mosquitto_plugin_version")) {  // a version 5 plugin
      bool all_moved = true;
      bool known = true;
      for (const auto& cb : kDynamicSecurity)
        if (!own_symbol(handle, library, cb.symbol)) known = false;
      if (known) {
        for (const auto& cb : kDynamicSecurity) {
          auto* fn = reinterpret_cast<MOSQ_FUNC_generic_callback>(own_symbol(handle, library, cb.symbol));
          // Unregistering finds the callback by function in the broker's one list (no
          // per_listener_settings); registering again appends it, behind mqchat's.
          if (mosquitto_callback_unregister(id, cb.event, fn, nullptr) != MOSQ_ERR_SUCCESS ||
              mosquitto_callback_register(id, cb.event, fn, nullptr, nullptr) != MOSQ_ERR_SUCCESS) {
            all_moved = false;
            continue;
          }
          order.moved.push_back(library + ": " + cb.symbol);
        }
      }
      if (!known || !all_moved) order.unknown.push_back(library);
    }
    dlclose(handle);
  }
  return order;
}

}  // namespace mqchat
