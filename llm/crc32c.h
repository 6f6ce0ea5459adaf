#pragma once

#include <cstddef>
#include <cstdint>

namespace kasten::llm {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
// crc32c("123456789") == 0xE3069283. Used as the KVEC file checksum: fast enough (SSE4.2 when the
// build targets it) to verify a 140 MB file on every load.

// Returns the CRC of the concatenation A+B given crc = CRC(A) and the bytes of B. CRC("") == 0.
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

inline std::uint32_t crc32c(const void* data, std::size_t size) {
    return crc32c_extend(0, data, size);
}

// Table-driven reference implementation with the same results; used when SSE4.2 is unavailable.
std::uint32_t crc32c_extend_portable(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace kasten::llm
