#include <algorithm>
#include <cmath>
#include <cstring>

#include "llm/f16.h"
#include "llm/kv_kernels.h"

namespace kasten::llm {

void kv_quantize_run(const float* x, std::size_t n, std::size_t stride, int bits, std::uint8_t* packed,
                     std::uint16_t* params) {
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
    params[0] = scale_h;
    params[1] = min_h;
    const std::size_t m = kv_packed_bytes(n, bits);
    std::memset(packed, 0, m);
    const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
        const float q = std::nearbyint((x[i * stride] - min) * inv);
        const auto code = static_cast<unsigned>(std::clamp(q, 0.0f, static_cast<float>(levels)));
        packed[i % m] = static_cast<std::uint8_t>(packed[i % m] | (code << (bits * (i / m))));
    }
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

void key_group_scores(const float* q, const std::uint8_t* codes, const std::uint16_t* params, int bits, std::size_t dim,
                      float scale, float* out) {
    const std::size_t run = kv_packed_bytes(kKvKeyGroup, bits);
    float base = 0.0f;
    float acc[kKvKeyGroup] = {};
    for (std::size_t d = 0; d < dim; ++d) {
        const float qs = q[d] * f16_to_f32(params[2 * d]);
        base += q[d] * f16_to_f32(params[2 * d + 1]);
        const std::uint8_t* r = codes + d * run;
        for (int c = 0; c < kKvKeyGroup; ++c)
            acc[c] += qs * static_cast<float>(kv_unpack_code(r, kKvKeyGroup, bits, c));
    }
    for (int c = 0; c < kKvKeyGroup; ++c) out[c] = scale * (base + acc[c]);
}

void accumulate_values(const float* p, std::size_t n_rows, const std::uint8_t* codes, std::size_t row_bytes,
                       const std::uint16_t* params, std::size_t params_stride, int bits, std::size_t group,
                       std::size_t ch0, std::size_t dim, float* out) {
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
            out[d] += p[c] * v;
        }
    }
}

}  // namespace scalar

const KvKernels& kv_kernels(KernelIsa isa) {
    static const KvKernels kScalar{&scalar::dot_rows_f16, &scalar::accumulate_rows_f16, &scalar::key_group_scores,
                                   &scalar::accumulate_values};
    static const KvKernels kAvx2{&avx2::dot_rows_f16, &avx2::accumulate_rows_f16, &avx2::key_group_scores,
                                 &avx2::accumulate_values};
    return isa == KernelIsa::kAvx2 ? kAvx2 : kScalar;
}

}  // namespace kasten::llm
