#include "llm/repacked_weights.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "llm/f16.h"

namespace kasten::llm {
namespace {

constexpr std::size_t kScaleSlab = kRepackRows * sizeof(std::uint16_t);

std::size_t quant_slab(TensorType type) {
    return type == TensorType::kQ8_0 ? 8 * 4 * kRepackRows : 4 * 4 * kRepackRows;
}

// Repacked matrices are carved out of 32 MiB chunks backed by transparent huge pages where the kernel allows
// them (madvise): a decode step streams every matrix once, and 4 KiB pages cost a TLB miss and a stop of the
// hardware prefetcher every 4 KiB. A chunk is freed when the last matrix in it is; the arena only remembers the
// chunk it is filling, weakly.
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kChunkBytes = std::size_t{32} << 20;

std::shared_ptr<std::uint8_t> huge_page_block(std::size_t bytes) {
    bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    auto* p = static_cast<std::uint8_t*>(std::aligned_alloc(kHugePage, bytes));
    if (p == nullptr) return nullptr;
    madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without THP the block simply keeps 4 KiB pages
    return std::shared_ptr<std::uint8_t>(p, &std::free);
}

std::shared_ptr<std::uint8_t> allocate_packed(std::size_t bytes) {
    static std::mutex mu;
    static std::weak_ptr<std::uint8_t> chunk;
    static std::size_t used = 0;
    if (bytes > kChunkBytes / 4) return huge_page_block(bytes);
    std::lock_guard<std::mutex> lock(mu);
    std::shared_ptr<std::uint8_t> c = chunk.lock();
    if (c == nullptr || used + bytes > kChunkBytes) {
        c = huge_page_block(kChunkBytes);
        if (c == nullptr) return nullptr;
        chunk = c;
        used = 0;
    }
    std::shared_ptr<std::uint8_t> piece(c, c.get() + used);  // shares the chunk's ownership
    used += (bytes + 63) / 64 * 64;
    return piece;
}

}  // namespace

bool RepackedWeights::supports(TensorType type) {
    return type == TensorType::kQ8_0 || type == TensorType::kQ4_0;
}

RepackedWeights RepackedWeights::pack(TensorType type, const std::uint8_t* data, std::size_t row_stride, int rows,
                                      int cols) {
    RepackedWeights w;
    w.type_ = type;
    w.groups_ = rows / kRepackRows;
    if (w.groups_ == 0) return w;
    const std::size_t nb = static_cast<std::size_t>(cols) / kQk8_0;
    const std::size_t slab = quant_slab(type);
    w.group_bytes_ = (nb * (slab + kScaleSlab) + 63) / 64 * 64;
    const std::size_t total = w.group_bytes_ * static_cast<std::size_t>(w.groups_);
    w.data_ = allocate_packed(total);
    if (w.data_ == nullptr) throw std::bad_alloc();
    std::memset(w.data_.get(), 0, total);
    for (int g = 0; g < w.groups_; ++g) {
        std::uint8_t* out = w.data_.get() + static_cast<std::size_t>(g) * w.group_bytes_;
        auto* scales = reinterpret_cast<std::uint16_t*>(out + nb * slab);
        for (int r = 0; r < kRepackRows; ++r) {
            const std::uint8_t* row = data + static_cast<std::size_t>(g * kRepackRows + r) * row_stride;
            for (std::size_t b = 0; b < nb; ++b) {
                std::uint8_t* q = out + b * slab;
                if (type == TensorType::kQ8_0) {
                    BlockQ8_0 blk;
                    std::memcpy(&blk, row + b * sizeof(BlockQ8_0), sizeof blk);
                    scales[b * kRepackRows + r] = blk.d;
                    for (int k = 0; k < 8; ++k) {
                        for (int i = 0; i < 4; ++i) {
                            q[64 * k + 4 * r + i] = static_cast<std::uint8_t>(blk.qs[4 * k + i]) ^ 0x80u;
                        }
                    }
                } else {
                    BlockQ4_0 blk;
                    std::memcpy(&blk, row + b * sizeof(BlockQ4_0), sizeof blk);
                    scales[b * kRepackRows + r] = blk.d;
                    for (int j = 0; j < 4; ++j) {
                        for (int i = 0; i < 4; ++i) q[64 * j + 4 * r + i] = blk.qs[4 * j + i];
                    }
                }
            }
        }
    }
    return w;
}

void RepackedWeights::multiply(RepackedGroupFn fn, const Q8_0Rows& x, int n_tokens, float* y, int y_stride, int g_begin,
                               int g_end) const {
    for (int g = g_begin; g < g_end; ++g) fn(group(g), x, 0, n_tokens, y + g * kRepackRows, y_stride);
}

bool repacks_at(KernelIsa isa) {
    return isa == KernelIsa::kAvx512Vnni || isa == KernelIsa::kAvx512Amx ||
           (isa == KernelIsa::kAvx2 && avx_vnni_supported());
}

RepackedGroupFn repacked_group_kernel(TensorType type, KernelIsa isa) {
    const bool q8 = type == TensorType::kQ8_0;
    if (!q8 && type != TensorType::kQ4_0) return nullptr;
    switch (isa) {
        case KernelIsa::kAvx512Amx:
            return q8 ? &amx::repacked_group_q8_0 : &amx::repacked_group_q4_0;
        case KernelIsa::kAvx512Vnni:
            return q8 ? &avx512::repacked_group_q8_0 : &avx512::repacked_group_q4_0;
        case KernelIsa::kAvx2:
            if (avx_vnni_supported()) return q8 ? &avxvnni::repacked_group_q8_0 : &avxvnni::repacked_group_q4_0;
            return q8 ? &scalar::repacked_group_q8_0 : &scalar::repacked_group_q4_0;
        default:
            return q8 ? &scalar::repacked_group_q8_0 : &scalar::repacked_group_q4_0;
    }
}

namespace scalar {
namespace {

// Σ over the block of (unsigned weight quant) · (activation quant), per row, from a repacked slab; `offset` is
// the unsigned offset of the stored quants (128 for Q8_0, 8 for Q4_0), removed through the activation's sum.
template <TensorType kType>
void repacked_group(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    const std::size_t nb = x.n_blocks;
    const std::size_t slab = quant_slab(kType);
    const auto* scales = reinterpret_cast<const std::uint16_t*>(group + nb * slab);
    const int offset = kType == TensorType::kQ8_0 ? 128 : 8;
    for (int t = 0; t < n_tokens; ++t) {
        const std::size_t row = static_cast<std::size_t>(t0 + t) * nb;
        float acc[kRepackRows] = {};
        for (std::size_t b = 0; b < nb; ++b) {
            const std::int8_t* a = x.blocks[row + b].qs;
            const std::uint8_t* q = group + b * slab;
            for (int r = 0; r < kRepackRows; ++r) {
                std::int32_t s = -offset * x.sums[row + b];
                if constexpr (kType == TensorType::kQ8_0) {
                    for (int k = 0; k < 8; ++k) {
                        for (int i = 0; i < 4; ++i) s += q[64 * k + 4 * r + i] * a[4 * k + i];
                    }
                } else {
                    for (int j = 0; j < 4; ++j) {
                        for (int i = 0; i < 4; ++i) {
                            const std::uint8_t v = q[64 * j + 4 * r + i];
                            s += (v & 0x0F) * a[4 * j + i] + (v >> 4) * a[16 + 4 * j + i];
                        }
                    }
                }
                const float d = f16_to_f32(scales[b * kRepackRows + r]) * x.scales[row + b];
                acc[r] += static_cast<float>(s) * d;
            }
        }
        for (int r = 0; r < kRepackRows; ++r) y[static_cast<std::size_t>(t) * y_stride + r] = acc[r];
    }
}

}  // namespace

void repacked_group_q8_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    repacked_group<TensorType::kQ8_0>(group, x, t0, n_tokens, y, y_stride);
}

void repacked_group_q4_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    repacked_group<TensorType::kQ4_0>(group, x, t0, n_tokens, y, y_stride);
}

}  // namespace scalar
}  // namespace kasten::llm
