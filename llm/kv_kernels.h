#pragma once

#include <cstddef>
#include <cstdint>

#include "llm/dot_kernels.h"

namespace kasten::llm {

// Kernels of the compressed KV caches: attention scores and value accumulation over F16 rows and over KIVI
// quantized blocks, with dequantisation fused into the products. Two implementations: `scalar` (the reference)
// and `avx2` (AVX2 + FMA + F16C, compiled with target attributes; call only when avx2_supported()). They
// differ only by float summation order. Pure functions; thread-safe.
//
// Quantized codes are packed `bits` ∈ {2, 4, 8} wide in runs of n codes (n · bits a multiple of 64): with
// m = n · bits / 8 bytes, code i sits in byte i mod m at bit bits · (i div m), so a SIMD lane block of eight
// consecutive codes is one 8-byte load, a shift and a mask. Quantisation is asymmetric min/max: a run of values
// stores f16 (scale, min) and x ≈ min + scale · code.

// Tokens per quantized key group (keys are quantized per channel over this many tokens).
inline constexpr int kKvKeyGroup = 32;

// Packed bytes of n codes of `bits`.
constexpr std::size_t kv_packed_bytes(std::size_t n, int bits) {
    return n * static_cast<std::size_t>(bits) / 8;
}

// Code i of a packed run of n codes.
inline unsigned kv_unpack_code(const std::uint8_t* packed, std::size_t n, int bits, std::size_t i) {
    const std::size_t m = kv_packed_bytes(n, bits);
    return (packed[i % m] >> (bits * (i / m))) & ((1u << bits) - 1u);
}

// Quantizes n values x[i · stride] to a packed run (kv_packed_bytes(n, bits) bytes) and its (scale, min) pair,
// both rounded to f16 before the codes are chosen, so decoding with the stored pair is the closest level.
// REQUIRES: bits ∈ {2, 4, 8}; n · bits a multiple of 8.
void kv_quantize_run(const float* x, std::size_t n, std::size_t stride, int bits, std::uint8_t* packed,
                     std::uint16_t* params);

struct KvKernels {
    // out[c] = scale · q · row_c for c < n_rows; rows are f16, `dim` values each, contiguous.
    void (*dot_rows_f16)(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                         float* out);
    // out[d] += Σ_c p[c] · row_c[d] for d < dim; rows f16.
    void (*accumulate_rows_f16)(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim,
                                float* out);
    // One quantized key group of kKvKeyGroup tokens: channel d's run of codes at codes + d · kv_packed_bytes(32,
    // bits), its (scale, min) at params[2d], params[2d + 1]. out[c] = scale · Σ_d q[d] · (min_d + scale_d ·
    // code_{d,c}) for c < kKvKeyGroup.
    void (*key_group_scores)(const float* q, const std::uint8_t* codes, const std::uint16_t* params, int bits,
                             std::size_t dim, float scale, float* out);
    // Quantized values: row c's codes at codes + c · row_bytes, in runs of `group` channels (run g at
    // g · kv_packed_bytes(group, bits)), its pairs at params + c · params_stride (pair g at 2g). For the
    // channels [ch0, ch0 + dim) of the rows: out[d] += Σ_c p[c] · (min_{c,g} + scale_{c,g} · code_{c,ch0+d}).
    void (*accumulate_values)(const float* p, std::size_t n_rows, const std::uint8_t* codes, std::size_t row_bytes,
                              const std::uint16_t* params, std::size_t params_stride, int bits, std::size_t group,
                              std::size_t ch0, std::size_t dim, float* out);
};

// The kernels of `isa` (kAvx2 only when avx2_supported()).
const KvKernels& kv_kernels(KernelIsa isa);

namespace scalar {
void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out);
void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out);
void key_group_scores(const float* q, const std::uint8_t* codes, const std::uint16_t* params, int bits, std::size_t dim,
                      float scale, float* out);
void accumulate_values(const float* p, std::size_t n_rows, const std::uint8_t* codes, std::size_t row_bytes,
                       const std::uint16_t* params, std::size_t params_stride, int bits, std::size_t group,
                       std::size_t ch0, std::size_t dim, float* out);
}  // namespace scalar

namespace avx2 {
void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out);
void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out);
void key_group_scores(const float* q, const std::uint8_t* codes, const std::uint16_t* params, int bits, std::size_t dim,
                      float scale, float* out);
void accumulate_values(const float* p, std::size_t n_rows, const std::uint8_t* codes, std::size_t row_bytes,
                       const std::uint16_t* params, std::size_t params_stride, int bits, std::size_t group,
                       std::size_t ch0, std::size_t dim, float* out);
}  // namespace avx2

}  // namespace kasten::llm
