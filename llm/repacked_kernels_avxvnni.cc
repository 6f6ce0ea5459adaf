// AVX2 + AVX-VNNI kernels of the repacked Q8_0 / Q4_0 layout (llm/repacked_weights.h), for CPUs with 256-bit VNNI
// but no AVX-512. A 16-row group's 64-byte chunks hold rows 0-7 in their first 32 bytes and rows 8-15 in the
// second, so each chunk is two 256-bit vectors and each token keeps two int32 and two float vectors (8 rows each).
// Every function carries its target attribute; repacked_group_kernel() hands them out only when
// avx_vnni_supported().
#include <immintrin.h>

#include <cstring>

#include "llm/repacked_weights.h"

#define KASTEN_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

namespace kasten::llm::avxvnni {
namespace {

// 4 activation quants broadcast to every 32-bit lane.
KASTEN_AVXVNNI inline __m256i broadcast4(const std::int8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

// kTokens (1 or 2) tokens against one group; one token keeps two int32 chains per half so the VNNI latency
// overlaps, two tokens overlap each other.
template <bool kQ8, int kTokens>
KASTEN_AVXVNNI inline void group_tokens(const std::uint8_t* group, const Q8_0Rows& x, int t0, float* y, int y_stride) {
    const std::size_t nb = x.n_blocks;
    constexpr std::size_t kSlab = kQ8 ? 512 : 256;
    const auto* scales = reinterpret_cast<const std::uint16_t*>(group + nb * kSlab);
    const std::int32_t offset = kQ8 ? -128 : -8;
    constexpr bool kTwoChains = kTokens == 1;
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    __m256 acc_lo[kTokens], acc_hi[kTokens];
    const BlockQ8_0* a[kTokens];
    const float* ad[kTokens];
    const std::int32_t* as[kTokens];
    for (int t = 0; t < kTokens; ++t) {
        acc_lo[t] = _mm256_setzero_ps();
        acc_hi[t] = _mm256_setzero_ps();
        const std::size_t row = static_cast<std::size_t>(t0 + t) * nb;
        a[t] = x.blocks + row;
        ad[t] = x.scales + row;
        as[t] = x.sums + row;
    }
    for (std::size_t b = 0; b < nb; ++b) {
        const std::uint8_t* q = group + b * kSlab;
        __m256i lo0[kTokens], hi0[kTokens], lo1[kTokens], hi1[kTokens];
        for (int t = 0; t < kTokens; ++t) {
            lo0[t] = hi0[t] = _mm256_set1_epi32(offset * as[t][b]);
            lo1[t] = hi1[t] = _mm256_setzero_si256();
        }
        // One 64-byte chunk (both halves) against the 4 activation quants at `act` of every token.
        auto chunk = [&](const __m256i w_lo, const __m256i w_hi, int quant, bool second) KASTEN_AVXVNNI {
            for (int t = 0; t < kTokens; ++t) {
                const __m256i v = broadcast4(a[t][b].qs + quant);
                __m256i& sl = (kTwoChains && second) ? lo1[t] : lo0[t];
                __m256i& sh = (kTwoChains && second) ? hi1[t] : hi0[t];
                sl = _mm256_dpbusd_avx_epi32(sl, w_lo, v);
                sh = _mm256_dpbusd_avx_epi32(sh, w_hi, v);
            }
        };
        if constexpr (kQ8) {
            for (int k = 0; k < 8; ++k) {
                _mm_prefetch(reinterpret_cast<const char*>(q + kRepackPrefetchBytes + 64 * k), _MM_HINT_T0);
                chunk(_mm256_load_si256(reinterpret_cast<const __m256i*>(q + 64 * k)),
                      _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 64 * k + 32)), 4 * k, (k & 1) != 0);
            }
        } else {
            for (int j = 0; j < 4; ++j) {
                _mm_prefetch(reinterpret_cast<const char*>(q + kRepackPrefetchBytes + 64 * j), _MM_HINT_T0);
                const __m256i v_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 64 * j));
                const __m256i v_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(q + 64 * j + 32));
                chunk(_mm256_and_si256(v_lo, low4), _mm256_and_si256(v_hi, low4), 4 * j, false);
                chunk(_mm256_and_si256(_mm256_srli_epi16(v_lo, 4), low4),
                      _mm256_and_si256(_mm256_srli_epi16(v_hi, 4), low4), 16 + 4 * j, true);
            }
        }
        const __m128i* sc = reinterpret_cast<const __m128i*>(scales + b * kRepackRows);
        const __m256 dw_lo = _mm256_cvtph_ps(_mm_load_si128(sc));
        const __m256 dw_hi = _mm256_cvtph_ps(_mm_load_si128(sc + 1));
        for (int t = 0; t < kTokens; ++t) {
            const __m256 da = _mm256_set1_ps(ad[t][b]);
            const __m256i sum_lo = kTwoChains ? _mm256_add_epi32(lo0[t], lo1[t]) : lo0[t];
            const __m256i sum_hi = kTwoChains ? _mm256_add_epi32(hi0[t], hi1[t]) : hi0[t];
            acc_lo[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_lo), _mm256_mul_ps(dw_lo, da), acc_lo[t]);
            acc_hi[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum_hi), _mm256_mul_ps(dw_hi, da), acc_hi[t]);
        }
    }
    for (int t = 0; t < kTokens; ++t) {
        float* out = y + static_cast<std::size_t>(t) * y_stride;
        _mm256_storeu_ps(out, acc_lo[t]);
        _mm256_storeu_ps(out + 8, acc_hi[t]);
    }
}

template <bool kQ8>
KASTEN_AVXVNNI void group(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    int t = 0;
    for (; t + 2 <= n_tokens; t += 2)
        group_tokens<kQ8, 2>(g, x, t0 + t, y + static_cast<std::size_t>(t) * y_stride, y_stride);
    if (t < n_tokens) group_tokens<kQ8, 1>(g, x, t0 + t, y + static_cast<std::size_t>(t) * y_stride, y_stride);
}

}  // namespace

KASTEN_AVXVNNI void repacked_group_q8_0(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y,
                                        int y_stride) {
    group<true>(g, x, t0, n_tokens, y, y_stride);
}

KASTEN_AVXVNNI void repacked_group_q4_0(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y,
                                        int y_stride) {
    group<false>(g, x, t0, n_tokens, y, y_stride);
}

}  // namespace kasten::llm::avxvnni
