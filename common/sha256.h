#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kasten {

// Incremental SHA-256 (FIPS 180-4). Used for content hashes and data-file fingerprints.
//
// The block function runs on the CPU's SHA extensions (SHA-NI) where it has them, else in portable C++; both give
// the same digests (tested against each other and the FIPS vectors).
class Sha256 {
  public:
    enum class Engine { kBest, kPortable };  // kPortable: the C++ block function even where SHA-NI exists
    explicit Sha256(Engine engine = Engine::kBest);
    // Whether kBest uses the SHA extensions on this CPU.
    static bool accelerated();
    void update(const void* data, std::size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // Finishes the digest; the object must not be updated afterwards.
    std::array<std::uint8_t, 32> digest();
    // Lower-case hex of digest().
    std::string hex_digest();

    static std::string hex(std::string_view data);

  private:
    // Runs the block function over `blocks` consecutive 64-byte blocks at `p`.
    void compress(const std::uint8_t* p, std::size_t blocks);
    void compress_portable(const std::uint8_t* block);
    std::array<std::uint32_t, 8> h_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffer_len_ = 0;
    std::uint64_t total_len_ = 0;
    bool use_sha_ni_ = false;
};

}  // namespace kasten
