// AVX2 + FMA + F16C kernels of the compressed KV caches. Compiled with target attributes (see the pragma), so this
// file builds under any -march; kv_kernels() hands them out only when the CPU supports the extensions.
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "llm/kv_kernels.h"

namespace kasten::llm::avx2 {
namespace {

inline float hsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

inline __m256 load_f16(const std::uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Codes 8k .. 8k + 7 of a packed run of `run` bytes, as floats.
inline __m256 codes8(const std::uint8_t* packed, std::size_t run, int bits, int k) {
    const std::size_t byte = (8 * static_cast<std::size_t>(k)) % run;
    const int shift = bits * static_cast<int>((8 * static_cast<std::size_t>(k)) / run);
    std::uint64_t raw;
    std::memcpy(&raw, packed + byte, sizeof raw);
    __m256i v = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(raw)));
    v = _mm256_and_si256(_mm256_srl_epi32(v, _mm_cvtsi32_si128(shift)), _mm256_set1_epi32((1 << bits) - 1));
    return _mm256_cvtepi32_ps(v);
}

}  // namespace

void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out) {
    if (dim % 8 != 0 || dim > 256) {
        scalar::dot_rows_f16(q, rows, n_rows, dim, scale, out);
        return;
    }
    const __m256 vscale = _mm256_set1_ps(scale);
    std::size_t c = 0;
    for (; c + 8 <= n_rows; c += 8) {
        __m256 acc[8];
        for (auto& a : acc) a = _mm256_setzero_ps();
        const std::uint16_t* r = rows + c * dim;
        for (std::size_t d = 0; d < dim; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(load_f16(r + j * dim + d), qv, acc[j]);
        }
        const __m256 t0 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
        const __m256 t1 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
        const __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t0, t1, 0x31));
        _mm256_storeu_ps(out + c, _mm256_mul_ps(sum, vscale));
    }
    for (; c < n_rows; ++c) {
        __m256 acc = _mm256_setzero_ps();
        for (std::size_t d = 0; d < dim; d += 8)
            acc = _mm256_fmadd_ps(load_f16(rows + c * dim + d), _mm256_loadu_ps(q + d), acc);
        out[c] = scale * hsum(acc);
    }
}

void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out) {
    if (dim % 8 != 0) {
        scalar::accumulate_rows_f16(p, rows, n_rows, dim, out);
        return;
    }
    for (std::size_t d0 = 0; d0 < dim; d0 += 64) {
        const std::size_t nv = std::min<std::size_t>(64, dim - d0) / 8;
        __m256 acc[8];
        for (std::size_t j = 0; j < nv; ++j) acc[j] = _mm256_loadu_ps(out + d0 + 8 * j);
        for (std::size_t c = 0; c < n_rows; ++c) {
            const __m256 w = _mm256_set1_ps(p[c]);
            const std::uint16_t* r = rows + c * dim + d0;
            for (std::size_t j = 0; j < nv; ++j) acc[j] = _mm256_fmadd_ps(w, load_f16(r + 8 * j), acc[j]);
        }
        for (std::size_t j = 0; j < nv; ++j) _mm256_storeu_ps(out + d0 + 8 * j, acc[j]);
    }
}

void key_group_scores(const float* q, const std::uint8_t* codes, const std::uint16_t* params, int bits, std::size_t dim,
                      float scale, float* out) {
    static_assert(kKvKeyGroup == 32);
    const std::size_t run = kv_packed_bytes(kKvKeyGroup, bits);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float base = 0.0f;
    for (std::size_t d = 0; d < dim; ++d) {
        const __m128 sm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(
            static_cast<std::uint32_t>(params[2 * d]) | (static_cast<std::uint32_t>(params[2 * d + 1]) << 16))));
        const float s = _mm_cvtss_f32(sm);
        const float m = _mm_cvtss_f32(_mm_shuffle_ps(sm, sm, 1));
        base += q[d] * m;
        const __m256 qs = _mm256_set1_ps(q[d] * s);
        const std::uint8_t* r = codes + d * run;
        for (int k = 0; k < 4; ++k) acc[k] = _mm256_fmadd_ps(qs, codes8(r, run, bits, k), acc[k]);
    }
    const __m256 vb = _mm256_set1_ps(base), vs = _mm256_set1_ps(scale);
    for (int k = 0; k < 4; ++k) _mm256_storeu_ps(out + 8 * k, _mm256_mul_ps(vs, _mm256_add_ps(acc[k], vb)));
}

void accumulate_values(const float* p, std::size_t n_rows, const std::uint8_t* codes, std::size_t row_bytes,
                       const std::uint16_t* params, std::size_t params_stride, int bits, std::size_t group,
                       std::size_t ch0, std::size_t dim, float* out) {
    if (group != 32 || ch0 % 32 != 0 || dim % 32 != 0) {
        scalar::accumulate_values(p, n_rows, codes, row_bytes, params, params_stride, bits, group, ch0, dim, out);
        return;
    }
    const std::size_t run = kv_packed_bytes(32, bits);
    for (std::size_t g = ch0 / 32; g < (ch0 + dim) / 32; ++g) {
        float* o = out + (g * 32 - ch0);
        __m256 acc[4];
        for (int k = 0; k < 4; ++k) acc[k] = _mm256_loadu_ps(o + 8 * k);
        for (std::size_t c = 0; c < n_rows; ++c) {
            const std::uint16_t* pr = params + c * params_stride + 2 * g;
            const __m128 sm = _mm_cvtph_ps(_mm_cvtsi32_si128(
                static_cast<int>(static_cast<std::uint32_t>(pr[0]) | (static_cast<std::uint32_t>(pr[1]) << 16))));
            const __m256 a = _mm256_set1_ps(p[c] * _mm_cvtss_f32(sm));
            const __m256 b = _mm256_set1_ps(p[c] * _mm_cvtss_f32(_mm_shuffle_ps(sm, sm, 1)));
            const std::uint8_t* r = codes + c * row_bytes + g * run;
            for (int k = 0; k < 4; ++k) acc[k] = _mm256_add_ps(_mm256_fmadd_ps(a, codes8(r, run, bits, k), acc[k]), b);
        }
        for (int k = 0; k < 4; ++k) _mm256_storeu_ps(o + 8 * k, acc[k]);
    }
}

}  // namespace kasten::llm::avx2

#pragma GCC pop_options
