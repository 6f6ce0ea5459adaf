#include "memory/id_generator.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace kasten::memory {

std::string generate_id(std::string_view prefix) {
    static std::mutex mu;
    static std::uint64_t last = 0;
    static std::uint64_t counter = [] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32 | rd()) & 0xFFFFF;
    }();
    std::uint64_t v;
    {
        std::lock_guard<std::mutex> lock(mu);
        const auto ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
        counter = (counter + 1) & 0xFFFFF;
        v = ((ms & 0xFFFFFFFFFFFULL) << 20) | counter;
        if (v <= last) v = last + 1;  // monotonic even if the clock steps back or the counter wraps within a ms
        last = v;
    }
    static const char* kHex = "0123456789abcdef";
    std::string id(prefix);
    for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(v >> shift) & 15]);
    return id;
}

}  // namespace kasten::memory
