#include "common/keyed_hash.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace mqchat {

uint64_t random_hash_secret() {
  uint64_t secret;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&secret), sizeof secret) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return secret;
}

}  // namespace mqchat
