// AMX int8 tile kernels of the repacked Q8_0 / Q4_0 layout (llm/repacked_weights.h) for batches of tokens
// (prompt processing). A repacked Q8_0 slab is already an AMX B tile (8 rows of 16 columns × 4 consecutive K
// values), and 16 tokens' activation blocks are an A tile read with the Q8_0 block stride; one TDPBSUD per
// 32-value block gives the 16 × 16 integer block sums, which AVX-512 then offsets, scales and accumulates in float.
// Tokens left over (fewer than 16) go to the AVX-512 VNNI kernel. Functions carry their target attributes;
// repacked_group_kernel() hands them out only at KernelIsa::kAvx512Amx (amx_int8_supported()).
#include <immintrin.h>
#include <cstring>

#include "llm/amx_tile_config.h"
#include "llm/repacked_weights.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define KASTEN_AMX __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,f16c,amx-tile,amx-int8")))

namespace kasten::llm {
namespace amx {
namespace {

// tmm0, tmm1: C (16 tokens × 16 int32); tmm2, tmm3: A (16 tokens × 32 int8); tmm4, tmm5: B (8 × 64 bytes).
KASTEN_AMX inline void configure() {
    AmxTileConfig cfg;
    for (int t = 0; t < 2; ++t) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
        cfg.rows[2 + t] = 16;
        cfg.colsb[2 + t] = 32;
        cfg.rows[4 + t] = 8;
        cfg.colsb[4 + t] = 64;
    }
    _tile_loadconfig(&cfg);
}

// acc[m] += (c[m] + offset · sum of token m's block) · (weight scales × token m's block scale), m < 16.
KASTEN_AMX inline void accumulate(const std::int32_t* c, __m512 dw, const Q8_0Rows& x, std::size_t first, std::size_t b,
                                  std::int32_t offset, __m512* acc) {
    const std::size_t nb = x.n_blocks;
#pragma GCC unroll 16
    for (int m = 0; m < 16; ++m) {
        const std::size_t i = first + static_cast<std::size_t>(m) * nb + b;
        const __m512i s = _mm512_add_epi32(_mm512_loadu_si512(c + 16 * m), _mm512_set1_epi32(offset * x.sums[i]));
        acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(x.scales[i])), acc[m]);
    }
}

// Q4_0 slab → B tile bytes: rows 0–3 the low nibbles (quants 4j..4j+3), rows 4–7 the high ones (16 + 4j..).
KASTEN_AMX inline void unpack_q4(const std::uint8_t* q, std::uint8_t* out) {
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int j = 0; j < 4; ++j) {
        const __m512i v = _mm512_load_si512(q + 64 * j);
        _mm512_store_si512(out + 64 * j, _mm512_and_si512(v, low4));
        _mm512_store_si512(out + 64 * (4 + j), _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
    }
}

// 16 tokens from t0 against one group; blocks two at a time on separate tiles.
template <bool kQ8>
KASTEN_AMX void tokens16(const std::uint8_t* group, const Q8_0Rows& x, int t0, float* y, int y_stride) {
    const std::size_t nb = x.n_blocks;
    constexpr std::size_t kSlab = kQ8 ? 512 : 256;
    const auto* scales = reinterpret_cast<const std::uint16_t*>(group + nb * kSlab);
    const std::int32_t offset = kQ8 ? -128 : -8;
    const std::size_t first = static_cast<std::size_t>(t0) * nb;
    const long a_stride = static_cast<long>(nb * sizeof(BlockQ8_0));
    alignas(64) std::int32_t c[2][256];
    alignas(64) std::uint8_t unpacked[2][512];
    __m512 acc[16];
    for (auto& a : acc) a = _mm512_setzero_ps();
    std::size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const std::uint8_t* b0 = group + b * kSlab;
        const std::uint8_t* b1 = b0 + kSlab;
        if constexpr (!kQ8) {
            unpack_q4(b0, unpacked[0]);
            unpack_q4(b1, unpacked[1]);
            b0 = unpacked[0];
            b1 = unpacked[1];
        }
        _tile_zero(0);
        _tile_zero(1);
        _tile_loadd(2, x.blocks[first + b].qs, a_stride);
        _tile_loadd(3, x.blocks[first + b + 1].qs, a_stride);
        _tile_loadd(4, b0, 64);
        _tile_loadd(5, b1, 64);
        _tile_dpbsud(0, 2, 4);
        _tile_dpbsud(1, 3, 5);
        _tile_stored(0, c[0], 64);
        _tile_stored(1, c[1], 64);
        accumulate(c[0], _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(scales + b * 16))), x,
                   first, b, offset, acc);
        accumulate(c[1], _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(scales + (b + 1) * 16))), x,
                   first, b + 1, offset, acc);
    }
    if (b < nb) {
        const std::uint8_t* b0 = group + b * kSlab;
        if constexpr (!kQ8) {
            unpack_q4(b0, unpacked[0]);
            b0 = unpacked[0];
        }
        _tile_zero(0);
        _tile_loadd(2, x.blocks[first + b].qs, a_stride);
        _tile_loadd(4, b0, 64);
        _tile_dpbsud(0, 2, 4);
        _tile_stored(0, c[0], 64);
        accumulate(c[0], _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(scales + b * 16))), x,
                   first, b, offset, acc);
    }
    for (int m = 0; m < 16; ++m) _mm512_storeu_ps(y + static_cast<std::size_t>(m) * y_stride, acc[m]);
}

template <bool kQ8>
KASTEN_AMX void group(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    int t = 0;
    if (n_tokens >= 16) {
        configure();
        for (; t + 16 <= n_tokens; t += 16)
            tokens16<kQ8>(g, x, t0 + t, y + static_cast<std::size_t>(t) * y_stride, y_stride);
        _tile_release();
    }
    if (t < n_tokens) {
        float* out = y + static_cast<std::size_t>(t) * y_stride;
        if constexpr (kQ8) {
            avx512::repacked_group_q8_0(g, x, t0 + t, n_tokens - t, out, y_stride);
        } else {
            avx512::repacked_group_q4_0(g, x, t0 + t, n_tokens - t, out, y_stride);
        }
    }
}

}  // namespace

void repacked_group_q8_0(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    group<true>(g, x, t0, n_tokens, y, y_stride);
}

void repacked_group_q4_0(const std::uint8_t* g, const Q8_0Rows& x, int t0, int n_tokens, float* y, int y_stride) {
    group<false>(g, x, t0, n_tokens, y, y_stride);
}

}  // namespace amx
}  // namespace kasten::llm
