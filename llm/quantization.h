#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "llm/quant_blocks.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// Scalar reference (de)quantization of rows of n float32 values. REQUIRES for every function: n is a multiple of
// the type's block size and the buffers hold n values / row_bytes(type, n) bytes. Deterministic; thread-safe.

// Symmetric 8-bit: d = max|x| / 127, q = round(x / d).
void quantize_row_q8_0(const float* x, BlockQ8_0* y, std::size_t n);
// 4-bit: the value of largest magnitude maps to −8; d = that value / −8, q = clamp(round(x / d) + 8, 0, 15).
void quantize_row_q4_0(const float* x, BlockQ4_0* y, std::size_t n);
// Per 32-value sub-block an affine [min, max] range in 15 steps, scales and mins quantized to 6 bits against
// f16 super-block factors (d, dmin), with a few candidate ranges tried per sub-block for the least squared error.
void quantize_row_q4_k(const float* x, BlockQ4K* y, std::size_t n);
// Per 16-value sub-block a symmetric 6-bit scale, quantized to int8 against the f16 super-block factor d.
void quantize_row_q6_k(const float* x, BlockQ6K* y, std::size_t n);
// Activation format of the k-quant dot products: d = max|x| / 127 (float32), plus 16-value sums.
void quantize_row_q8_k(const float* x, BlockQ8K* y, std::size_t n);

// Quantizes a row into `type` (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K). kNotSupported for other types,
// kInvalidArgument when n is not a multiple of the block size.
Status quantize_row(TensorType type, const float* x, std::size_t n, std::uint8_t* dst);

// Importance-weighted Q8_0 / Q4_0 (llama.cpp's imatrix quantization of Q4_0, applied to Q8_0 alike): per block
// the quants q and scale d minimise Σ_j w_j (x_j − d·q_j)² with w_j = importance[j] · sqrt(σ² + x_j²), σ² the
// mean square of the row: scales around the plain one (max / −8, max|x| / 127) are tried, d refitted by least
// squares for each candidate's quants, and the best kept. importance[n] holds the mean squared activation of
// each column (ImportanceMatrix); all-equal importance still gives a least-squares fit. The blocks are standard
// (any Q8_0 / Q4_0 reader, llama.cpp included, reads them).
void quantize_row_q8_0_weighted(const float* x, const float* importance, BlockQ8_0* y, std::size_t n);
void quantize_row_q4_0_weighted(const float* x, const float* importance, BlockQ4_0* y, std::size_t n);

// One block of the weighted fit above: x[n] ≈ d·q with q in [qmin, qmax] (Q4_0: −8, 7; Q8_0: −127, 127),
// minimising Σ w_j (x_j − d·q_j)² over candidate scales. Returns d as f16 bits; q[n] receives the quants.
std::uint16_t fit_symmetric_block(const float* x, const float* w, int n, int qmin, int qmax, int* q);

// quantize_row() with per-column importance for Q8_0 and Q4_0; other types, or importance == nullptr, quantize
// as quantize_row() does.
Status quantize_row_weighted(TensorType type, const float* x, const float* importance, std::size_t n,
                             std::uint8_t* dst);

// True for F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K.
bool can_dequantize(TensorType type);
// REQUIRES: can_dequantize(type).
void dequantize_row(TensorType type, const std::uint8_t* src, std::size_t n, float* y);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K block.
inline void q4_k_scale_min(int j, const std::uint8_t* s, std::uint8_t* sc, std::uint8_t* m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = static_cast<std::uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
        *m = static_cast<std::uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

}  // namespace kasten::llm
