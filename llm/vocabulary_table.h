#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::llm {

// Exact word -> row lookup over a vocabulary stored as KVEC lays it out (llm/kvec_format.h): word r is
// strings[offsets[r] .. offsets[r + 1]).
//
// Open addressing with linear probing over 16-byte slots that hold the row, the word's length and its first
// kInlineBytes bytes, four to a cache line: a lookup of a word of up to kInlineBytes bytes touches one slot line
// and never the word storage; a longer word is compared in full only when its length and first bytes match. The
// slots of frequent words stay in the CPU caches, so the table acts as its own memo of them.
//
// Immutable after build(); find() is thread-safe. The views passed to build() must outlive the table.
class VocabularyTable {
  public:
    static constexpr std::size_t kInlineBytes = 11;

    VocabularyTable() = default;
    // kCorruption naming the rows when a word occurs twice.
    [[nodiscard]] static Result<VocabularyTable> build(const std::uint32_t* offsets, const char* strings,
                                                       std::size_t count);

    // The row of `word` (exact bytes), or nullopt.
    std::optional<std::size_t> find(std::string_view word) const;
    std::size_t size() const { return count_; }

  private:
    struct Slot {
        std::uint32_t row_plus_one = 0;  // 0: empty
        std::uint8_t length = 0;         // min(word length, 255)
        char prefix[kInlineBytes] = {};  // the word's first bytes, zero-padded
    };
    static_assert(sizeof(Slot) == 16);

    static Slot slot_of(std::string_view word, std::size_t row);
    std::string_view word(std::size_t row) const {
        return {strings_ + offsets_[row], offsets_[row + 1] - offsets_[row]};
    }

    const std::uint32_t* offsets_ = nullptr;
    const char* strings_ = nullptr;
    std::size_t count_ = 0;
    std::vector<Slot> slots_;
    std::uint64_t mask_ = 0;
};

}  // namespace kasten::llm
