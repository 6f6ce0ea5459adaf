// AVX2 + FMA + F16C kernels. Compiled with target attributes (see the pragma), so this file builds under any
// -march; the dispatcher in dot_kernels.cc only calls it when the CPU supports the extensions.
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "llm/avx2_helpers.h"
#include "llm/dot_kernels.h"

namespace kasten::llm::avx2 {
namespace {

inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// Σ x·y over signed int8 pairs, as 8 int32 lanes: |x| · sign(y, x) keeps maddubs' unsigned × signed contract.
inline __m256i dot_i8_i32(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);
    const __m256i sy = _mm256_sign_epi8(y, x);
    const __m256i pairs = _mm256_maddubs_epi16(ax, sy);
    return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// 16 bytes of packed nibbles → 32 bytes: low nibbles first, then high nibbles.
inline __m256i unpack_nibbles(const std::uint8_t* p) {
    const __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i bytes = _mm256_insertf128_si256(_mm256_castsi128_si256(tmp), _mm_srli_epi16(tmp, 4), 1);
    return _mm256_and_si256(bytes, _mm256_set1_epi8(0x0F));
}

// Rounds to nearest (ties to even) and packs 32 floats already scaled into int8.
inline __m256i round_pack_i8(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    __m256i i0 = _mm256_cvtps_epi32(v0);
    __m256i i1 = _mm256_cvtps_epi32(v1);
    __m256i i2 = _mm256_cvtps_epi32(v2);
    __m256i i3 = _mm256_cvtps_epi32(v3);
    i0 = _mm256_packs_epi32(i0, i1);
    i2 = _mm256_packs_epi32(i2, i3);
    i0 = _mm256_packs_epi16(i0, i2);
    // packs interleave 128-bit lanes; restore element order.
    return _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

}  // namespace

float dot_f32(const float* a, const float* b, std::size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

void axpy_f32(float a, const float* x, float* y, std::size_t n) {
    const __m256 va = _mm256_set1_ps(a);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] += a * x[i];
}

void dot_rows_f32(const float* q, const float* rows, std::size_t n_rows, std::size_t dim, float scale, float* out) {
    if (dim % 8 != 0 || dim > 256) {
        for (std::size_t c = 0; c < n_rows; ++c) out[c] = scale * dot_f32(q, rows + c * dim, dim);
        return;
    }
    const __m256 vscale = _mm256_set1_ps(scale);
    std::size_t c = 0;
    for (; c + 8 <= n_rows; c += 8) {
        // Eight rows at once: one accumulator per row, then a transpose-and-add of the eight.
        __m256 acc[8];
        for (auto& a : acc) a = _mm256_setzero_ps();
        const float* r = rows + c * dim;
        for (std::size_t d = 0; d < dim; d += 8) {
            const __m256 qv = _mm256_loadu_ps(q + d);
            for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(r + j * dim + d), qv, acc[j]);
        }
        const __m256 t0 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
        const __m256 t1 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
        const __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(t0, t1, 0x20), _mm256_permute2f128_ps(t0, t1, 0x31));
        _mm256_storeu_ps(out + c, _mm256_mul_ps(sum, vscale));
    }
    for (; c < n_rows; ++c) out[c] = scale * dot_f32(q, rows + c * dim, dim);
}

namespace {

// exp(x) for x in [−87.3, 88.3] (Cephes-style: 2^n · p(r)); smaller arguments are clamped.
inline __m256 exp_ps(__m256 x) {
    x = _mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f));
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
    fx = _mm256_floor_ps(fx);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    const __m256i n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}

}  // namespace

float exp_shifted_f32(float* s, std::size_t n, float max) {
    const __m256 vmax = _mm256_set1_ps(max);
    __m256 acc = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + i), vmax));
        _mm256_storeu_ps(s + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float sum = hsum(acc);
    for (; i < n; ++i) sum += (s[i] = std::exp(s[i] - max));
    return sum;
}

void accumulate_rows_f32(const float* p, const float* rows, std::size_t n_rows, std::size_t dim, float* out) {
    if (dim % 8 != 0) {
        for (std::size_t c = 0; c < n_rows; ++c) axpy_f32(p[c], rows + c * dim, out, dim);
        return;
    }
    // 64 output values at a time stay in eight registers while the rows stream past.
    for (std::size_t d0 = 0; d0 < dim; d0 += 64) {
        const std::size_t width = std::min<std::size_t>(64, dim - d0);
        __m256 acc[8];
        const std::size_t nv = width / 8;
        for (std::size_t j = 0; j < nv; ++j) acc[j] = _mm256_loadu_ps(out + d0 + 8 * j);
        for (std::size_t c = 0; c < n_rows; ++c) {
            const __m256 w = _mm256_set1_ps(p[c]);
            const float* r = rows + c * dim + d0;
            for (std::size_t j = 0; j < nv; ++j) acc[j] = _mm256_fmadd_ps(w, _mm256_loadu_ps(r + 8 * j), acc[j]);
        }
        for (std::size_t j = 0; j < nv; ++j) _mm256_storeu_ps(out + d0 + 8 * j, acc[j]);
    }
}

void rms_norm_f32(const float* x, const float* w, std::size_t n, float eps, float* out) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        acc0 = _mm256_fmadd_ps(a, a, acc0);
        acc1 = _mm256_fmadd_ps(b, b, acc1);
    }
    float ss = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) ss += x[i] * x[i];
    ss = ss / static_cast<float>(n) + eps;
    const float scale = 1.0f / std::sqrt(ss);
    const __m256 vs = _mm256_set1_ps(scale);
    i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(w + i), _mm256_mul_ps(vs, _mm256_loadu_ps(x + i))));
    }
    for (; i < n; ++i) out[i] = w[i] * (scale * x[i]);
}

void silu_mul_f32(float* g, const float* u, std::size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(g + i);
        const __m256 e = exp_ps(_mm256_xor_ps(v, sign));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(v, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void add_f32(float* x, const float* y, std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) x[i] += y[i];
}

float dot_f16_f32(const std::uint16_t* w, const float* a, std::size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 w0 = load_f16(w + i);
        __m256 w1 = load_f16(w + i + 8);
        acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(a + i), acc0);
        acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(a + i + 8), acc1);
    }
    float sum = hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; ++i) sum += half_to_float(w[i]) * a[i];
    return sum;
}

float dot_q8_0_q8_0(const BlockQ8_0* w, const BlockQ8_0* a, std::size_t n) {
    const std::size_t nb = n / kQk8_0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    std::size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256 d0 = _mm256_set1_ps(half_to_float(w[b].d) * half_to_float(a[b].d));
        const __m256 d1 = _mm256_set1_ps(half_to_float(w[b + 1].d) * half_to_float(a[b + 1].d));
        const __m256i p0 = dot_i8_i32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs)),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].qs)));
        const __m256i p1 = dot_i8_i32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b + 1].qs)),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b + 1].qs)));
        acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
        const __m256 d = _mm256_set1_ps(half_to_float(w[b].d) * half_to_float(a[b].d));
        const __m256i p = dot_i8_i32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[b].qs)),
                                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].qs)));
        acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

float dot_q4_0_q8_0(const BlockQ4_0* w, const BlockQ8_0* a, std::size_t n) {
    const std::size_t nb = n / kQk4_0;
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    std::size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256 d0 = _mm256_set1_ps(half_to_float(w[b].d) * half_to_float(a[b].d));
        const __m256 d1 = _mm256_set1_ps(half_to_float(w[b + 1].d) * half_to_float(a[b + 1].d));
        const __m256i q0 = _mm256_sub_epi8(unpack_nibbles(w[b].qs), eight);
        const __m256i q1 = _mm256_sub_epi8(unpack_nibbles(w[b + 1].qs), eight);
        const __m256i p0 = dot_i8_i32(q0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].qs)));
        const __m256i p1 = dot_i8_i32(q1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b + 1].qs)));
        acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; ++b) {
        const __m256 d = _mm256_set1_ps(half_to_float(w[b].d) * half_to_float(a[b].d));
        const __m256i q = _mm256_sub_epi8(unpack_nibbles(w[b].qs), eight);
        const __m256i p = dot_i8_i32(q, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].qs)));
        acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

float dot_q4_k_q8_k(const BlockQ4K* w, const BlockQ8K* a, std::size_t n) {
    const std::size_t nb = n / kQkK;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    constexpr std::uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0.0f;
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = half_to_float(w[b].d) * a[b].d;
        const float dmin = half_to_float(w[b].dmin) * a[b].d;
        // Unpack the 12 scale bytes into 8 scales (bytes 0..7) and 8 mins (bytes 8..15).
        std::uint32_t utmp[4];
        std::memcpy(utmp, w[b].scales, 12);
        utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
        const std::uint32_t uaux = utmp[1] & kmask1;
        utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
        utmp[2] = uaux;
        utmp[0] &= kmask1;
        const __m256i mins_and_scales =
            _mm256_cvtepu8_epi16(_mm_set_epi32(static_cast<int>(utmp[3]), static_cast<int>(utmp[2]),
                                               static_cast<int>(utmp[1]), static_cast<int>(utmp[0])));
        // Mins: Σ_j m_j · (bsum[2j] + bsum[2j+1]).
        const __m256i q8sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[b].bsums));
        const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(q8sums), _mm256_extracti128_si256(q8sums, 1));
        const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), q8s);
        __m128i s = _mm_add_epi32(prod, _mm_shuffle_epi32(prod, _MM_SHUFFLE(1, 0, 3, 2)));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
        acc_m += dmin * static_cast<float>(_mm_cvtsi128_si32(s));

        const std::uint8_t* sc = reinterpret_cast<const std::uint8_t*>(utmp);
        const std::uint8_t* q4 = w[b].qs;
        const std::int8_t* q8 = a[b].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; ++j) {
            const __m256i q4bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4 + 32 * j));
            const __m256i q4l = _mm256_and_si256(q4bits, m4);
            const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
            const __m256i q8l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 64 * j));
            const __m256i q8h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 64 * j + 32));
            const __m256i p16l = _mm256_madd_epi16(_mm256_set1_epi16(sc[2 * j]), _mm256_maddubs_epi16(q4l, q8l));
            const __m256i p16h = _mm256_madd_epi16(_mm256_set1_epi16(sc[2 * j + 1]), _mm256_maddubs_epi16(q4h, q8h));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16l, p16h));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc) - acc_m;
}

float dot_q6_k_q8_k(const BlockQ6K* w, const BlockQ8K* a, std::size_t n) {
    const std::size_t nb = n / kQkK;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m2 = _mm256_set1_epi8(3);
    const __m256i m32s = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = half_to_float(w[b].d) * a[b].d;
        const std::uint8_t* ql = w[b].ql;
        const std::uint8_t* qh = w[b].qh;
        const std::int8_t* q8 = a[b].qs;
        const std::int8_t* scales = w[b].scales;
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i bits1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 64 * h));
            const __m256i bits2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 64 * h + 32));
            const __m256i bitsh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh + 32 * h));
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(bitsh, m2), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bitsh, 2), m2), 4);
            const __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bitsh, 4), m2), 4);
            const __m256i h3 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(bitsh, 6), m2), 4);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(bits1, m4), h0),
                _mm256_or_si256(_mm256_and_si256(bits2, m4), h1),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits1, 4), m4), h2),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits2, 4), m4), h3),
            };
            for (int k = 0; k < 4; ++k) {
                const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 128 * h + 32 * k));
                // (q − 32) · y = q · y − 32 · y, both through maddubs (q and 32 are unsigned).
                __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q[k], y), _mm256_maddubs_epi16(m32s, y));
                // Lanes 0..7 (values 0..15 of the group) use one scale, lanes 8..15 the next; the 128-bit halves
                // of a 256-bit register hold values 0..15 and 16..31.
                const std::int8_t s0 = scales[8 * h + 2 * k];
                const std::int8_t s1 = scales[8 * h + 2 * k + 1];
                const __m256i sc = _mm256_setr_epi16(s0, s0, s0, s0, s0, s0, s0, s0, s1, s1, s1, s1, s1, s1, s1, s1);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(sc, p16));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum(acc);
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, std::size_t n) {
    const __m256 sign_mask = _mm256_set1_ps(-0.0f);
    for (std::size_t b = 0; b < n / kQk8_0; ++b, x += kQk8_0) {
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_andnot_ps(sign_mask, v0), _mm256_andnot_ps(sign_mask, v1));
        m = _mm256_max_ps(m, _mm256_max_ps(_mm256_andnot_ps(sign_mask, v2), _mm256_andnot_ps(sign_mask, v3)));
        const float amax = hmax(m);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = static_cast<std::uint16_t>(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
        const __m256 vid = _mm256_set1_ps(id);
        const __m256i q = round_pack_i8(_mm256_mul_ps(v0, vid), _mm256_mul_ps(v1, vid), _mm256_mul_ps(v2, vid),
                                        _mm256_mul_ps(v3, vid));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs), q);
    }
}

void quantize_row_q8_k(const float* x, BlockQ8K* y, std::size_t n) {
    const __m256 sign_mask = _mm256_set1_ps(-0.0f);
    for (std::size_t b = 0; b < n / kQkK; ++b, x += kQkK) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < kQkK; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign_mask, _mm256_loadu_ps(x + j)));
        const float amax = hmax(m);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = amax / 127.0f;
        const __m256 vid = _mm256_set1_ps(id);
        for (int j = 0; j < kQkK; j += 32) {
            const __m256i q = round_pack_i8(
                _mm256_mul_ps(_mm256_loadu_ps(x + j), vid), _mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vid),
                _mm256_mul_ps(_mm256_loadu_ps(x + j + 16), vid), _mm256_mul_ps(_mm256_loadu_ps(x + j + 24), vid));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].qs + j), q);
            // Two 16-value sums: widen to int16, horizontal add within each 128-bit half.
            const __m256i w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
            const __m256i w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
            const __m256i s0 = _mm256_madd_epi16(w0, _mm256_set1_epi16(1));
            const __m256i s1 = _mm256_madd_epi16(w1, _mm256_set1_epi16(1));
            alignas(32) std::int32_t t0[8], t1[8];
            _mm256_store_si256(reinterpret_cast<__m256i*>(t0), s0);
            _mm256_store_si256(reinterpret_cast<__m256i*>(t1), s1);
            int sum0 = 0, sum1 = 0;
            for (int i = 0; i < 8; ++i) {
                sum0 += t0[i];
                sum1 += t1[i];
            }
            y[b].bsums[j / 16] = static_cast<std::int16_t>(sum0);
            y[b].bsums[j / 16 + 1] = static_cast<std::int16_t>(sum1);
        }
    }
}

}  // namespace kasten::llm::avx2

#pragma GCC pop_options
