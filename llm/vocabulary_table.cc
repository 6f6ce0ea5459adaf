#include "llm/vocabulary_table.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "llm/stable_hash.h"

namespace kasten::llm {
namespace {

std::uint64_t word_hash(std::string_view word) {
    return mix64(fnv1a64(word));
}

}  // namespace

VocabularyTable::Slot VocabularyTable::slot_of(std::string_view word, std::size_t row) {
    Slot s;
    s.row_plus_one = static_cast<std::uint32_t>(row + 1);
    s.length = static_cast<std::uint8_t>(std::min<std::size_t>(word.size(), 255));
    std::memcpy(s.prefix, word.data(), std::min(word.size(), kInlineBytes));
    return s;
}

Result<VocabularyTable> VocabularyTable::build(const std::uint32_t* offsets, const char* strings, std::size_t count) {
    VocabularyTable t;
    t.offsets_ = offsets;
    t.strings_ = strings;
    t.count_ = count;
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, count * 2));
    t.slots_.assign(capacity, Slot{});
    t.mask_ = capacity - 1;
    for (std::size_t row = 0; row < count; ++row) {
        const std::string_view w = t.word(row);
        std::uint64_t i = word_hash(w) & t.mask_;
        while (t.slots_[i].row_plus_one != 0) {
            const std::size_t other = t.slots_[i].row_plus_one - 1;
            if (t.word(other) == w) {
                return Status::corruption(fmt::format("duplicate word '{}' at rows {} and {}", w, other, row));
            }
            i = (i + 1) & t.mask_;
        }
        t.slots_[i] = slot_of(w, row);
    }
    return t;
}

std::optional<std::size_t> VocabularyTable::find(std::string_view w) const {
    if (slots_.empty()) return std::nullopt;
    const Slot key = slot_of(w, 0);
    const std::size_t inline_bytes = std::min(w.size(), kInlineBytes);
    std::uint64_t i = word_hash(w) & mask_;
    for (;;) {
        const Slot& s = slots_[i];
        if (s.row_plus_one == 0) return std::nullopt;
        if (s.length == key.length && std::memcmp(s.prefix, key.prefix, kInlineBytes) == 0) {
            const std::size_t row = s.row_plus_one - 1;
            if (w.size() == inline_bytes || word(row) == w) return row;
        }
        i = (i + 1) & mask_;
    }
}

}  // namespace kasten::llm
