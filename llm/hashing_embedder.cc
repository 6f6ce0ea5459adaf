#include "llm/hashing_embedder.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "llm/english_stopwords.h"
#include "llm/stable_hash.h"
#include "llm/word_tokenizer.h"

namespace kasten::llm {
namespace {

// Feature families, stored in the low two bits of a feature key.
enum Family : std::uint64_t { kUnigram = 0, kStopUnigram = 1, kBigram = 2, kTrigram = 3 };

constexpr std::array<float, 4> kFamilyWeight = {1.0f, 0.2f, 0.5f, 0.35f};
constexpr std::uint8_t kBigramSeparator = 0x1F;

std::uint64_t feature_key(std::uint64_t fnv_state, Family family) {
    return (mix64(fnv_state) & ~3ULL) | family;
}

}  // namespace

HashingEmbedder::HashingEmbedder(int dim) : dim_(dim) {
    assert(dim >= 1 && dim <= kMaxDim);
}

std::string HashingEmbedder::id() const {
    return fmt::format("hashing-v1-{}", dim_);
}

void HashingEmbedder::embed(std::string_view text, std::span<float> out) const {
    assert(out.size() == static_cast<std::size_t>(dim_));
    std::fill(out.begin(), out.end(), 0.0f);
    accumulate(text, out);
    normalize(out, out);
}

void HashingEmbedder::accumulate(std::string_view text, std::span<float> out) const {
    assert(out.size() == static_cast<std::size_t>(dim_));

    thread_local std::vector<std::uint64_t> features;
    features.clear();

    WordTokenizer tokenizer(text);
    std::string_view word;
    bool have_prev = false;
    bool prev_stop = false;
    std::uint64_t prev_bigram_state = 0;  // FNV state after 'b', the previous word and the separator
    while (tokenizer.next(&word)) {
        const bool stop = is_english_stopword(word);
        const std::uint64_t unigram = fnv1a64_extend(fnv1a64_byte(kFnv1a64Offset, 'u'), word);
        features.push_back(feature_key(unigram, stop ? kStopUnigram : kUnigram));

        if (have_prev && !(prev_stop && stop)) {
            features.push_back(feature_key(fnv1a64_extend(prev_bigram_state, word), kBigram));
        }
        prev_bigram_state = fnv1a64_byte(fnv1a64_extend(fnv1a64_byte(kFnv1a64Offset, 'b'), word), kBigramSeparator);
        have_prev = true;
        prev_stop = stop;

        if (!stop) {
            // Trigrams of "<word>": padded length n + 2 gives n trigrams.
            const std::size_t n = word.size();
            auto padded = [&](std::size_t j) -> std::uint8_t {
                if (j == 0) return '<';
                if (j == n + 1) return '>';
                return static_cast<std::uint8_t>(word[j - 1]);
            };
            const std::uint64_t base = fnv1a64_byte(kFnv1a64Offset, 'c');
            for (std::size_t i = 0; i < n; ++i) {
                std::uint64_t h = fnv1a64_byte(base, padded(i));
                h = fnv1a64_byte(h, padded(i + 1));
                h = fnv1a64_byte(h, padded(i + 2));
                features.push_back(feature_key(h, kTrigram));
            }
        }
    }
    if (features.empty()) return;

    // Sorting groups equal features (for tf) and fixes the summation order (bitwise determinism).
    std::sort(features.begin(), features.end());
    const auto dim = static_cast<std::uint64_t>(dim_);
    for (std::size_t i = 0; i < features.size();) {
        std::size_t j = i + 1;
        while (j < features.size() && features[j] == features[i]) ++j;
        const std::uint64_t key = features[i];
        const auto tf = static_cast<double>(j - i);
        const float weight = kFamilyWeight[key & 3ULL] * static_cast<float>(1.0 + std::log(tf));
        const std::uint64_t bucket = ((key >> 32) * dim) >> 32;
        out[bucket] += ((key >> 2) & 1ULL) ? -weight : weight;
        i = j;
    }
}

}  // namespace kasten::llm
