// AVX-512 (F, BW, VL, DQ, VNNI) kernels of the compressed KV caches, compiled with per-file flags (llm/CMakeLists.txt).
// Only intrinsics and internal-linkage code live here: an inline or template function from a header, compiled with
// these flags, could be merged by the linker into code that runs on CPUs without AVX-512. kv_kernels() hands these
// out only for KernelIsa::kAvx512Vnni, which callers pick only when avx512_vnni_supported().
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 headers start intrinsics from _mm512_undefined_*() and warn at every use (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "llm/kv_kernels.h"

namespace kasten::llm::avx512 {
namespace {

constexpr std::size_t kMaxDim = 256;
constexpr std::size_t kRowChunk = 256;  // value rows whose weights are prepared at once

inline __m512 load_f16x16(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// kv_key_query() for dim a multiple of 16, with identical qi and a.
void key_query(const float* q, const std::uint16_t* params, int bits, std::size_t dim, std::int8_t* qi, float* a,
               float* base) {
    const std::size_t n = dim / 16;
    __m512 qs[kMaxDim / 16];
    __m512 vmax = _mm512_setzero_ps(), vb = _mm512_setzero_ps(), vf = _mm512_setzero_ps();
    for (std::size_t j = 0; j < n; ++j) {
        const __m512 qv = _mm512_loadu_ps(q + 16 * j);
        qs[j] = _mm512_mul_ps(qv, load_f16x16(params + 16 * j));
        vmax = _mm512_max_ps(vmax, _mm512_abs_ps(qs[j]));
        vf = _mm512_add_ps(vf, qs[j]);
        vb = _mm512_fmadd_ps(qv, load_f16x16(params + dim + 16 * j), vb);
    }
    const float qmax = 127.0f;
    const float amax = _mm512_reduce_max_ps(vmax);
    const __m512 inv = _mm512_set1_ps(amax > 0.0f ? qmax / amax : 0.0f);
    __m512i vsum = _mm512_setzero_si512();
    for (std::size_t j = 0; j < n; ++j) {
        const __m512i w = _mm512_cvtps_epi32(_mm512_mul_ps(qs[j], inv));
        vsum = _mm512_add_epi32(vsum, w);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(qi + 16 * j), _mm512_cvtepi32_epi8(w));  // |w| <= 127: exact
    }
    *a = amax / qmax;
    const float mid = static_cast<float>((1 << bits) - 1) / 2.0f;
    *base = _mm512_reduce_add_ps(vb) +
            mid * (_mm512_reduce_add_ps(vf) - *a * static_cast<float>(_mm512_reduce_add_epi32(vsum)));
}

// Channel quad `quad` of a packed key group as bytes: out[0] tokens 0..15, out[1] tokens 16..31 (4 channels each).
inline void unpack_key_quad(const std::uint8_t* codes, int bits, std::size_t quad, __m512i* out) {
    if (bits == 8) {
        out[0] = _mm512_loadu_si512(codes + 128 * quad);
        out[1] = _mm512_loadu_si512(codes + 128 * quad + 64);
        return;
    }
    const auto both = [](const std::uint8_t* p) {
        const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        return _mm512_inserti64x4(_mm512_castsi256_si512(r), r, 1);
    };
    if (bits == 4) {
        const __m512i m = _mm512_set1_epi8(15);
        const __m512i shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
        out[0] = _mm512_and_si512(_mm512_srlv_epi16(both(codes + 64 * quad), shift), m);
        out[1] = _mm512_and_si512(_mm512_srlv_epi16(both(codes + 64 * quad + 32), shift), m);
        return;
    }
    const __m512i m = _mm512_set1_epi8(3);
    const __m512i r = both(codes + 32 * quad);
    const __m512i s01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i s23 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    out[0] = _mm512_and_si512(_mm512_srlv_epi16(r, s01), m);
    out[1] = _mm512_and_si512(_mm512_srlv_epi16(r, s23), m);
}

template <int NQ>
void key_scores_nq(const float* q, std::size_t q_stride, const std::uint8_t* codes, const std::uint16_t* params,
                   int bits, std::size_t dim, float scale, float* out, std::size_t out_stride) {
    alignas(64) std::int8_t qi[NQ][kMaxDim];
    float a[NQ], base[NQ];
    for (int i = 0; i < NQ; ++i) key_query(q + i * q_stride, params, bits, dim, qi[i], &a[i], &base[i]);
    __m512i acc[NQ][2];
    for (int i = 0; i < NQ; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
    for (std::size_t quad = 0; quad < dim / 4; ++quad) {
        __m512i b[2];
        unpack_key_quad(codes, bits, quad, b);
        for (int i = 0; i < NQ; ++i) {
            std::int32_t word;
            std::memcpy(&word, qi[i] + 4 * quad, sizeof word);
            const __m512i qb = _mm512_set1_epi32(word);
            acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], b[0], qb);
            acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], b[1], qb);
        }
    }
    const __m512 vs = _mm512_set1_ps(scale);
    for (int i = 0; i < NQ; ++i) {
        const __m512 va = _mm512_set1_ps(a[i]), vb = _mm512_set1_ps(base[i]);
        for (int k = 0; k < 2; ++k) {
            const __m512 s = _mm512_fmadd_ps(va, _mm512_cvtepi32_ps(acc[i][k]), vb);
            _mm512_storeu_ps(out + i * out_stride + 16 * k, _mm512_mul_ps(vs, s));
        }
    }
}

// The 32 codes of a packed value run as floats: out[0] codes 0..15, out[1] codes 16..31.
inline void unpack_run32(const std::uint8_t* p, int bits, __m512* out) {
    if (bits == 8) {
        out[0] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
        out[1] = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16))));
    } else if (bits == 4) {
        const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        out[0] = _mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(15)));
        out[1] = _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4));
    } else {
        const __m128i x = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        const __m512i v = _mm512_cvtepu8_epi32(_mm_unpacklo_epi64(x, x));
        const __m512i m = _mm512_set1_epi32(3);
        const __m512i s01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi32(2), 1);
        const __m512i s23 = _mm512_inserti64x4(_mm512_set1_epi32(4), _mm256_set1_epi32(6), 1);
        out[0] = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(v, s01), m));
        out[1] = _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(v, s23), m));
    }
}

template <int NQ>
void values_nq(const float* p, std::size_t p_stride, std::size_t n_rows, const std::uint8_t* codes,
               std::size_t row_bytes, const std::uint16_t* params, std::size_t params_stride, int bits, std::size_t ch0,
               std::size_t dim, float* out, std::size_t out_stride) {
    const std::size_t run = static_cast<std::size_t>(4 * bits);  // packed bytes of 32 codes
    alignas(64) float weights[NQ][kRowChunk];
    for (std::size_t g = ch0 / 32; g < (ch0 + dim) / 32; ++g) {
        __m512 acc[NQ][2];
        float msum[NQ];
        for (int i = 0; i < NQ; ++i) {
            acc[i][0] = acc[i][1] = _mm512_setzero_ps();
            msum[i] = 0.0f;
        }
        for (std::size_t r0 = 0; r0 < n_rows; r0 += kRowChunk) {
            const std::size_t len = n_rows - r0 < kRowChunk ? n_rows - r0 : kRowChunk;
            // Per row weights p_i[c] · scale_c; the mins enter once per query as Σ_c p_i[c] · min_c.
            for (std::size_t c = 0; c < len; ++c) {
                const std::uint16_t* pr = params + (r0 + c) * params_stride + 2 * g;
                const float s = _cvtsh_ss(pr[0]), m = _cvtsh_ss(pr[1]);
                for (int i = 0; i < NQ; ++i) {
                    const float w = p[i * p_stride + r0 + c];
                    weights[i][c] = w * s;
                    msum[i] += w * m;
                }
            }
            for (std::size_t c = 0; c < len; ++c) {
                __m512 v[2];
                unpack_run32(codes + (r0 + c) * row_bytes + g * run, bits, v);
                for (int i = 0; i < NQ; ++i) {
                    const __m512 a = _mm512_set1_ps(weights[i][c]);
                    acc[i][0] = _mm512_fmadd_ps(a, v[0], acc[i][0]);
                    acc[i][1] = _mm512_fmadd_ps(a, v[1], acc[i][1]);
                }
            }
        }
        for (int i = 0; i < NQ; ++i) {
            float* o = out + i * out_stride + (g * 32 - ch0);
            const __m512 mb = _mm512_set1_ps(msum[i]);
            for (int k = 0; k < 2; ++k) {
                _mm512_storeu_ps(o + 16 * k, _mm512_add_ps(_mm512_loadu_ps(o + 16 * k), _mm512_add_ps(acc[i][k], mb)));
            }
        }
    }
}

}  // namespace

void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out) {
    if (dim % 16 != 0 || dim > kMaxDim) {
        avx2::dot_rows_f16(q, rows, n_rows, dim, scale, out);
        return;
    }
    __m512 qv[kMaxDim / 16];
    const std::size_t n = dim / 16;
    for (std::size_t j = 0; j < n; ++j) qv[j] = _mm512_loadu_ps(q + 16 * j);
    std::size_t c = 0;
    for (; c + 4 <= n_rows; c += 4) {
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (std::size_t j = 0; j < n; ++j) {
            for (int r = 0; r < 4; ++r)
                acc[r] = _mm512_fmadd_ps(load_f16x16(rows + (c + r) * dim + 16 * j), qv[j], acc[r]);
        }
        for (int r = 0; r < 4; ++r) out[c + r] = scale * _mm512_reduce_add_ps(acc[r]);
    }
    for (; c < n_rows; ++c) {
        __m512 acc = _mm512_setzero_ps();
        for (std::size_t j = 0; j < n; ++j) acc = _mm512_fmadd_ps(load_f16x16(rows + c * dim + 16 * j), qv[j], acc);
        out[c] = scale * _mm512_reduce_add_ps(acc);
    }
}

void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out) {
    if (dim % 16 != 0) {
        avx2::accumulate_rows_f16(p, rows, n_rows, dim, out);
        return;
    }
    for (std::size_t d0 = 0; d0 < dim; d0 += 128) {
        const std::size_t nv = (dim - d0 < 128 ? dim - d0 : 128) / 16;
        __m512 acc[8];
        for (std::size_t j = 0; j < nv; ++j) acc[j] = _mm512_loadu_ps(out + d0 + 16 * j);
        for (std::size_t c = 0; c < n_rows; ++c) {
            const __m512 w = _mm512_set1_ps(p[c]);
            const std::uint16_t* r = rows + c * dim + d0;
            for (std::size_t j = 0; j < nv; ++j) acc[j] = _mm512_fmadd_ps(w, load_f16x16(r + 16 * j), acc[j]);
        }
        for (std::size_t j = 0; j < nv; ++j) _mm512_storeu_ps(out + d0 + 16 * j, acc[j]);
    }
}

void key_group_scores(const float* q, int n_q, std::size_t q_stride, const std::uint8_t* codes,
                      const std::uint16_t* params, int bits, std::size_t dim, float scale, float* out,
                      std::size_t out_stride) {
    if (dim % 16 != 0 || dim > kMaxDim) {
        avx2::key_group_scores(q, n_q, q_stride, codes, params, bits, dim, scale, out, out_stride);
        return;
    }
    for (int i = 0; i < n_q; i += 4) {
        const float* qi = q + i * q_stride;
        float* o = out + i * out_stride;
        switch (n_q - i < 4 ? n_q - i : 4) {
            case 1:
                key_scores_nq<1>(qi, q_stride, codes, params, bits, dim, scale, o, out_stride);
                break;
            case 2:
                key_scores_nq<2>(qi, q_stride, codes, params, bits, dim, scale, o, out_stride);
                break;
            case 3:
                key_scores_nq<3>(qi, q_stride, codes, params, bits, dim, scale, o, out_stride);
                break;
            default:
                key_scores_nq<4>(qi, q_stride, codes, params, bits, dim, scale, o, out_stride);
                break;
        }
    }
}

void accumulate_values(const float* p, std::size_t p_stride, int n_q, std::size_t n_rows, const std::uint8_t* codes,
                       std::size_t row_bytes, const std::uint16_t* params, std::size_t params_stride, int bits,
                       std::size_t group, std::size_t ch0, std::size_t dim, float* out, std::size_t out_stride) {
    if (group != 32 || ch0 % 32 != 0 || dim % 32 != 0) {
        scalar::accumulate_values(p, p_stride, n_q, n_rows, codes, row_bytes, params, params_stride, bits, group, ch0,
                                  dim, out, out_stride);
        return;
    }
    for (int i = 0; i < n_q; i += 4) {
        const float* pi = p + i * p_stride;
        float* o = out + i * out_stride;
        switch (n_q - i < 4 ? n_q - i : 4) {
            case 1:
                values_nq<1>(pi, p_stride, n_rows, codes, row_bytes, params, params_stride, bits, ch0, dim, o,
                             out_stride);
                break;
            case 2:
                values_nq<2>(pi, p_stride, n_rows, codes, row_bytes, params, params_stride, bits, ch0, dim, o,
                             out_stride);
                break;
            case 3:
                values_nq<3>(pi, p_stride, n_rows, codes, row_bytes, params, params_stride, bits, ch0, dim, o,
                             out_stride);
                break;
            default:
                values_nq<4>(pi, p_stride, n_rows, codes, row_bytes, params, params_stride, bits, ch0, dim, o,
                             out_stride);
                break;
        }
    }
}

}  // namespace kasten::llm::avx512
