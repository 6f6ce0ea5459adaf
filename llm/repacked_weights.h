#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "llm/dot_kernels.h"
#include "llm/quant_blocks.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// Q8_0 and Q4_0 weight rows repacked at load into groups of kRepackRows rows, so that one pass of 512-bit VNNI
// products covers a whole group: for every 32-value block index b, the group stores the rows' quants interleaved
// in 4-byte chunks (lane r of a 64-byte vector holds 4 consecutive quants of row r) and the rows' 16 scales side
// by side. A kernel then keeps one int32 and one float lane per row and never reduces horizontally; its result is
// the 16 rows' dot products in one vector.
//
// Layout of group g (all of it contiguous, 64-byte aligned): n_blocks quant slabs, then n_blocks scale slabs,
// padded to a multiple of 64 bytes.
//  - Q8_0 slab (512 bytes): byte 64k + 4r + i = quant 4k + i of row r, plus 128 (stored unsigned), k < 8.
//  - Q4_0 slab (256 bytes): byte 64j + 4r + i = byte 4j + i of row r's block (low nibble: quant 4j + i, high
//    nibble: quant 16 + 4j + i, unsigned 0..15), j < 4.
//  - scale slab (32 bytes): the 16 rows' f16 block scales.
// Integer sums are exact, so a repacked product equals scalar::dot_q8_0_q8_0 / dot_q4_0_q8_0 of the original row
// up to float summation order.
inline constexpr int kRepackRows = 16;
// How far ahead of the quants being multiplied the group kernels prefetch the weights (bytes): the stream is
// sequential, and the hardware prefetcher alone leaves the core waiting on L3/DRAM (4 KiB measured best of 1-8 KiB
// on one core).
inline constexpr std::size_t kRepackPrefetchBytes = 4096;

// Activation rows quantized to Q8_0 with their per-block scales as floats and quant sums (Σ of the 32 int8
// quants), which the repacked kernels use for the unsigned offset of the weights: row t's block b is
// blocks[t · n_blocks + b], scales[t · n_blocks + b], sums[t · n_blocks + b].
struct Q8_0Rows {
    const BlockQ8_0* blocks = nullptr;
    const float* scales = nullptr;
    const std::int32_t* sums = nullptr;
    std::size_t n_blocks = 0;
};

// One group's product with n_tokens activation rows starting at row t0 of x:
// y[t · y_stride + i] = row i of the group · activation row t0 + t, for i < kRepackRows, t < n_tokens.
using RepackedGroupFn = void (*)(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y,
                                 int y_stride);

// The repacked copy of a Q8_0 or Q4_0 matrix's full row groups (rows / kRepackRows of them; the remaining rows
// are not copied). Owns its bytes; copies share them. Immutable; thread-safe.
class RepackedWeights {
  public:
    RepackedWeights() = default;
    // Whether `type` has a repacked layout (Q8_0, Q4_0).
    static bool supports(TensorType type);
    // Repacks rows [0, groups · kRepackRows) of `rows` rows of `cols` values (row r at data + r · row_stride).
    // REQUIRES: supports(type), cols a multiple of 32.
    static RepackedWeights pack(TensorType type, const std::uint8_t* data, std::size_t row_stride, int rows, int cols);

    bool empty() const { return groups_ == 0; }
    int groups() const { return groups_; }
    TensorType type() const { return type_; }
    std::size_t group_bytes() const { return group_bytes_; }
    const std::uint8_t* group(int g) const { return data_.get() + static_cast<std::size_t>(g) * group_bytes_; }

    // y[t · y_stride + r] = row r · activation row t for the rows of groups [g_begin, g_end) and t < n_tokens,
    // with `fn` (scalar::repacked_group(type()) or a faster kernel of the same contract).
    void multiply(RepackedGroupFn fn, const Q8_0Rows& x, int n_tokens, float* y, int y_stride, int g_begin,
                  int g_end) const;

  private:
    TensorType type_ = TensorType::kQ8_0;
    int groups_ = 0;
    std::size_t group_bytes_ = 0;
    std::shared_ptr<std::uint8_t> data_;
};

// Whether a model at kernel level `isa` keeps repacked copies (the AVX-512 levels, and AVX2 on a CPU with AVX-VNNI).
bool repacks_at(KernelIsa isa);
// The repacked group kernel for `type` (Q8_0 or Q4_0) at level `isa` (which the CPU runs): the AMX kernel at
// kAvx512Amx, the VNNI kernel at kAvx512Vnni, the AVX-VNNI kernel at kAvx2 where the CPU has it, the scalar
// reference otherwise.
RepackedGroupFn repacked_group_kernel(TensorType type, KernelIsa isa);

namespace scalar {
// Reference kernels of the repacked layout (RepackedGroupFn contract).
void repacked_group_q8_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
void repacked_group_q4_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
}  // namespace scalar

namespace avx512 {
// AVX-512 F/BW/VL + VNNI kernels (RepackedGroupFn contract); call only when avx512_vnni_supported().
void repacked_group_q8_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
void repacked_group_q4_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
}  // namespace avx512

namespace avxvnni {
// AVX2 + AVX-VNNI (256-bit) kernels (RepackedGroupFn contract): each 16-row group as two halves of 8 rows; call only
// when avx_vnni_supported().
void repacked_group_q8_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
void repacked_group_q4_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
}  // namespace avxvnni

namespace amx {
// AMX int8 kernels (RepackedGroupFn contract): 16 tokens at a time on tiles, the rest with the avx512 kernels;
// call only when amx_int8_supported().
void repacked_group_q8_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
void repacked_group_q4_0(const std::uint8_t* group, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride);
}  // namespace amx

}  // namespace kasten::llm
