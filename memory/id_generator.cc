#include "memory/id_generator.h"

#include <mutex>
#include <random>

namespace kasten::memory {

std::string generate_id(std::string_view prefix) {
    static std::mutex mu;
    static std::mt19937_64 rng = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();
    std::uint64_t v;
    {
        std::lock_guard<std::mutex> lock(mu);
        v = rng();
    }
    static const char* kHex = "0123456789abcdef";
    std::string id(prefix);
    for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(v >> shift) & 15]);
    return id;
}

}  // namespace kasten::memory
