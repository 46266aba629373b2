#pragma once
// Names the calling thread, so that `top -H`, `perf` and /proc/<pid>/task/*/comm tell the plugin's
// threads apart from each other and from the broker's (Linux keeps 15 characters).
#include <pthread.h>

#include <string>

namespace mqchat {

inline void name_this_thread(const std::string& name) { pthread_setname_np(pthread_self(), name.substr(0, 15).c_str()); }

}  // namespace mqchat
