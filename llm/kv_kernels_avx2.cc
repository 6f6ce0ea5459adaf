// AVX2 + FMA + F16C kernels of the compressed KV caches. Compiled with target attributes (see the pragma), so this
// file builds under any -march; kv_kernels() hands them out only when the CPU supports the extensions.
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "llm/avx2_helpers.h"
#include "llm/kv_kernels.h"

namespace kasten::llm::avx2 {
namespace {

// The 32 codes of a packed value run, as floats: out[k] holds codes 8k .. 8k + 7.
inline void unpack_run32(const std::uint8_t* packed, int bits, __m256* out) {
    if (bits == 8) {
        for (int k = 0; k < 4; ++k) {
            out[k] = _mm256_cvtepi32_ps(
                _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 8 * k))));
        }
    } else if (bits == 4) {
        const __m256i v0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed)));
        const __m256i v1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + 8)));
        const __m256i m = _mm256_set1_epi32(15);
        out[0] = _mm256_cvtepi32_ps(_mm256_and_si256(v0, m));
        out[1] = _mm256_cvtepi32_ps(_mm256_and_si256(v1, m));
        out[2] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v0, 4));
        out[3] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v1, 4));
    } else {
        const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed)));
        const __m256i m = _mm256_set1_epi32(3);
        out[0] = _mm256_cvtepi32_ps(_mm256_and_si256(v, m));
        out[1] = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 2), m));
        out[2] = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 4), m));
        out[3] = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 6));
    }
}

// The four 32-byte blocks (8 tokens × 4 channels each) of channel quad `quad` of a packed key group, as bytes.
inline void unpack_key_quad(const std::uint8_t* codes, int bits, std::size_t quad, __m256i* out) {
    const auto load = [&](std::size_t block) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 32 * block));
    };
    if (bits == 8) {
        for (int k = 0; k < 4; ++k) out[k] = load(4 * quad + k);
    } else if (bits == 4) {
        const __m256i m = _mm256_set1_epi8(15);
        const __m256i r0 = load(2 * quad), r1 = load(2 * quad + 1);
        out[0] = _mm256_and_si256(r0, m);
        out[1] = _mm256_and_si256(_mm256_srli_epi16(r0, 4), m);
        out[2] = _mm256_and_si256(r1, m);
        out[3] = _mm256_and_si256(_mm256_srli_epi16(r1, 4), m);
    } else {
        const __m256i m = _mm256_set1_epi8(3);
        const __m256i r = load(quad);
        out[0] = _mm256_and_si256(r, m);
        out[1] = _mm256_and_si256(_mm256_srli_epi16(r, 2), m);
        out[2] = _mm256_and_si256(_mm256_srli_epi16(r, 4), m);
        out[3] = _mm256_and_si256(_mm256_srli_epi16(r, 6), m);
    }
}

// kv_key_query() for dim a multiple of 8, with identical qi and a.
void key_query(const float* q, const std::uint16_t* params, int bits, std::size_t dim, std::int8_t* qi, float* a,
               float* base) {
    if (dim % 8 != 0 || dim > 256) {
        kv_key_query(q, params, bits, dim, qi, a, base);
        return;
    }
    const float qmax = 127.0f;
    __m256 qs[32];
    __m256 vmax = _mm256_setzero_ps(), vb = _mm256_setzero_ps(), vf = _mm256_setzero_ps();
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const std::size_t n = dim / 8;
    for (std::size_t j = 0; j < n; ++j) {
        const __m256 qv = _mm256_loadu_ps(q + 8 * j);
        qs[j] = _mm256_mul_ps(qv, load_f16(params + 8 * j));
        vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, qs[j]));
        vf = _mm256_add_ps(vf, qs[j]);
        vb = _mm256_fmadd_ps(qv, load_f16(params + dim + 8 * j), vb);
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const __m256 inv = _mm256_set1_ps(amax > 0.0f ? qmax / amax : 0.0f);
    alignas(32) std::int32_t wide[256];
    __m256i vsum = _mm256_setzero_si256();
    for (std::size_t j = 0; j < n; ++j) {
        // NaN products (non-finite channel scales) become 0 as in kv_key_query(), so the integer sum cannot overflow.
        const __m256 x = _mm256_mul_ps(qs[j], inv);
        const __m256i w = _mm256_cvtps_epi32(_mm256_and_ps(x, _mm256_cmp_ps(x, x, _CMP_ORD_Q)));
        vsum = _mm256_add_epi32(vsum, w);
        _mm256_store_si256(reinterpret_cast<__m256i*>(wide + 8 * j), w);
    }
    for (std::size_t d = 0; d < dim; ++d) qi[d] = static_cast<std::int8_t>(wide[d]);
    alignas(32) std::int32_t sums[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums), vsum);
    int qsum = 0;
    for (int t = 0; t < 8; ++t) qsum += sums[t];
    *a = amax / qmax;
    const float mid = static_cast<float>((1 << bits) - 1) / 2.0f;
    *base = hsum(vb) + mid * (hsum(vf) - *a * static_cast<float>(qsum));
}

template <int NQ>
void key_scores_nq(const float* q, std::size_t q_stride, const std::uint8_t* codes, const std::uint16_t* params,
                   int bits, std::size_t dim, float scale, float* out, std::size_t out_stride) {
    alignas(32) std::int8_t qi[NQ][256];
    float a[NQ], base[NQ];
    for (int i = 0; i < NQ; ++i) key_query(q + i * q_stride, params, bits, dim, qi[i], &a[i], &base[i]);
    __m256i acc[NQ][4];
    for (int i = 0; i < NQ; ++i) {
        for (int k = 0; k < 4; ++k) acc[i][k] = _mm256_setzero_si256();
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (std::size_t quad = 0; quad < dim / 4; ++quad) {
        __m256i b[4];
        unpack_key_quad(codes, bits, quad, b);
        for (int i = 0; i < NQ; ++i) {
            std::int32_t word;
            std::memcpy(&word, qi[i] + 4 * quad, sizeof word);
            const __m256i qb = _mm256_set1_epi32(word);
            if (bits == 8) {
                // code = 16 · high nibble + low nibble, so the pairwise u8×s8 sums stay within int16.
                const __m256i m = _mm256_set1_epi8(15);
                for (int k = 0; k < 4; ++k) {
                    const __m256i lo = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(b[k], m), qb), ones);
                    const __m256i hi = _mm256_madd_epi16(
                        _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(b[k], 4), m), qb), ones);
                    acc[i][k] = _mm256_add_epi32(acc[i][k], _mm256_add_epi32(lo, _mm256_slli_epi32(hi, 4)));
                }
            } else {
                for (int k = 0; k < 4; ++k) {
                    acc[i][k] = _mm256_add_epi32(acc[i][k], _mm256_madd_epi16(_mm256_maddubs_epi16(b[k], qb), ones));
                }
            }
        }
    }
    for (int i = 0; i < NQ; ++i) {
        const __m256 va = _mm256_set1_ps(a[i]), vb = _mm256_set1_ps(base[i]), vs = _mm256_set1_ps(scale);
        for (int k = 0; k < 4; ++k) {
            const __m256 s = _mm256_fmadd_ps(va, _mm256_cvtepi32_ps(acc[i][k]), vb);
            _mm256_storeu_ps(out + i * out_stride + 8 * k, _mm256_mul_ps(vs, s));
        }
    }
}

template <int NQ>
void values_nq(const float* p, std::size_t p_stride, std::size_t n_rows, const std::uint8_t* codes,
               std::size_t row_bytes, const std::uint16_t* params, std::size_t params_stride, int bits, std::size_t ch0,
               std::size_t dim, float* out, std::size_t out_stride) {
    const std::size_t run = kv_packed_bytes(32, bits);
    // Per row weights p_i[c] · scale_c, so the row loop is one broadcast and four FMAs per query.
    thread_local std::vector<float> weights, mins;
    weights.resize(NQ * n_rows);
    mins.resize(n_rows);
    for (std::size_t g = ch0 / 32; g < (ch0 + dim) / 32; ++g) {
        float msum[NQ];
        for (std::size_t c = 0; c < n_rows; ++c) {
            const std::uint16_t* pr = params + c * params_stride + 2 * g;
            const float s = half_to_float(pr[0]);
            mins[c] = half_to_float(pr[1]);
            for (int i = 0; i < NQ; ++i) weights[i * n_rows + c] = p[i * p_stride + c] * s;
        }
        for (int i = 0; i < NQ; ++i) msum[i] = dot_f32(p + i * p_stride, mins.data(), n_rows);
        __m256 acc[NQ][4];
        for (int i = 0; i < NQ; ++i) {
            for (int k = 0; k < 4; ++k) acc[i][k] = _mm256_setzero_ps();
        }
        for (std::size_t c = 0; c < n_rows; ++c) {
            __m256 v[4];
            unpack_run32(codes + c * row_bytes + g * run, bits, v);
            for (int i = 0; i < NQ; ++i) {
                const __m256 a = _mm256_broadcast_ss(&weights[i * n_rows + c]);
                for (int k = 0; k < 4; ++k) acc[i][k] = _mm256_fmadd_ps(a, v[k], acc[i][k]);
            }
        }
        for (int i = 0; i < NQ; ++i) {
            float* o = out + i * out_stride + (g * 32 - ch0);
            const __m256 mb = _mm256_set1_ps(msum[i]);
            for (int k = 0; k < 4; ++k) {
                _mm256_storeu_ps(o + 8 * k, _mm256_add_ps(_mm256_loadu_ps(o + 8 * k), _mm256_add_ps(acc[i][k], mb)));
            }
        }
    }
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

void key_group_scores(const float* q, int n_q, std::size_t q_stride, const std::uint8_t* codes,
                      const std::uint16_t* params, int bits, std::size_t dim, float scale, float* out,
                      std::size_t out_stride) {
    static_assert(kKvKeyGroup == 32);
    if (dim > 256) {
        scalar::key_group_scores(q, n_q, q_stride, codes, params, bits, dim, scale, out, out_stride);
        return;
    }
    for (int i = 0; i < n_q; i += 4) {
        const float* qi = q + i * q_stride;
        float* o = out + i * out_stride;
        switch (std::min(4, n_q - i)) {
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
        switch (std::min(4, n_q - i)) {
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

}  // namespace kasten::llm::avx2

#pragma GCC pop_options
