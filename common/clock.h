#pragma once
#include <cstdint>
#include <string>

namespace mqchat {

// Microseconds since the Unix epoch (wall clock).
int64_t now_unix_us();

// RFC 3339, UTC, microseconds: 2026-11-24T18:19:38.123456Z (the format SQL's mqchat_ts() gives).
std::string rfc3339_utc(int64_t unix_us);

}  // namespace mqchat
