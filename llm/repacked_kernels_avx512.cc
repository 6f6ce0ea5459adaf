// AVX-512 F/BW/VL + VNNI kernels of the repacked Q8_0 / Q4_0 layout (llm/repacked_weights.h). Every function
// carries its target attribute, so the file builds under the project's baseline without AVX-512 code leaking into
// inline functions shared with other files; repacked_group_kernel() hands them out only when the caller checked
// avx512_vnni_supported().
#include <immintrin.h>

#include <cstring>

#include "llm/repacked_weights.h"

// GCC 12's AVX-512 headers initialise their "undefined" pass-through vectors from themselves, which
// -Wuninitialized reports inside every intrinsic once inlined; the values are never read.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define KASTEN_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,f16c")))

namespace kasten::llm::avx512 {
namespace {

// 4 activation quants broadcast to every 32-bit lane.
KASTEN_AVX512 inline __m512i broadcast4(const std::int8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

// Up to kMaxTokens tokens against one group: the group's quants are loaded once per block and multiplied with every
// token's activations; each token keeps one or two int32 chains per block and one float accumulator per row lane.
template <bool kQ8, int kTokens>
KASTEN_AVX512 inline void group_tokens(const std::uint8_t* group, const Q8_0Rows& x, int t0, float* y, int y_stride) {
    const std::size_t nb = x.n_blocks;
    constexpr std::size_t kSlab = kQ8 ? 512 : 256;
    const auto* scales = reinterpret_cast<const std::uint16_t*>(group + nb * kSlab);
    const std::int32_t offset = kQ8 ? -128 : -8;
    // Few tokens: two int32 chains per token so the VNNI latency overlaps; from four tokens on, the tokens do.
    constexpr bool kTwoChains = kTokens < 4;
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    __m512 acc[kTokens];
    const BlockQ8_0* a[kTokens];
    const float* ad[kTokens];
    const std::int32_t* as[kTokens];
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) {
        acc[t] = _mm512_setzero_ps();
        const std::size_t row = static_cast<std::size_t>(t0 + t) * nb;
        a[t] = x.blocks + row;
        ad[t] = x.scales + row;
        as[t] = x.sums + row;
    }
    for (std::size_t b = 0; b < nb; ++b) {
        const std::uint8_t* q = group + b * kSlab;
        __m512i s0[kTokens], s1[kTokens];
#pragma GCC unroll 8
        for (int t = 0; t < kTokens; ++t) {
            s0[t] = _mm512_set1_epi32(offset * as[t][b]);
            s1[t] = _mm512_setzero_si512();
        }
        if constexpr (kQ8) {
#pragma GCC unroll 8
            for (int k = 0; k < 8; k += 2) {
                _mm_prefetch(reinterpret_cast<const char*>(q + kRepackPrefetchBytes + 64 * k), _MM_HINT_T0);
                _mm_prefetch(reinterpret_cast<const char*>(q + kRepackPrefetchBytes + 64 * k + 64), _MM_HINT_T0);
                const __m512i w0 = _mm512_load_si512(q + 64 * k);
                const __m512i w1 = _mm512_load_si512(q + 64 * (k + 1));
#pragma GCC unroll 8
                for (int t = 0; t < kTokens; ++t) {
                    s0[t] = _mm512_dpbusd_epi32(s0[t], w0, broadcast4(a[t][b].qs + 4 * k));
                    __m512i& s = kTwoChains ? s1[t] : s0[t];
                    s = _mm512_dpbusd_epi32(s, w1, broadcast4(a[t][b].qs + 4 * k + 4));
                }
            }
        } else {
#pragma GCC unroll 8
            for (int j = 0; j < 4; ++j) {
                _mm_prefetch(reinterpret_cast<const char*>(q + kRepackPrefetchBytes + 64 * j), _MM_HINT_T0);
                const __m512i v = _mm512_load_si512(q + 64 * j);
                const __m512i lo = _mm512_and_si512(v, low4);
                const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
#pragma GCC unroll 8
                for (int t = 0; t < kTokens; ++t) {
                    s0[t] = _mm512_dpbusd_epi32(s0[t], lo, broadcast4(a[t][b].qs + 4 * j));
                    __m512i& s = kTwoChains ? s1[t] : s0[t];
                    s = _mm512_dpbusd_epi32(s, hi, broadcast4(a[t][b].qs + 16 + 4 * j));
                }
            }
        }
        const __m512 dw =
            _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(scales + b * kRepackRows)));
#pragma GCC unroll 8
        for (int t = 0; t < kTokens; ++t) {
            const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(ad[t][b]));
            const __m512i sum = kTwoChains ? _mm512_add_epi32(s0[t], s1[t]) : s0[t];
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), d, acc[t]);
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < kTokens; ++t) _mm512_storeu_ps(y + static_cast<std::size_t>(t) * y_stride, acc[t]);
}

template <bool kQ8>
KASTEN_AVX512 void group(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    int t = 0;
    for (; t + 8 <= n_tokens; t += 8)
        group_tokens<kQ8, 8>(g, x, t0 + t, y + static_cast<std::size_t>(t) * y_stride, y_stride);
    for (; t + 4 <= n_tokens; t += 4)
        group_tokens<kQ8, 4>(g, x, t0 + t, y + static_cast<std::size_t>(t) * y_stride, y_stride);
    float* out = y + static_cast<std::size_t>(t) * y_stride;
    switch (n_tokens - t) {
        case 3:
            group_tokens<kQ8, 3>(g, x, t0 + t, out, y_stride);
            break;
        case 2:
            group_tokens<kQ8, 2>(g, x, t0 + t, out, y_stride);
            break;
        case 1:
            group_tokens<kQ8, 1>(g, x, t0 + t, out, y_stride);
            break;
        default:
            break;
    }
}

}  // namespace

KASTEN_AVX512 void repacked_group_q8_0(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y,
                                       int y_stride) {
    group<true>(g, x, t0, n_tokens, y, y_stride);
}

KASTEN_AVX512 void repacked_group_q4_0(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y,
                                       int y_stride) {
    group<false>(g, x, t0, n_tokens, y, y_stride);
}

}  // namespace kasten::llm::avx512
