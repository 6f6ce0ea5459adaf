#pragma once

#include <cstdint>
#include <vector>

namespace kasten::llm {

// The kernels that multiply rows of activations by a Bf16Matrix: the portable reference (`scalar`), AVX-512 BF16
// (`vdpbf16ps`, 32 products per instruction) and AMX BF16 tiles (`tdpbf16ps`, a 16 × 16 × 32 block per
// instruction). The AVX-512 and AMX kernels are compiled with per-function target attributes (the files build
// under the project's x86-64-v3 baseline); callers use a level only when bf16_isa_supported() says the CPU runs it.
enum class Bf16Isa { kScalar, kAvx512, kAmx };

// AVX-512 F/BW/DQ/VL with the BF16 extension (CPUID leaf 7 subleaf 1, EAX bit 5), OS zmm state included.
bool avx512_bf16_supported();
// AMX-TILE and AMX-BF16 besides avx512_bf16_supported(), and Linux granted this process the tile state
// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), asked once).
bool amx_bf16_supported();
bool bf16_isa_supported(Bf16Isa isa);
// "scalar" | "avx512-bf16" | "amx-bf16"
const char* bf16_isa_name(Bf16Isa isa);

// Float32 -> bfloat16 bits, rounded to nearest even (as vcvtne2ps2bf16 rounds normal numbers; NaN is not
// expected), and back (exact).
std::uint16_t float_to_bf16(float x);
float bf16_to_float(std::uint16_t h);

// What a product does with its output rows Y (m × n floats): kSet Y = P + bias, kAdd Y += P + bias,
// kSetRelu Y = max(P + bias, 0), where P = bf16(X) · W (bias optional).
enum class Bf16Output { kSet, kAdd, kSetRelu };

// A K × N float32 weight matrix (row-major; K and N multiples of 32) rounded to bfloat16 once and packed for the
// kernels: column panels of 16, each a run of K / 32 tiles; a tile is 16 rows (K pairs) × 16 columns × 2 values,
// i.e. W[32t + 2r + i][16p + j] at packed[((p · K/32 + t) · 16 + r) · 32 + 2j + i]. That is the AMX B-tile layout
// and, row by row, the vdpbf16ps operand. Immutable after construction; multiply() is thread-safe.
class Bf16Matrix {
  public:
    Bf16Matrix() = default;
    Bf16Matrix(const float* w, int k, int n);

    int rows() const { return k_; }
    int cols() const { return n_; }
    const std::uint16_t* packed() const { return packed_.data(); }
    // bfloat16 bits of W[r][c].
    std::uint16_t at(int r, int c) const;

    // Y = op(bf16(X) · W + bias) for X = m rows of K floats (row i at x + i · ldx) and Y = m rows of N floats
    // (row i at y + i · ldy); bias has N floats or is nullptr. X is rounded to bfloat16 (nearest even); products
    // are summed in float32. Each output row depends on its own input row only (the same with any m). Agreement
    // between levels (tests/llm/bf16_matrix_test.cc): float32 summation order only, |Δ| ≤ 1e-5 · Σ|terms|.
    void multiply(const float* x, int m, int ldx, float* y, int ldy, const float* bias, Bf16Output output,
                  Bf16Isa isa) const;

  private:
    int k_ = 0;
    int n_ = 0;
    std::vector<std::uint16_t> packed_;
};

// The per-level kernels behind Bf16Matrix::multiply (same contract).
struct Bf16Product {
    const float* x = nullptr;
    int m = 0;
    int ldx = 0;
    float* y = nullptr;
    int ldy = 0;
    const float* bias = nullptr;
    Bf16Output output = Bf16Output::kSet;
};
namespace scalar {
void bf16_multiply(const Bf16Matrix& w, const Bf16Product& p);
}
namespace avx512 {
void bf16_multiply(const Bf16Matrix& w, const Bf16Product& p);
// out (m_pad rows of k bfloat16, row-major) = the m rows of X rounded to nearest even, rows m .. m_pad - 1 zero;
// k a multiple of 32. Needs avx512_bf16_supported().
void bf16_rows(const float* x, int m, int ldx, int k, int m_pad, std::uint16_t* out);
}  // namespace avx512
namespace amx {
void bf16_multiply(const Bf16Matrix& w, const Bf16Product& p);
}

}  // namespace kasten::llm
