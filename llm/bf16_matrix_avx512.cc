// AVX-512 BF16 kernel of Bf16Matrix (llm/bf16_matrix.h): X rounded to bfloat16 with vcvtne2ps2bf16, then blocks of
// 4 rows × 64 columns accumulate one vdpbf16ps per row and 16-column panel per K pair (16 float32 accumulators).
// Every function carries its target attribute, so the file builds under the project's x86-64-v3 baseline;
// Bf16Matrix::multiply() calls it only at Bf16Isa::kAvx512 (avx512_bf16_supported()).
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "llm/bf16_matrix.h"

// GCC 12's AVX-512 headers initialise their "undefined" pass-through vectors from themselves, which
// -Wuninitialized reports inside every intrinsic once inlined; the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define KASTEN_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))

namespace kasten::llm::avx512 {
namespace {

constexpr int kRows = 4;    // rows of X per block
constexpr int kPanels = 4;  // 16-column panels per block

// Y rows [i0, i0 + MR) × panels [p0, p0 + NP) of the product over bfloat16 rows a (stride k values).
template <int MR, int NP>
KASTEN_AVX512_BF16 inline void block(const std::uint16_t* a, int k, const std::uint16_t* packed, int p0, int i0,
                                     const Bf16Product& p) {
    const int tiles = k / 32;
    __m512 acc[MR][NP];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int q = 0; q < NP; ++q) acc[i][q] = _mm512_setzero_ps();
    const std::uint16_t* rows[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) rows[i] = a + static_cast<std::size_t>(i0 + i) * k;
    for (int t = 0; t < tiles; ++t) {
        const std::uint16_t* w[NP];
#pragma GCC unroll 4
        for (int q = 0; q < NP; ++q) w[q] = packed + (static_cast<std::size_t>(p0 + q) * tiles + t) * 512;
        for (int r = 0; r < 16; ++r) {
            __m512bh wv[NP];
#pragma GCC unroll 4
            for (int q = 0; q < NP; ++q) wv[q] = (__m512bh)_mm512_loadu_si512(w[q] + r * 32);
#pragma GCC unroll 4
            for (int i = 0; i < MR; ++i) {
                std::int32_t pair;
                std::memcpy(&pair, rows[i] + 32 * t + 2 * r, sizeof pair);
                const __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
#pragma GCC unroll 4
                for (int q = 0; q < NP; ++q) acc[i][q] = _mm512_dpbf16_ps(acc[i][q], av, wv[q]);
            }
        }
    }
    for (int i = 0; i < MR; ++i) {
        float* y = p.y + static_cast<std::ptrdiff_t>(i0 + i) * p.ldy;
        for (int q = 0; q < NP; ++q) {
            const int col = 16 * (p0 + q);
            __m512 v = acc[i][q];
            if (p.bias != nullptr) v = _mm512_add_ps(v, _mm512_loadu_ps(p.bias + col));
            if (p.output == Bf16Output::kAdd) v = _mm512_add_ps(v, _mm512_loadu_ps(y + col));
            if (p.output == Bf16Output::kSetRelu) v = _mm512_max_ps(v, _mm512_setzero_ps());
            _mm512_storeu_ps(y + col, v);
        }
    }
}

template <int NP>
KASTEN_AVX512_BF16 void panels(const std::uint16_t* a, int k, const std::uint16_t* packed, int p0,
                               const Bf16Product& p) {
    int i = 0;
    for (; i + kRows <= p.m; i += kRows) block<kRows, NP>(a, k, packed, p0, i, p);
    switch (p.m - i) {
        case 3:
            block<3, NP>(a, k, packed, p0, i, p);
            break;
        case 2:
            block<2, NP>(a, k, packed, p0, i, p);
            break;
        case 1:
            block<1, NP>(a, k, packed, p0, i, p);
            break;
        default:
            break;
    }
}

}  // namespace

KASTEN_AVX512_BF16 void bf16_rows(const float* x, int m, int ldx, int k, int m_pad, std::uint16_t* out) {
    for (int i = 0; i < m_pad; ++i) {
        std::uint16_t* row = out + static_cast<std::size_t>(i) * k;
        if (i >= m) {
            std::memset(row, 0, static_cast<std::size_t>(k) * sizeof(std::uint16_t));
            continue;
        }
        const float* xr = x + static_cast<std::ptrdiff_t>(i) * ldx;
        for (int c = 0; c < k; c += 32) {
            const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xr + c + 16), _mm512_loadu_ps(xr + c));
            _mm512_storeu_si512(row + c, (__m512i)v);
        }
    }
}

KASTEN_AVX512_BF16 void bf16_multiply(const Bf16Matrix& w, const Bf16Product& p) {
    const int k = w.rows();
    thread_local std::vector<std::uint16_t> a;
    a.resize(static_cast<std::size_t>(p.m) * k);
    bf16_rows(p.x, p.m, p.ldx, k, p.m, a.data());
    const int n_panels = w.cols() / 16;
    int p0 = 0;
    for (; p0 + kPanels <= n_panels; p0 += kPanels) panels<kPanels>(a.data(), k, w.packed(), p0, p);
    for (; p0 + 2 <= n_panels; p0 += 2) panels<2>(a.data(), k, w.packed(), p0, p);
}

}  // namespace kasten::llm::avx512
