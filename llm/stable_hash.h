#pragma once

#include <cstdint>
#include <string_view>

namespace kasten::llm {

// Stable 64-bit hashing for feature hashing and vocabulary tables. The values are part of persisted
// formats (hashing embedder vectors), so they must never change: FNV-1a 64 over bytes, optionally
// finished with the splitmix64 finalizer. Independent of platform, endianness and process.

inline constexpr std::uint64_t kFnv1a64Offset = 0xcbf29ce484222325ULL;
inline constexpr std::uint64_t kFnv1a64Prime = 0x00000100000001b3ULL;

// Feeds one byte into an FNV-1a 64 state.
constexpr std::uint64_t fnv1a64_byte(std::uint64_t state, std::uint8_t byte) {
    return (state ^ byte) * kFnv1a64Prime;
}

// Feeds bytes into an FNV-1a 64 state.
constexpr std::uint64_t fnv1a64_extend(std::uint64_t state, std::string_view bytes) {
    for (char c : bytes) state = fnv1a64_byte(state, static_cast<std::uint8_t>(c));
    return state;
}

// FNV-1a 64 of bytes; fnv1a64("") == kFnv1a64Offset.
constexpr std::uint64_t fnv1a64(std::string_view bytes) {
    return fnv1a64_extend(kFnv1a64Offset, bytes);
}

// splitmix64 finalizer: a bijective avalanche mix, so every output bit depends on every input bit.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

}  // namespace kasten::llm
