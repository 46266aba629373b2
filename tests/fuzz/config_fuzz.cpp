// Fuzz target: the config loader. Any text either loads or is refused with a ConfigError naming
// the problem; nothing else escapes (a bad config must stop the broker with a message, not a crash).
#include <cstdlib>
#include <string>

#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    mqchat::load_config_text(text, "/nonexistent");
  } catch (const mqchat::ConfigError& e) {
    if (std::string(e.what()).empty()) abort();
  }
  return 0;
}
