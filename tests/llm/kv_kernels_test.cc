#include "llm/kv_kernels.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "llm/f16.h"

namespace kasten::llm {
namespace {

std::vector<float> random_vec(std::size_t n, std::mt19937& rng) {
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

std::vector<std::uint16_t> to_f16(const std::vector<float>& x) {
    std::vector<std::uint16_t> h(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) h[i] = f32_to_f16(x[i]);
    return h;
}

TEST(KvKernelsTest, QuantizeRunRoundTripsWithinHalfAStep) {
    std::mt19937 rng(1);
    for (int bits : {2, 4, 8}) {
        for (std::size_t n : {8u, 32u, 64u}) {
            const std::vector<float> x = random_vec(n * 3, rng);
            std::vector<std::uint8_t> packed(kv_packed_bytes(n, bits));
            std::uint16_t params[2];
            kv_quantize_run(x.data() + 1, n, 3, bits, packed.data(), params);
            const float scale = f16_to_f32(params[0]), min = f16_to_f32(params[1]);
            float lo = x[1], hi = x[1];
            for (std::size_t i = 0; i < n; ++i) lo = std::min(lo, x[1 + 3 * i]), hi = std::max(hi, x[1 + 3 * i]);
            EXPECT_GE(scale * ((1 << bits) - 1) + min, hi - 1e-3f);
            for (std::size_t i = 0; i < n; ++i) {
                const float decoded = min + scale * static_cast<float>(kv_unpack_code(packed.data(), n, bits, i));
                // Half a step, plus the f16 rounding of min.
                EXPECT_LE(std::abs(decoded - x[1 + 3 * i]), 0.5f * scale + 2e-3f * std::abs(lo) + 1e-4f)
                    << bits << " " << n << " " << i;
            }
        }
    }
}

TEST(KvKernelsTest, ScalarKernelsMatchNaiveDequantization) {
    std::mt19937 rng(2);
    for (int bits : {2, 4, 8}) {
        for (std::size_t dim : {8u, 64u}) {
            // Keys: dim channels, each a run of 32 tokens.
            const std::vector<float> keys = random_vec(32 * dim, rng);  // [token, dim]
            std::vector<std::uint8_t> codes(dim * kv_packed_bytes(32, bits));
            std::vector<std::uint16_t> params(dim * 2);
            for (std::size_t d = 0; d < dim; ++d) {
                kv_quantize_run(keys.data() + d, 32, dim, bits, codes.data() + d * kv_packed_bytes(32, bits),
                                params.data() + 2 * d);
            }
            const std::vector<float> q = random_vec(dim, rng);
            float got[32];
            scalar::key_group_scores(q.data(), codes.data(), params.data(), bits, dim, 0.5f, got);
            for (int c = 0; c < 32; ++c) {
                double want = 0;
                for (std::size_t d = 0; d < dim; ++d) {
                    const float k = f16_to_f32(params[2 * d + 1]) +
                                    f16_to_f32(params[2 * d]) *
                                        kv_unpack_code(codes.data() + d * kv_packed_bytes(32, bits), 32, bits, c);
                    want += q[d] * k;
                }
                EXPECT_NEAR(got[c], 0.5 * want, 1e-4) << bits << " " << dim << " " << c;
            }
        }
    }
}

TEST(KvKernelsTest, Avx2MatchesScalar) {
    if (!avx2_supported()) GTEST_FAIL() << "this test runs where AVX2 is present; the scalar path is tested above";
    std::mt19937 rng(3);
    for (std::size_t dim : {8u, 16u, 64u, 128u}) {
        const std::size_t rows = 37;
        const std::vector<float> x = random_vec(rows * dim, rng), q = random_vec(dim, rng), p = random_vec(rows, rng);
        const std::vector<std::uint16_t> h = to_f16(x);
        std::vector<float> a(rows), b(rows);
        scalar::dot_rows_f16(q.data(), h.data(), rows, dim, 0.7f, a.data());
        avx2::dot_rows_f16(q.data(), h.data(), rows, dim, 0.7f, b.data());
        for (std::size_t i = 0; i < rows; ++i) EXPECT_NEAR(a[i], b[i], 1e-4f * (1 + std::abs(a[i])));
        std::vector<float> oa(dim, 0.5f), ob(dim, 0.5f);
        scalar::accumulate_rows_f16(p.data(), h.data(), rows, dim, oa.data());
        avx2::accumulate_rows_f16(p.data(), h.data(), rows, dim, ob.data());
        for (std::size_t d = 0; d < dim; ++d) EXPECT_NEAR(oa[d], ob[d], 1e-4f * (1 + std::abs(oa[d])));
    }
    for (int bits : {2, 4, 8}) {
        for (std::size_t dim : {8u, 64u, 96u}) {
            std::vector<std::uint8_t> codes(dim * kv_packed_bytes(32, bits));
            for (auto& c : codes) c = static_cast<std::uint8_t>(rng());
            std::vector<std::uint16_t> params(dim * 2);
            for (auto& v : params) v = f32_to_f16(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng));
            const std::vector<float> q = random_vec(dim, rng);
            float a[32], b[32];
            scalar::key_group_scores(q.data(), codes.data(), params.data(), bits, dim, 0.3f, a);
            avx2::key_group_scores(q.data(), codes.data(), params.data(), bits, dim, 0.3f, b);
            for (int c = 0; c < 32; ++c) EXPECT_NEAR(a[c], b[c], 1e-4f * (1 + std::abs(a[c]))) << bits << " " << dim;

            // Values: rows of 3 heads of `dim`, groups of 32 channels (or one head when dim is 8).
            const std::size_t width = 3 * dim, group = dim % 32 == 0 ? 32 : dim, rows = 21;
            const std::size_t row_bytes = kv_packed_bytes(width, bits), stride = 2 * (width / group);
            std::vector<std::uint8_t> vcodes(rows * row_bytes);
            for (auto& c : vcodes) c = static_cast<std::uint8_t>(rng());
            std::vector<std::uint16_t> vparams(rows * stride);
            for (auto& v : vparams) v = f32_to_f16(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng));
            const std::vector<float> p = random_vec(rows, rng);
            for (std::size_t head = 0; head < 3; ++head) {
                std::vector<float> oa(dim, 0.25f), ob(dim, 0.25f);
                scalar::accumulate_values(p.data(), rows, vcodes.data(), row_bytes, vparams.data(), stride, bits, group,
                                          head * dim, dim, oa.data());
                avx2::accumulate_values(p.data(), rows, vcodes.data(), row_bytes, vparams.data(), stride, bits, group,
                                        head * dim, dim, ob.data());
                for (std::size_t d = 0; d < dim; ++d) EXPECT_NEAR(oa[d], ob[d], 1e-4f * (1 + std::abs(oa[d])));
            }
        }
    }
}

TEST(KvKernelsTest, DispatchHandsOutTheRequestedLevel) {
    EXPECT_EQ(kv_kernels(KernelIsa::kScalar).key_group_scores, &scalar::key_group_scores);
    if (avx2_supported()) {
        EXPECT_EQ(kv_kernels(KernelIsa::kAvx2).key_group_scores, &avx2::key_group_scores);
    }
}

}  // namespace
}  // namespace kasten::llm
