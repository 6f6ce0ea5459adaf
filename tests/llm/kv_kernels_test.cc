#include "llm/kv_kernels.h"

#include <cmath>
#include <limits>
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

// Found by tests/fuzz/kv_snapshot_fuzz: a restored KIVI window holding NaN reached the quantizer at the next commit,
// whose float-to-integer conversion of NaN was undefined (UBSan). Non-finite values get code 0 and leave the codes
// of the finite values of their run as they were.
TEST(KvKernelsTest, NonFiniteValuesAreQuantizedWithoutUndefinedBehaviour) {
    std::mt19937 rng(3);
    for (int bits : {2, 4, 8}) {
        std::vector<float> x = random_vec(32, rng);
        std::vector<std::uint8_t> clean(kv_packed_bytes(32, bits)), damaged(clean.size());
        std::uint16_t clean_params[2], damaged_params[2];
        kv_quantize_run(x.data(), 32, 1, bits, clean.data(), clean_params);
        x[5] = std::nanf("");
        kv_quantize_run(x.data(), 32, 1, bits, damaged.data(), damaged_params);
        EXPECT_EQ(kv_unpack_code(damaged.data(), 32, bits, 5), 0u) << bits;
        EXPECT_EQ(damaged_params[0], clean_params[0]) << bits;
        EXPECT_EQ(damaged_params[1], clean_params[1]) << bits;
        for (std::size_t i = 0; i < 32; ++i) {
            if (i != 5)
                EXPECT_EQ(kv_unpack_code(damaged.data(), 32, bits, i), kv_unpack_code(clean.data(), 32, bits, i));
        }

        // An infinite key makes its channel's scale infinite; a NaN one its channel's range: every code is defined.
        std::vector<float> keys = random_vec(32 * 8, rng);
        keys[3 * 8 + 2] = std::numeric_limits<float>::infinity();
        keys[0 * 8 + 5] = std::nanf("");
        keys[7 * 8 + 5] = -std::numeric_limits<float>::infinity();
        std::vector<std::uint8_t> codes(kv_packed_bytes(32 * 8, bits));
        std::vector<std::uint16_t> params(2 * 8);
        kv_quantize_key_group(keys.data(), 8, bits, codes.data(), params.data());
        EXPECT_EQ(kv_key_code(codes.data(), bits, 2, 3), 0u) << bits;
        EXPECT_EQ(kv_key_code(codes.data(), bits, 5, 0), 0u) << bits;
    }
}

// A key group with its codes and params, from random keys.
struct KeyGroup {
    std::vector<float> keys;  // [32, dim]
    std::vector<std::uint8_t> codes;
    std::vector<std::uint16_t> params;
};

KeyGroup key_group(std::size_t dim, int bits, std::mt19937& rng) {
    KeyGroup g;
    g.keys = random_vec(32 * dim, rng);
    g.codes.resize(kv_packed_bytes(32 * dim, bits));
    g.params.resize(2 * dim);
    kv_quantize_key_group(g.keys.data(), dim, bits, g.codes.data(), g.params.data());
    return g;
}

TEST(KvKernelsTest, KeyGroupRoundTripsPerChannel) {
    std::mt19937 rng(4);
    for (int bits : {2, 4, 8}) {
        for (std::size_t dim : {8u, 12u, 64u}) {
            const KeyGroup g = key_group(dim, bits, rng);
            for (std::size_t d = 0; d < dim; ++d) {
                const float scale = f16_to_f32(g.params[d]), min = f16_to_f32(g.params[dim + d]);
                for (std::size_t c = 0; c < 32; ++c) {
                    const float decoded = min + scale * static_cast<float>(kv_key_code(g.codes.data(), bits, d, c));
                    EXPECT_LE(std::abs(decoded - g.keys[c * dim + d]), 0.5f * scale + 2e-3f) << bits << " " << d;
                }
            }
        }
    }
}

TEST(KvKernelsTest, ScalarKeyScoresAreTheIntegerQueryDotAndCloseToTheDequantizedDot) {
    std::mt19937 rng(2);
    for (int bits : {2, 4, 8}) {
        for (std::size_t dim : {8u, 64u}) {
            const KeyGroup g = key_group(dim, bits, rng);
            const std::vector<float> q = random_vec(2 * dim, rng);
            float got[64];
            scalar::key_group_scores(q.data(), 2, dim, g.codes.data(), g.params.data(), bits, dim, 0.5f, got, 32);
            for (int i = 0; i < 2; ++i) {
                std::vector<std::int8_t> qi(dim);
                float a = 0, base = 0;
                kv_key_query(q.data() + i * dim, g.params.data(), bits, dim, qi.data(), &a, &base);
                for (std::size_t d = 0; d < dim; ++d) EXPECT_LE(std::abs(qi[d]), 127);
                for (int c = 0; c < 32; ++c) {
                    long long isum = 0;
                    double centred = 0;
                    double dequantized = 0;
                    for (std::size_t d = 0; d < dim; ++d) {
                        const unsigned code = kv_key_code(g.codes.data(), bits, d, c);
                        isum += qi[d] * static_cast<long long>(code);
                        centred += std::abs(code - ((1 << bits) - 1) / 2.0);
                        dequantized += q[i * dim + d] * (f16_to_f32(g.params[dim + d]) +
                                                         f16_to_f32(g.params[d]) * static_cast<float>(code));
                    }
                    const float value = got[i * 32 + c];
                    EXPECT_NEAR(value, 0.5 * (base + a * static_cast<double>(isum)), 1e-4);
                    // Rounding the folded query costs at most half a unit a per code step from the middle level.
                    EXPECT_LE(std::abs(value - 0.5 * dequantized), 0.5 * (0.5 * a * centred) + 1e-4);
                }
            }
        }
    }
}

TEST(KvKernelsTest, ScalarValuesMatchNaiveDequantization) {
    std::mt19937 rng(5);
    for (int bits : {2, 4, 8}) {
        const std::size_t width = 64, group = 32, rows = 9, stride = 2 * (width / group);
        const std::size_t row_bytes = kv_packed_bytes(width, bits);
        std::vector<float> x = random_vec(rows * width, rng);
        std::vector<std::uint8_t> codes(rows * row_bytes);
        std::vector<std::uint16_t> params(rows * stride);
        for (std::size_t c = 0; c < rows; ++c) {
            for (std::size_t g = 0; g < width / group; ++g) {
                kv_quantize_run(x.data() + c * width + g * group, group, 1, bits,
                                codes.data() + c * row_bytes + g * kv_packed_bytes(group, bits),
                                params.data() + c * stride + 2 * g);
            }
        }
        const std::vector<float> p = random_vec(2 * rows, rng);
        std::vector<float> out(2 * 32, 0.0f);
        scalar::accumulate_values(p.data(), rows, 2, rows, codes.data(), row_bytes, params.data(), stride, bits, group,
                                  32, 32, out.data(), 32);
        for (int i = 0; i < 2; ++i) {
            for (std::size_t d = 0; d < 32; ++d) {
                double want = 0;
                for (std::size_t c = 0; c < rows; ++c) {
                    const std::uint16_t* pr = params.data() + c * stride + 2;  // group 1 holds channels 32..63
                    want += p[i * rows + c] *
                            (f16_to_f32(pr[1]) + f16_to_f32(pr[0]) * kv_unpack_code(codes.data() + c * row_bytes +
                                                                                        kv_packed_bytes(group, bits),
                                                                                    group, bits, d));
                }
                EXPECT_NEAR(out[i * 32 + d], want, 1e-4);
            }
        }
    }
}

// Each SIMD level against the scalar reference: `simd` is kv_kernels() of that level.
void expect_matches_scalar(const KvKernels& simd, const char* level) {
    std::mt19937 rng(3);
    for (std::size_t dim : {8u, 16u, 64u, 128u}) {
        const std::size_t rows = 37;
        const std::vector<float> x = random_vec(rows * dim, rng), q = random_vec(dim, rng), p = random_vec(rows, rng);
        const std::vector<std::uint16_t> h = to_f16(x);
        std::vector<float> a(rows), b(rows);
        scalar::dot_rows_f16(q.data(), h.data(), rows, dim, 0.7f, a.data());
        simd.dot_rows_f16(q.data(), h.data(), rows, dim, 0.7f, b.data());
        for (std::size_t i = 0; i < rows; ++i) EXPECT_NEAR(a[i], b[i], 1e-4f * (1 + std::abs(a[i])));
        std::vector<float> oa(dim, 0.5f), ob(dim, 0.5f);
        scalar::accumulate_rows_f16(p.data(), h.data(), rows, dim, oa.data());
        simd.accumulate_rows_f16(p.data(), h.data(), rows, dim, ob.data());
        for (std::size_t d = 0; d < dim; ++d) EXPECT_NEAR(oa[d], ob[d], 1e-4f * (1 + std::abs(oa[d])));
    }
    for (int bits : {2, 4, 8}) {
        for (std::size_t dim : {8u, 12u, 64u, 96u}) {
            const KeyGroup g = key_group(dim, bits, rng);
            for (int n_q : {1, 3, 5}) {
                const std::vector<float> q = random_vec(n_q * dim, rng);
                std::vector<float> a(n_q * 32), b(n_q * 32);
                scalar::key_group_scores(q.data(), n_q, dim, g.codes.data(), g.params.data(), bits, dim, 0.3f, a.data(),
                                         32);
                simd.key_group_scores(q.data(), n_q, dim, g.codes.data(), g.params.data(), bits, dim, 0.3f, b.data(),
                                      32);
                for (std::size_t c = 0; c < a.size(); ++c) {
                    EXPECT_NEAR(a[c], b[c], 1e-4f * (1 + std::abs(a[c])))
                        << level << " " << bits << " " << dim << " " << n_q;
                }
            }

            // Values: rows of 3 heads of `dim`, groups of 32 channels (or one head when dim is not a multiple).
            if (dim % 4 != 0) continue;
            const std::size_t width = 3 * dim, group = dim % 32 == 0 ? 32 : dim, rows = 21;
            const std::size_t row_bytes = kv_packed_bytes(width, bits), stride = 2 * (width / group);
            std::vector<std::uint8_t> vcodes(rows * row_bytes);
            for (auto& c : vcodes) c = static_cast<std::uint8_t>(rng());
            std::vector<std::uint16_t> vparams(rows * stride);
            for (auto& v : vparams) v = f32_to_f16(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng));
            for (int n_q : {1, 3, 5}) {
                const std::vector<float> p = random_vec(n_q * rows, rng);
                for (std::size_t head = 0; head < 3; ++head) {
                    std::vector<float> oa(n_q * dim, 0.25f), ob(n_q * dim, 0.25f);
                    scalar::accumulate_values(p.data(), rows, n_q, rows, vcodes.data(), row_bytes, vparams.data(),
                                              stride, bits, group, head * dim, dim, oa.data(), dim);
                    simd.accumulate_values(p.data(), rows, n_q, rows, vcodes.data(), row_bytes, vparams.data(), stride,
                                           bits, group, head * dim, dim, ob.data(), dim);
                    for (std::size_t d = 0; d < oa.size(); ++d) {
                        EXPECT_NEAR(oa[d], ob[d], 1e-4f * (1 + std::abs(oa[d]))) << level << " " << bits << " " << dim;
                    }
                }
            }
        }
    }
}

TEST(KvKernelsTest, EverySimdLevelOfThisCpuMatchesScalar) {
    // This machine's levels; CI without AVX-512 covers AVX2 and the forced scalar path (the contract suite runs
    // every cache at every level too).
    ASSERT_TRUE(avx2_supported()) << "kasten's build targets x86-64-v3 (AVX2)";
    expect_matches_scalar(kv_kernels(KernelIsa::kAvx2), "avx2");
    if (avx512_vnni_supported()) expect_matches_scalar(kv_kernels(KernelIsa::kAvx512Vnni), "avx512-vnni");
}

// Found by tests/fuzz/kv_snapshot_fuzz: a restored key group with an infinite channel scale made the folded query
// NaN, whose conversion to int8 (scalar) or int32 sum (AVX2) was undefined (UBSan). Such channels get qi = 0 and every
// level computes the scores without undefined behaviour.
TEST(KvKernelsTest, NonFiniteChannelScalesGiveAZeroIntegerQuery) {
    std::mt19937 rng(4);
    const std::size_t dim = 32;
    const std::vector<float> q = random_vec(dim, rng);
    std::vector<std::uint16_t> params(2 * dim);
    for (std::size_t d = 0; d < dim; ++d) params[d] = f32_to_f16(0.05f), params[dim + d] = f32_to_f16(-1.0f);
    params[3] = 0x7c00;  // +inf
    params[9] = 0x7e00;  // NaN
    std::int8_t qi[dim];
    float a = 0, base = 0;
    kv_key_query(q.data(), params.data(), 4, dim, qi, &a, &base);
    EXPECT_EQ(qi[3], 0);
    EXPECT_EQ(qi[9], 0);
    std::vector<std::uint8_t> codes(kv_packed_bytes(kKvKeyGroup * dim, 4), 0x35);
    std::vector<float> out(kKvKeyGroup);
    for (KernelIsa isa : {KernelIsa::kScalar, KernelIsa::kAvx2, KernelIsa::kAvx512Vnni, KernelIsa::kAvx512Amx}) {
        if (!kernel_isa_supported(isa)) continue;
        kv_kernels(isa).key_group_scores(q.data(), 1, dim, codes.data(), params.data(), 4, dim, 0.5f, out.data(),
                                         kKvKeyGroup);
    }
}

TEST(KvKernelsTest, DispatchHandsOutTheRequestedLevel) {
    EXPECT_EQ(kv_kernels(KernelIsa::kScalar).key_group_scores, &scalar::key_group_scores);
    EXPECT_EQ(kv_kernels(KernelIsa::kScalar).accumulate_values, &scalar::accumulate_values);
    EXPECT_EQ(kv_kernels(KernelIsa::kAvx2).key_group_scores, &avx2::key_group_scores);
    EXPECT_EQ(kv_kernels(KernelIsa::kAvx512Vnni).key_group_scores, &avx512::key_group_scores);
    EXPECT_EQ(kv_kernels(KernelIsa::kAvx512Amx).key_group_scores, &avx512::key_group_scores);  // no AMX KV kernels
}

}  // namespace
}  // namespace kasten::llm
