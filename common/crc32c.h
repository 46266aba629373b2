#pragma once
// CRC-32C (Castagnoli), the checksum of spool records: the SSE 4.2 instruction where the CPU has
// it (8 bytes per instruction), a table otherwise. zlib's CRC-32 in software was an eighth of the
// plugin's per-message work on the broker thread.
#include <cstddef>
#include <cstdint>

namespace mqchat {

uint32_t crc32c(const void* data, size_t n);

// The two implementations, for tests that check they agree.
uint32_t crc32c_portable(const void* data, size_t n);
bool crc32c_hardware_available();
uint32_t crc32c_hardware(const void* data, size_t n);  // only where crc32c_hardware_available()

}  // namespace mqchat
