#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kasten {

// Incremental SHA-256 (FIPS 180-4). Used for content hashes and data-file fingerprints.
class Sha256 {
  public:
    Sha256();
    void update(const void* data, std::size_t size);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // Finishes the digest; the object must not be updated afterwards.
    std::array<std::uint8_t, 32> digest();
    // Lower-case hex of digest().
    std::string hex_digest();

    static std::string hex(std::string_view data);

  private:
    void compress(const std::uint8_t* block);
    std::array<std::uint32_t, 8> h_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffer_len_ = 0;
    std::uint64_t total_len_ = 0;
};

}  // namespace kasten
