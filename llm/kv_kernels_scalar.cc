#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "llm/f16.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {
namespace {

// Codes of n values x[i · stride] and their f16 (scale, min).
void quantize_codes(const float* x, std::size_t n, std::size_t stride, int bits, unsigned* codes,
                    std::uint16_t* scale_out, std::uint16_t* min_out) {
    float lo = x[0], hi = x[0];
    for (std::size_t i = 1; i < n; ++i) {
        lo = std::min(lo, x[i * stride]);
        hi = std::max(hi, x[i * stride]);
    }
    const int levels = (1 << bits) - 1;
    const std::uint16_t min_h = f32_to_f16(lo);
    const float min = f16_to_f32(min_h);
    // The scale is rounded up to f16 so that min + scale · levels still reaches the maximum.
    std::uint16_t scale_h = f32_to_f16((hi - min) / static_cast<float>(levels));
    float scale = f16_to_f32(scale_h);
    if (scale * static_cast<float>(levels) + min < hi && scale_h < 0x7bff) scale = f16_to_f32(++scale_h);
    *scale_out = scale_h;
    *min_out = min_h;
    const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
        const float q = std::nearbyint((x[i * stride] - min) * inv);
        // NaN (a NaN value, or an infinite one times a zero inv) fails q >= 0 and gets code 0: converting it to an
        // integer would be undefined.
        codes[i] = q >= 0.0f ? static_cast<unsigned>(std::min(q, static_cast<float>(levels))) : 0u;
    }
}

}  // namespace

void kv_quantize_run(const float* x, std::size_t n, std::size_t stride, int bits, std::uint8_t* packed,
                     std::uint16_t* params) {
    std::vector<unsigned> codes(n);
    quantize_codes(x, n, stride, bits, codes.data(), &params[0], &params[1]);
    const std::size_t m = kv_packed_bytes(n, bits);
    std::memset(packed, 0, m);
    for (std::size_t i = 0; i < n; ++i) {
        packed[i % m] = static_cast<std::uint8_t>(packed[i % m] | (codes[i] << (bits * (i / m))));
    }
}

void kv_quantize_key_group(const float* keys, std::size_t dim, int bits, std::uint8_t* codes, std::uint16_t* params) {
    std::memset(codes, 0, kv_packed_bytes(kKvKeyGroup * dim, bits));
    const std::size_t f = static_cast<std::size_t>(8 / bits);
    unsigned c_codes[kKvKeyGroup];
    for (std::size_t d = 0; d < dim; ++d) {
        quantize_codes(keys + d, kKvKeyGroup, dim, bits, c_codes, &params[d], &params[dim + d]);
        for (std::size_t c = 0; c < kKvKeyGroup; ++c) {
            const std::size_t u = ((d / 4) * kKvKeyGroup + c) * 4 + d % 4;
            const std::size_t j = u / 32;
            std::uint8_t& b = codes[(j / f) * 32 + u % 32];
            b = static_cast<std::uint8_t>(b | (c_codes[c] << (bits * (j % f))));
        }
    }
}

void kv_key_query(const float* q, const std::uint16_t* params, int bits, std::size_t dim, std::int8_t* qi, float* a,
                  float* base) {
    constexpr float kQmax = 127.0f;
    float amax = 0.0f, b = 0.0f, folded = 0.0f;
    for (std::size_t d = 0; d < dim; ++d) {
        const float x = q[d] * f16_to_f32(params[d]);
        amax = std::max(amax, std::abs(x));
        folded += x;
        b += q[d] * f16_to_f32(params[dim + d]);
    }
    const float inv = amax > 0.0f ? kQmax / amax : 0.0f;
    int qsum = 0;
    for (std::size_t d = 0; d < dim; ++d) {
        // A NaN product (a non-finite channel scale, e.g. from a damaged snapshot) counts as 0: converting it to an
        // integer would be undefined. Otherwise |product| <= 127.
        const float r = std::nearbyint(q[d] * f16_to_f32(params[d]) * inv);
        qi[d] = r == r ? static_cast<std::int8_t>(r) : std::int8_t{0};
        qsum += qi[d];
    }
    *a = amax / kQmax;
    // Rounding error of the folded query counts against codes centred on the middle level, not against raw codes.
    const float mid = static_cast<float>((1 << bits) - 1) / 2.0f;
    *base = b + mid * (folded - *a * static_cast<float>(qsum));
}

namespace scalar {

void dot_rows_f16(const float* q, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float scale,
                  float* out) {
    for (std::size_t c = 0; c < n_rows; ++c) {
        const std::uint16_t* r = rows + c * dim;
        float s = 0.0f;
        for (std::size_t d = 0; d < dim; ++d) s += q[d] * f16_to_f32(r[d]);
        out[c] = scale * s;
    }
}

void accumulate_rows_f16(const float* p, const std::uint16_t* rows, std::size_t n_rows, std::size_t dim, float* out) {
    for (std::size_t c = 0; c < n_rows; ++c) {
        const std::uint16_t* r = rows + c * dim;
        for (std::size_t d = 0; d < dim; ++d) out[d] += p[c] * f16_to_f32(r[d]);
    }
}

void key_group_scores(const float* q, int n_q, std::size_t q_stride, const std::uint8_t* codes,
                      const std::uint16_t* params, int bits, std::size_t dim, float scale, float* out,
                      std::size_t out_stride) {
    std::vector<std::int8_t> qi(dim);
    for (int i = 0; i < n_q; ++i) {
        float a = 0.0f, base = 0.0f;
        kv_key_query(q + i * q_stride, params, bits, dim, qi.data(), &a, &base);
        for (std::size_t c = 0; c < kKvKeyGroup; ++c) {
            std::int32_t sum = 0;
            for (std::size_t d = 0; d < dim; ++d)
                sum += qi[d] * static_cast<std::int32_t>(kv_key_code(codes, bits, d, c));
            out[i * out_stride + c] = scale * (base + a * static_cast<float>(sum));
        }
    }
}

void accumulate_values(const float* p, std::size_t p_stride, int n_q, std::size_t n_rows, const std::uint8_t* codes,
                       std::size_t row_bytes, const std::uint16_t* params, std::size_t params_stride, int bits,
                       std::size_t group, std::size_t ch0, std::size_t dim, float* out, std::size_t out_stride) {
    const std::size_t run = kv_packed_bytes(group, bits);
    for (std::size_t c = 0; c < n_rows; ++c) {
        const std::uint8_t* r = codes + c * row_bytes;
        const std::uint16_t* pr = params + c * params_stride;
        for (std::size_t d = 0; d < dim; ++d) {
            const std::size_t ch = ch0 + d;
            const std::size_t g = ch / group;
            const float v =
                f16_to_f32(pr[2 * g + 1]) +
                f16_to_f32(pr[2 * g]) * static_cast<float>(kv_unpack_code(r + g * run, group, bits, ch % group));
            for (int i = 0; i < n_q; ++i) out[i * out_stride + d] += p[i * p_stride + c] * v;
        }
    }
}

}  // namespace scalar

const KvKernels& kv_kernels(KernelIsa isa) {
    static const KvKernels kScalar{&scalar::dot_rows_f16, &scalar::accumulate_rows_f16, &scalar::key_group_scores,
                                   &scalar::accumulate_values};
    static const KvKernels kAvx2{&avx2::dot_rows_f16, &avx2::accumulate_rows_f16, &avx2::key_group_scores,
                                 &avx2::accumulate_values};
    static const KvKernels kAvx512{&avx512::dot_rows_f16, &avx512::accumulate_rows_f16, &avx512::key_group_scores,
                                   &avx512::accumulate_values};
    switch (isa) {
        case KernelIsa::kAvx512Vnni:
        case KernelIsa::kAvx512Amx:
            return kAvx512;
        case KernelIsa::kAvx2:
            return kAvx2;
        case KernelIsa::kScalar:
            break;
    }
    return kScalar;
}

}  // namespace kasten::llm
