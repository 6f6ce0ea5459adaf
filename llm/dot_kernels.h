#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "llm/quant_blocks.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// Dot products of one weight row with one activation row, in two implementations: `scalar` (the portable
// reference) and `avx2` (AVX2 + FMA + F16C intrinsics, compiled with target attributes so the file builds
// whatever the project's -march; call only when avx2_supported()). Quantized weights are multiplied with
// activations quantized to the matching integer format (Q8_0 for Q8_0/Q4_0 rows, Q8_K for Q4_K/Q6_K rows) so the
// inner loop is integer; F32/F16 rows take float activations. For every function n is the number of values, a
// multiple of the weight type's block size. Pure functions; thread-safe.
//
// Agreement (tests/llm/dot_kernels_test.cc): the integer kernels compute identical integer block sums, so avx2
// and scalar differ only by float summation order: |avx2 − scalar| ≤ 1e-5 · Σ|block terms|.

enum class ActivationType { kF32, kQ8_0, kQ8_K };
// kAvx512Vnni: Q8_0 and Q4_0 matrices are repacked at load and multiplied by AVX-512 VNNI group kernels, one
// token or a batch (llm/repacked_weights.h, used by WeightMatrix); the per-row kernels here serve the rows of a
// partial last group (one token: AVX-512 VNNI; batches: AVX2); every other type and the activation quantizers use
// the AVX2 kernels at that level (docs/benchmarks.md). A CPU with AVX-512 has AVX2.
// kAvx512Amx: the AVX-512 VNNI level, plus AMX int8 tiles for batches of 16 tokens and more against Q8_0 and
// Q4_0 weights (prompt processing; llm/repacked_weights.h). Never picked by default (see best_kernel_isa()).
enum class KernelIsa { kScalar, kAvx2, kAvx512Vnni, kAvx512Amx };

using DotFn = float (*)(const void* weights, const void* activations, std::size_t n);
using QuantizeActivationFn = void (*)(const float* x, void* out, std::size_t n);

// The kernel for weights of a given type: the activation format it needs and its dot product.
struct WeightKernel {
    ActivationType activation = ActivationType::kF32;
    DotFn dot = nullptr;  // batches of tokens (prompt processing): compute-bound
    // One token's matrix–vector product (decode): memory-bound; nullptr = `dot`.
    DotFn dot_single = nullptr;
};

// True when the CPU runs AVX2, FMA and F16C.
bool avx2_supported();
// True when the CPU (and the OS, for the zmm state) runs AVX-512 F, BW, DQ, VL and VNNI, besides AVX2.
bool avx512_vnni_supported();
// True when the CPU has AVX-VNNI (256-bit vpdpbusd without AVX-512) besides avx2_supported().
bool avx_vnni_supported();
// True when the CPU has AMX tiles with int8 products besides avx512_vnni_supported(), and Linux granted this
// process the tile state (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), asked once).
bool amx_int8_supported();
// Whether the CPU runs the kernels of `isa` (kScalar always).
bool kernel_isa_supported(KernelIsa isa);
// "scalar" | "avx2" | "avx512-vnni" | "avx512-amx"
const char* kernel_isa_name(KernelIsa isa);
// Parses kernel_isa_name's names; false for anything else.
bool parse_kernel_isa(std::string_view name, KernelIsa* out);
// The best level the CPU runs, detected at run time (AVX-512 VNNI at most: AMX is asked for by name). The
// environment variable KASTEN_KERNEL_ISA (a name above) picks another level the CPU runs, e.g. to compare
// kernels; a level the CPU lacks, or an unknown name, is ignored.
KernelIsa best_kernel_isa();

// nullptr dot when `type` has no kernel (see is_compute_type()).
WeightKernel weight_kernel(TensorType type, KernelIsa isa);
// Bytes of n activation values in `type` (n a multiple of its block size).
std::size_t activation_bytes(ActivationType type, std::size_t n);
// Block size of an activation type (1, 32, 256).
std::size_t activation_block(ActivationType type);
// Converts float activations to `type` (kF32 copies).
QuantizeActivationFn activation_quantizer(ActivationType type, KernelIsa isa);

// Float helpers used by attention and the elementwise ops, dispatched to the best ISA once at start-up.
float dot_f32(const float* a, const float* b, std::size_t n);
// y += a · x
void axpy_f32(float a, const float* x, float* y, std::size_t n);
// Attention building blocks over rows of `dim` floats stored contiguously (row c at rows + c · dim):
// out[c] = scale · q · row_c for c < n_rows.
void dot_rows_f32(const float* q, const float* rows, std::size_t n_rows, std::size_t dim, float scale, float* out);
// s[i] = exp(s[i] − max) for i < n; returns Σ s[i]. The AVX2 exp is a degree-5 polynomial, relative error < 2e-7
// (arguments below −87 give 0).
float exp_shifted_f32(float* s, std::size_t n, float max);
// out[d] += Σ_c p[c] · row_c[d] for d < dim.
void accumulate_rows_f32(const float* p, const float* rows, std::size_t n_rows, std::size_t dim, float* out);
// Fused element-wise steps of the forward pass (one pass over the data each):
// out = w ⊙ x / sqrt(mean(x²) + eps) (RMS norm, as llama2.c computes it).
void rms_norm_f32(const float* x, const float* w, std::size_t n, float eps, float* out);
// g[i] = silu(g[i]) · u[i] = g[i] / (1 + e^(−g[i])) · u[i] (the SwiGLU gate); the AVX2 exp as exp_shifted_f32's.
void silu_mul_f32(float* g, const float* u, std::size_t n);
// x[i] += y[i]
void add_f32(float* x, const float* y, std::size_t n);

namespace scalar {
float dot_f32(const float* a, const float* b, std::size_t n);
void rms_norm_f32(const float* x, const float* w, std::size_t n, float eps, float* out);
void silu_mul_f32(float* g, const float* u, std::size_t n);
void add_f32(float* x, const float* y, std::size_t n);
void axpy_f32(float a, const float* x, float* y, std::size_t n);
void dot_rows_f32(const float* q, const float* rows, std::size_t n_rows, std::size_t dim, float scale, float* out);
float exp_shifted_f32(float* s, std::size_t n, float max);
void accumulate_rows_f32(const float* p, const float* rows, std::size_t n_rows, std::size_t dim, float* out);
float dot_f16_f32(const std::uint16_t* w, const float* a, std::size_t n);
float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, std::size_t n);
float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, std::size_t n);
float dot_q4_k_q8_k(const BlockQ4K* w, const BlockQ8K* a, std::size_t n);
float dot_q6_k_q8_k(const BlockQ6K* w, const BlockQ8K* a, std::size_t n);
}  // namespace scalar

namespace avx2 {
float dot_f32(const float* a, const float* b, std::size_t n);
void rms_norm_f32(const float* x, const float* w, std::size_t n, float eps, float* out);
void silu_mul_f32(float* g, const float* u, std::size_t n);
void add_f32(float* x, const float* y, std::size_t n);
void axpy_f32(float a, const float* x, float* y, std::size_t n);
void dot_rows_f32(const float* q, const float* rows, std::size_t n_rows, std::size_t dim, float scale, float* out);
float exp_shifted_f32(float* s, std::size_t n, float max);
void accumulate_rows_f32(const float* p, const float* rows, std::size_t n_rows, std::size_t dim, float* out);
float dot_f16_f32(const std::uint16_t* w, const float* a, std::size_t n);
float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, std::size_t n);
float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, std::size_t n);
float dot_q4_k_q8_k(const BlockQ4K* w, const BlockQ8K* a, std::size_t n);
float dot_q6_k_q8_k(const BlockQ6K* w, const BlockQ8K* a, std::size_t n);
// Same results as the scalar quantize_row_q8_0 / quantize_row_q8_k up to ±1 in a quant where x / d lies within
// float rounding of a .5 boundary.
void quantize_row_q8_0(const float* x, BlockQ8_0* y, std::size_t n);
void quantize_row_q8_k(const float* x, BlockQ8K* y, std::size_t n);
}  // namespace avx2

namespace avx512 {
float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, std::size_t n);
float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, std::size_t n);
}  // namespace avx512

}  // namespace kasten::llm
