// AVX-512 (F, BW, DQ, VL) + AVX-512-VNNI kernels for the Q8_0 and Q4_0 weight types. Every function carries
// its target attribute, so the file builds under the project's x86-64-v3 baseline without letting AVX-512 code
// leak into inline functions shared with other files; the dispatcher in dot_kernels.cc calls it only when
// avx512_vnni_supported().
#include <immintrin.h>

#include "llm/dot_kernels.h"

// GCC 12's AVX-512 headers initialise their "undefined" pass-through vectors from themselves, which
// -Wuninitialized reports inside every intrinsic once inlined; the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define KASTEN_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,f16c")))

namespace kasten::llm::avx512 {
namespace {

KASTEN_AVX512 inline float half_to_float(std::uint16_t h) {
    return _cvtsh_ss(h);
}

// Two blocks' 32 int8 quants side by side: block b in the low 256 bits, block b + 1 in the high.
KASTEN_AVX512 inline __m512i load_pair(const std::int8_t* lo, const std::int8_t* hi) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi));
    return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

// Per-lane scales: d0 in lanes 0–7 (block b), d1 in lanes 8–15 (block b + 1).
KASTEN_AVX512 inline __m512 scale_pair(float d0, float d1) {
    return _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
}

// Σ u·s over unsigned × signed int8, 16 int32 lanes (4 products each).
KASTEN_AVX512 inline __m512i dot_u8_i8(__m512i u, __m512i s) {
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, s);
}

// Two Q4_0 blocks' nibbles as unsigned 0..15 in the Q8_0 element order of load_pair: per block, the 16 low
// nibbles (elements 0–15) then the 16 high nibbles (elements 16–31).
KASTEN_AVX512 inline __m512i nibbles_pair(const std::uint8_t* lo, const std::uint8_t* hi) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(lo));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(hi));
    // 128-bit lanes: [a, a >> 4, b, b >> 4], then masked to the low nibble.
    const __m256i ab = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
    const __m256i ab_hi = _mm256_srli_epi16(ab, 4);
    const __m512i wide = _mm512_inserti64x4(_mm512_castsi256_si512(ab), ab_hi, 1);  // [a, b, a>>4, b>>4]
    const __m512i ordered = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 4, 5, 2, 3, 6, 7), wide);
    return _mm512_and_si512(ordered, _mm512_set1_epi8(0x0F));
}

}  // namespace

// Σ w·a = Σ (w + 128)·a − 128 · Σ a, both as VNNI unsigned × signed products: exact in int32.
KASTEN_AVX512 float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, std::size_t n) {
    const std::size_t nb = n / kQk8_0;
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    __m512 acc = _mm512_setzero_ps();
    std::size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m512i wq = load_pair(w[b].qs, w[b + 1].qs);
        const __m512i aq = load_pair(a[b].qs, a[b + 1].qs);
        const __m512i shifted = _mm512_xor_si512(wq, bias);  // w + 128 as unsigned
        const __m512i p = _mm512_sub_epi32(dot_u8_i8(shifted, aq), dot_u8_i8(bias, aq));
        const __m512 d = scale_pair(half_to_float(w[b].d) * half_to_float(a[b].d),
                                    half_to_float(w[b + 1].d) * half_to_float(a[b + 1].d));
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    for (; b < nb; ++b) {
        int s = 0;
        for (std::size_t i = 0; i < kQk8_0; ++i) s += static_cast<int>(w[b].qs[i]) * a[b].qs[i];
        sum += half_to_float(w[b].d) * half_to_float(a[b].d) * static_cast<float>(s);
    }
    return sum;
}

// Σ (q − 8)·a = Σ q·a − 8 · Σ a with q the unsigned nibble.
KASTEN_AVX512 float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, std::size_t n) {
    const std::size_t nb = n / kQk4_0;
    const __m512i eight = _mm512_set1_epi8(8);
    __m512 acc = _mm512_setzero_ps();
    std::size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m512i q = nibbles_pair(w[b].qs, w[b + 1].qs);
        const __m512i aq = load_pair(a[b].qs, a[b + 1].qs);
        const __m512i p = _mm512_sub_epi32(dot_u8_i8(q, aq), dot_u8_i8(eight, aq));
        const __m512 d = scale_pair(half_to_float(w[b].d) * half_to_float(a[b].d),
                                    half_to_float(w[b + 1].d) * half_to_float(a[b + 1].d));
        acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    for (; b < nb; ++b) {
        int s = 0;
        for (std::size_t i = 0; i < kQk4_0 / 2; ++i) {
            s += (static_cast<int>(w[b].qs[i] & 0x0F) - 8) * a[b].qs[i];
            s += (static_cast<int>(w[b].qs[i] >> 4) - 8) * a[b].qs[i + kQk4_0 / 2];
        }
        sum += half_to_float(w[b].d) * half_to_float(a[b].d) * static_cast<float>(s);
    }
    return sum;
}

}  // namespace kasten::llm::avx512
