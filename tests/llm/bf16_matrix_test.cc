#include "llm/bf16_matrix.h"

#include <cmath>
#include <iostream>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

std::vector<Bf16Isa> levels() {
    std::vector<Bf16Isa> out;
    for (Bf16Isa isa : {Bf16Isa::kScalar, Bf16Isa::kAvx512, Bf16Isa::kAmx}) {
        if (bf16_isa_supported(isa)) out.push_back(isa);
    }
    return out;
}

std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    for (std::size_t i = 0; i < n; i += 97) v[i] *= 6.0f;  // a few outliers
    return v;
}

TEST(Bf16MatrixTest, RoundsToNearestEven) {
    EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(float_to_bf16(-2.0f), 0xC000);
    EXPECT_EQ(float_to_bf16(0.0f), 0x0000);
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
    EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
    // 1 + 3 · 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
    EXPECT_EQ(float_to_bf16(1.0f + 3.0f * std::ldexp(1.0f, -8)), 0x3F82);
    // Just above the halfway point rounds up.
    EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);
    EXPECT_EQ(bf16_to_float(0x3F81), 1.0f + std::ldexp(1.0f, -7));
    EXPECT_EQ(bf16_to_float(float_to_bf16(3.140625f)), 3.140625f);  // exactly representable
}

TEST(Bf16MatrixTest, PacksEveryWeightRounded) {
    const int k = 64, n = 96;
    const std::vector<float> w = random_values(static_cast<std::size_t>(k) * n, 1, 0.5f);
    const Bf16Matrix m(w.data(), k, n);
    EXPECT_EQ(m.rows(), k);
    EXPECT_EQ(m.cols(), n);
    for (int r = 0; r < k; ++r) {
        for (int c = 0; c < n; ++c) {
            ASSERT_EQ(m.at(r, c), float_to_bf16(w[static_cast<std::size_t>(r) * n + c])) << r << "," << c;
        }
    }
}

TEST(Bf16MatrixTest, EveryLevelTheCpuRunsMatchesTheReferenceProduct) {
    const std::vector<Bf16Isa> isas = levels();
    std::cout << "bf16 levels:";
    for (Bf16Isa isa : isas) std::cout << ' ' << bf16_isa_name(isa);
    std::cout << "\n";
    struct Shape {
        int m, k, n;
    };
    for (const Shape s : {Shape{1, 32, 32}, Shape{3, 64, 96}, Shape{5, 256, 64}, Shape{17, 96, 128},
                          Shape{33, 512, 160}, Shape{70, 64, 32}, Shape{130, 128, 64}}) {
        const int ldx = s.k + 7, ldy = s.n + 5;
        const std::vector<float> w = random_values(static_cast<std::size_t>(s.k) * s.n, 7, 0.1f);
        const std::vector<float> x = random_values(static_cast<std::size_t>(s.m) * ldx, 8, 1.0f);
        const std::vector<float> bias = random_values(static_cast<std::size_t>(s.n), 9, 0.5f);
        const std::vector<float> start = random_values(static_cast<std::size_t>(s.m + 1) * ldy, 10, 1.0f);
        const Bf16Matrix mat(w.data(), s.k, s.n);
        for (Bf16Output output : {Bf16Output::kSet, Bf16Output::kAdd, Bf16Output::kSetRelu}) {
            for (const bool with_bias : {false, true}) {
                for (Bf16Isa isa : isas) {
                    std::vector<float> y = start;
                    mat.multiply(x.data(), s.m, ldx, y.data(), ldy, with_bias ? bias.data() : nullptr, output, isa);
                    for (int i = 0; i < s.m; ++i) {
                        for (int c = 0; c < s.n; ++c) {
                            double want = 0.0, magnitude = 0.0;
                            for (int r = 0; r < s.k; ++r) {
                                const double term = static_cast<double>(bf16_to_float(
                                                        float_to_bf16(x[static_cast<std::size_t>(i) * ldx + r]))) *
                                                    bf16_to_float(mat.at(r, c));
                                want += term;
                                magnitude += std::fabs(term);
                            }
                            const std::size_t at = static_cast<std::size_t>(i) * ldy + c;
                            if (with_bias) want += bias[static_cast<std::size_t>(c)];
                            if (output == Bf16Output::kAdd) want += start[at];
                            if (output == Bf16Output::kSetRelu) want = std::max(want, 0.0);
                            ASSERT_NEAR(y[at], want, 1e-5 * magnitude + 1e-6)
                                << bf16_isa_name(isa) << " m=" << s.m << " k=" << s.k << " n=" << s.n << " row " << i
                                << " col " << c << " output " << static_cast<int>(output);
                        }
                        // Padding columns of the row are left alone.
                        for (int c = s.n; c < ldy; ++c) {
                            const std::size_t at = static_cast<std::size_t>(i) * ldy + c;
                            ASSERT_EQ(y[at], start[at]) << bf16_isa_name(isa);
                        }
                    }
                    // The row after the last is left alone.
                    for (int c = 0; c < ldy; ++c) {
                        const std::size_t at = static_cast<std::size_t>(s.m) * ldy + c;
                        ASSERT_EQ(y[at], start[at]) << bf16_isa_name(isa) << " m=" << s.m;
                    }
                }
            }
        }
    }
}

TEST(Bf16MatrixTest, EachRowDependsOnItsOwnInputOnly) {
    const int m = 45, k = 128, n = 64;
    const std::vector<float> w = random_values(static_cast<std::size_t>(k) * n, 11, 0.1f);
    const std::vector<float> x = random_values(static_cast<std::size_t>(m) * k, 12, 1.0f);
    const Bf16Matrix mat(w.data(), k, n);
    for (Bf16Isa isa : levels()) {
        std::vector<float> all(static_cast<std::size_t>(m) * n);
        mat.multiply(x.data(), m, k, all.data(), n, nullptr, Bf16Output::kSet, isa);
        for (int i = 0; i < m; ++i) {
            std::vector<float> one(static_cast<std::size_t>(n));
            mat.multiply(x.data() + static_cast<std::size_t>(i) * k, 1, k, one.data(), n, nullptr, Bf16Output::kSet,
                         isa);
            for (int c = 0; c < n; ++c) {
                ASSERT_EQ(one[static_cast<std::size_t>(c)], all[static_cast<std::size_t>(i) * n + c])
                    << bf16_isa_name(isa) << " row " << i;
            }
        }
    }
}

TEST(Bf16MatrixTest, ScalarIsAlwaysSupported) {
    EXPECT_TRUE(bf16_isa_supported(Bf16Isa::kScalar));
    if (amx_bf16_supported()) {
        EXPECT_TRUE(avx512_bf16_supported());
    }
}

}  // namespace
}  // namespace kasten::llm
