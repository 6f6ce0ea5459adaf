#include "llm/glove_embedder.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <queue>

#include <fmt/format.h>

#include "llm/crc32c.h"
#include "llm/kvec_format.h"
#include "llm/word_tokenizer.h"

namespace kasten::llm {
namespace {

static_assert(std::endian::native == std::endian::little, "KVEC float32 rows are read in place");

constexpr std::uint32_t kWinkDim = 100;
constexpr std::uint32_t kWinkCount = 341479;

}  // namespace

Result<std::unique_ptr<GloveEmbedder>> GloveEmbedder::load(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path, MappedFile::Access::kNormal, /*populate=*/true));
    auto corrupt = [&](std::string_view what) {
        return Status::corruption(fmt::format("'{}' is not a valid KVEC file: {}", path, what));
    };
    const std::uint8_t* base = file.data();
    const std::uint64_t size = file.size();
    if (size < 8 || std::memcmp(base, kKvecMagic.data(), 4) != 0) return corrupt("bad magic");
    if (size < kKvecHeaderSize + kKvecTrailerSize) return corrupt(fmt::format("truncated ({} bytes)", size));
    const std::uint32_t version = load_le32(base + kKvecVersionOffset);
    if (version > kKvecVersion) {
        return Status::not_supported(
            fmt::format("'{}' has KVEC format version {}; this build reads up to version {} (re-create it with "
                        "this build's `kasten embeddings import-glove` or upgrade kasten)",
                        path, version, kKvecVersion));
    }
    if (version == 0) return corrupt("format version 0");
    const KvecHeader h = decode_kvec_header(base);
    if (h.header_size != kKvecHeaderSize) return corrupt(fmt::format("header size {}", h.header_size));
    if (h.file_size != size) {
        return corrupt(
            fmt::format("header says {} bytes but the file has {} (truncated or extended)", h.file_size, size));
    }
    if (h.element_type != kKvecElementFloat32) return corrupt(fmt::format("unknown element type {}", h.element_type));
    if (h.dim == 0 || h.dim > kKvecMaxDim) return corrupt(fmt::format("dim {}", h.dim));
    if (h.count == 0) return corrupt("empty vocabulary");
    const std::uint64_t vectors_bytes = static_cast<std::uint64_t>(h.count) * h.dim * sizeof(float);
    if (h.offsets_offset != kKvecHeaderSize || h.strings_offset != h.offsets_offset + 4ULL * (h.count + 1ULL) ||
        h.vectors_offset % kKvecVectorAlignment != 0 || h.vectors_offset < h.strings_offset ||
        h.vectors_offset > size || size - h.vectors_offset != vectors_bytes + kKvecTrailerSize) {
        return corrupt("inconsistent section offsets");
    }
    const std::uint8_t* trailer = base + size - kKvecTrailerSize;
    if (std::memcmp(trailer + 4, kKvecEndMagic.data(), 4) != 0) return corrupt("bad end magic");
    const std::uint32_t stored_crc = load_le32(trailer);
    const std::uint32_t actual_crc = crc32c(base, size - kKvecTrailerSize);
    if (stored_crc != actual_crc) {
        return corrupt(fmt::format("checksum mismatch (stored {:08x}, computed {:08x})", stored_crc, actual_crc));
    }

    std::unique_ptr<GloveEmbedder> e(new GloveEmbedder());
    e->dim_ = h.dim;
    e->count_ = h.count;
    e->offsets_ = reinterpret_cast<const std::uint32_t*>(base + h.offsets_offset);
    e->strings_ = reinterpret_cast<const char*>(base + h.strings_offset);
    e->vectors_ = reinterpret_cast<const float*>(base + h.vectors_offset);
    if (e->offsets_[0] != 0) return corrupt("first word offset is not 0");
    for (std::size_t i = 0; i < e->count_; ++i) {
        if (e->offsets_[i + 1] <= e->offsets_[i]) return corrupt(fmt::format("empty or misordered word at row {}", i));
    }
    if (h.strings_offset + e->offsets_[e->count_] > h.vectors_offset) return corrupt("words overrun the vectors");
    double harmonic = 0.0;
    for (std::size_t r = e->count_; r >= 1; --r) harmonic += 1.0 / static_cast<double>(r);
    e->inv_harmonic_ = 1.0 / harmonic;
    if (h.dim == kWinkDim && h.count == kWinkCount) {
        e->id_ = "glove-6b-100d-sif-v1";
    } else {
        e->id_ = fmt::format("glove-custom-{}d-{}w-{:08x}-sif-v1", h.dim, h.count, stored_crc);
    }
    e->file_ = std::move(file);
    KASTEN_RETURN_IF_ERROR(e->build_index().with_context(path));
    return e;
}

Status GloveEmbedder::build_index() {
    KASTEN_ASSIGN_OR_RETURN(table_, VocabularyTable::build(offsets_, strings_, count_));
    return Status::ok();
}

std::optional<std::size_t> GloveEmbedder::find(std::string_view w) const {
    return table_.find(w);
}

std::string_view GloveEmbedder::word(std::size_t row) const {
    assert(row < count_);
    return {strings_ + offsets_[row], offsets_[row + 1] - offsets_[row]};
}

std::span<const float> GloveEmbedder::vector(std::size_t row) const {
    assert(row < count_);
    return {vectors_ + row * dim_, dim_};
}

double GloveEmbedder::sif_weight(std::size_t row) const {
    const double p = inv_harmonic_ / static_cast<double>(row + 1);
    return kSifA / (kSifA + p);
}

void GloveEmbedder::embed(std::string_view text, std::span<float> out) const {
    assert(out.size() == dim_);
    std::fill(out.begin(), out.end(), 0.0f);
    accumulate(text, out);
    normalize(out, out);
}

void GloveEmbedder::accumulate(std::string_view text, std::span<float> sum) const {
    assert(sum.size() == dim_);
    float* acc = sum.data();
    auto add = [&](std::size_t row) {
        const auto weight = static_cast<float>(sif_weight(row));
        const float* v = vectors_ + row * dim_;
        for (std::size_t d = 0; d < dim_; ++d) acc[d] += weight * v[d];
    };
    // One word behind the lookups: a known word's vector is prefetched when it is found and added after the next
    // word's lookup, so the row's cache misses overlap that lookup. The words are added in text order as before.
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::size_t pending = kNone;
    WordTokenizer tokenizer(text);
    std::string_view w;
    while (tokenizer.next(&w)) {
        const std::optional<std::size_t> row = find(w);
        if (!row) continue;
        const char* bytes = reinterpret_cast<const char*>(vectors_ + *row * dim_);
        for (std::size_t off = 0; off < dim_ * sizeof(float); off += 64) __builtin_prefetch(bytes + off);
        if (pending != kNone) add(pending);
        pending = *row;
    }
    if (pending != kNone) add(pending);
}

std::vector<std::pair<std::size_t, float>> GloveEmbedder::nearest(std::span<const float> query, std::size_t k,
                                                                  std::span<const std::size_t> exclude) const {
    assert(query.size() == dim_);
    double qn2 = 0.0;
    for (float x : query) qn2 += static_cast<double>(x) * x;
    if (k == 0 || qn2 <= 0.0) return {};
    const double qn = std::sqrt(qn2);
    using Scored = std::pair<float, std::size_t>;  // min-heap on score keeps the k best
    std::priority_queue<Scored, std::vector<Scored>, std::greater<>> best;
    for (std::size_t row = 0; row < count_; ++row) {
        if (std::find(exclude.begin(), exclude.end(), row) != exclude.end()) continue;
        const float* v = vectors_ + row * dim_;
        float dot = 0.0f;
        float n2 = 0.0f;
        for (std::size_t d = 0; d < dim_; ++d) {
            dot += v[d] * query[d];
            n2 += v[d] * v[d];
        }
        if (n2 <= 0.0f) continue;
        const auto score = static_cast<float>(dot / (std::sqrt(static_cast<double>(n2)) * qn));
        if (best.size() < k) {
            best.emplace(score, row);
        } else if (score > best.top().first) {
            best.pop();
            best.emplace(score, row);
        }
    }
    std::vector<std::pair<std::size_t, float>> result(best.size());
    for (std::size_t i = result.size(); i-- > 0;) {
        result[i] = {best.top().second, best.top().first};
        best.pop();
    }
    return result;
}

}  // namespace kasten::llm
