#pragma once

#include <cstddef>
#include <cstdint>

#include "llm/dot_kernels.h"

namespace kasten::llm {

// Kernels of the compressed KV caches: attention scores and value accumulation over F16 rows and over KIVI
// quantized blocks, with dequantisation fused into the products. Three implementations, chosen at run time:
// `scalar` (the reference), `avx2` (AVX2 + FMA + F16C, compiled with target attributes) and `avx512` (AVX-512
// F/BW/VL/DQ + VNNI, compiled with per-file flags; only intrinsics and internal-linkage code, so no inline function
// built for AVX-512 can be shared with other files). Integer sums are identical in all; they differ only by float
// summation order. Pure functions; thread-safe.
//
// Quantisation is asymmetric min/max: a run of values stores f16 (scale, min) and x ≈ min + scale · code, codes
// `bits` ∈ {2, 4, 8} wide.
//
// Value runs (one token's channels) pack n codes (n · bits a multiple of 64) into m = n · bits / 8 bytes: code i
// sits in byte i mod m at bit bits · (i div m), so eight consecutive codes are one 8-byte load, a shift and a mask.
//
// Key groups (kKvKeyGroup tokens × dim channels, dim a multiple of 4, quantized per channel) are laid out for
// integer dot products over channel quads: unpacked, byte u = ((d / 4) · 32 + c) · 4 + d mod 4 holds channel d of
// token c, so 32 bytes are 8 tokens × 4 channels (one u8×s8 multiply-add of a quad per token); block j of 32
// unpacked bytes is stored in packed block j div f at bit bits · (j mod f), f = 8 / bits. Their (scale, min)
// are two arrays: scales[dim], then mins[dim].

// Tokens per quantized key group (keys are quantized per channel over this many tokens).
inline constexpr int kKvKeyGroup = 32;

// Packed bytes of n codes of `bits`.
constexpr std::size_t kv_packed_bytes(std::size_t n, int bits) {
    return n * static_cast<std::size_t>(bits) / 8;
}

// Code i of a packed value run of n codes.
inline unsigned kv_unpack_code(const std::uint8_t* packed, std::size_t n, int bits, std::size_t i) {
    const std::size_t m = kv_packed_bytes(n, bits);
    return (packed[i % m] >> (bits * (i / m))) & ((1u << bits) - 1u);
}

// Code of channel d, token c of a packed key group.
inline unsigned kv_key_code(const std::uint8_t* codes, int bits, std::size_t d, std::size_t c) {
    const std::size_t u = ((d / 4) * kKvKeyGroup + c) * 4 + d % 4;
    const std::size_t j = u / 32, f = static_cast<std::size_t>(8 / bits);
    return (codes[(j / f) * 32 + u % 32] >> (bits * (j % f))) & ((1u << bits) - 1u);
}

// Quantizes n values x[i · stride] to a packed value run (kv_packed_bytes(n, bits) bytes) and its (scale, min)
// pair, both rounded to f16 before the codes are chosen, so decoding with the stored pair is the closest level.
// REQUIRES: bits ∈ {2, 4, 8}; n · bits a multiple of 8. Non-finite values (restored from a damaged snapshot, or an
// activation that overflowed) are quantized without undefined behaviour but to no meaningful level: a NaN gets code 0.
void kv_quantize_run(const float* x, std::size_t n, std::size_t stride, int bits, std::uint8_t* packed,
                     std::uint16_t* params);
// Quantizes a key group, keys[c · dim + d] for c < kKvKeyGroup, per channel: codes (kv_packed_bytes(32 · dim,
// bits) bytes) and params (2 · dim f16). REQUIRES: dim a multiple of 4; bits ∈ {2, 4, 8}. Non-finite keys as in
// kv_quantize_run().
void kv_quantize_key_group(const float* keys, std::size_t dim, int bits, std::uint8_t* codes, std::uint16_t* params);

// The integer query of key_group_scores for one query: qi (dim values), a, and base = Σ_d q_d · min_d +
// mid · Σ_d (q_d · scale_d − a · qi_d), mid = (2^bits − 1) / 2: the rounding of the folded query then only
// weighs codes' distance from the middle level. A channel whose q_d · scale_d · 127 / amax is NaN (non-finite
// scales) gets qi_d = 0; the scores are then meaningless but defined.
void kv_key_query(const float* q, const std::uint16_t* params, int bits, std::size_t dim, std::int8_t* qi, float* a,
                  float* base);

struct KvKernels {
    // out[c] = scale · q · row_c for c < n_rows; rows are f16, `dim` values each, contiguous.
    void (*dot_rows_f16)(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                         float* out);
    // out[d] += Σ_c p[c] · row_c[d] for d < dim; rows f16.
    void (*accumulate_rows_f16)(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim,
                                float* out);
    // Scores of n_q queries (query i at q + i · q_stride) against one key group, written to
    // out[i · out_stride + c], c < kKvKeyGroup: scale · (base + a · Σ_d qi_d · code_{d,c}) with qi, a and base
    // from kv_key_query(): the query folded with the channel scales, q_d · scale_d, rounded to integers of at most
    // ±127 in units of a = max_d |q_d · scale_d| / 127. The integer sums are exact; AVX2 splits 8-bit codes into
    // nibbles so its pairwise u8×s8 sums cannot saturate.
    void (*key_group_scores)(const float* q, int n_q, std::size_t q_stride, const std::uint8_t* codes,
                             const std::uint16_t* params, int bits, std::size_t dim, float scale, float* out,
                             std::size_t out_stride);
    // Quantized values: row c's codes at codes + c · row_bytes, in runs of `group` channels (run g at
    // g · kv_packed_bytes(group, bits)), its (scale, min) pairs at params + c · params_stride (pair g at 2g). For
    // n_q weight vectors (p + i · p_stride) and the channels [ch0, ch0 + dim) of the rows:
    // out[i · out_stride + d] += Σ_c p_i[c] · (min_{c,g} + scale_{c,g} · code_{c,ch0+d}).
    void (*accumulate_values)(const float* p, std::size_t p_stride, int n_q, std::size_t n_rows,
                              const std::uint8_t* codes, std::size_t row_bytes, const std::uint16_t* params,
                              std::size_t params_stride, int bits, std::size_t group, std::size_t ch0, std::size_t dim,
                              float* out, std::size_t out_stride);
};

// The kernels of `isa` (a level the CPU runs, kernel_isa_supported()): the same levels as the weight kernels, so
// KASTEN_KERNEL_ISA (best_kernel_isa()) picks both; kAvx512Vnni gives the AVX-512 kernels.
const KvKernels& kv_kernels(KernelIsa isa);

namespace scalar {
void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out);
void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out);
void key_group_scores(const float* q, int n_q, std::size_t q_stride, const std::uint8_t* codes,
                      const std::uint16_t* params, int bits, std::size_t dim, float scale, float* out,
                      std::size_t out_stride);
void accumulate_values(const float* p, std::size_t p_stride, int n_q, std::size_t n_rows, const std::uint8_t* codes,
                       std::size_t row_bytes, const std::uint16_t* params, std::size_t params_stride, int bits,
                       std::size_t group, std::size_t ch0, std::size_t dim, float* out, std::size_t out_stride);
}  // namespace scalar

namespace avx2 {
void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out);
void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out);
void key_group_scores(const float* q, int n_q, std::size_t q_stride, const std::uint8_t* codes,
                      const std::uint16_t* params, int bits, std::size_t dim, float scale, float* out,
                      std::size_t out_stride);
void accumulate_values(const float* p, std::size_t p_stride, int n_q, std::size_t n_rows, const std::uint8_t* codes,
                       std::size_t row_bytes, const std::uint16_t* params, std::size_t params_stride, int bits,
                       std::size_t group, std::size_t ch0, std::size_t dim, float* out, std::size_t out_stride);
}  // namespace avx2

namespace avx512 {
void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out);
void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out);
void key_group_scores(const float* q, int n_q, std::size_t q_stride, const std::uint8_t* codes,
                      const std::uint16_t* params, int bits, std::size_t dim, float scale, float* out,
                      std::size_t out_stride);
void accumulate_values(const float* p, std::size_t p_stride, int n_q, std::size_t n_rows, const std::uint8_t* codes,
                       std::size_t row_bytes, const std::uint16_t* params, std::size_t params_stride, int bits,
                       std::size_t group, std::size_t ch0, std::size_t dim, float* out, std::size_t out_stride);
}  // namespace avx512

}  // namespace kasten::llm
