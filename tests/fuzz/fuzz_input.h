#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

// Helpers shared by the libFuzzer targets in tests/fuzz (each defines LLVMFuzzerTestOneInput). A target checks
// the properties its code promises with KASTEN_FUZZ_CHECK: a failed check aborts, which libFuzzer and the corpus
// replay (fuzz_replay) report as a crash.
namespace kasten::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Splits the input: its first byte (0 when empty) picks a variant, the rest is the text.
struct Selected {
    std::uint8_t selector = 0;
    std::string_view text;
};
inline Selected select(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return {};
    return {data[0], as_text(data + 1, size - 1)};
}

}  // namespace kasten::fuzz

#define KASTEN_FUZZ_CHECK(cond)                                                             \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            __builtin_printf("fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)
