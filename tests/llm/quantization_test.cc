#include "llm/quantization.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "llm/f16.h"

namespace kasten::llm {
namespace {

// Σ_j w_j (x_j − x̂_j)² with llama.cpp's per-value weights w_j = importance_j · sqrt(σ² + x_j²).
double weighted_error(const std::vector<float>& x, const std::vector<float>& back, const std::vector<float>& imp) {
    double sigma2 = 0.0;
    for (float v : x) sigma2 += v * v;
    sigma2 /= static_cast<double>(x.size());
    double e = 0.0;
    for (std::size_t j = 0; j < x.size(); ++j) {
        e += imp[j] * std::sqrt(sigma2 + x[j] * x[j]) * (x[j] - back[j]) * (x[j] - back[j]);
    }
    return e;
}

TEST(QuantizationTest, WeightedQuantizationLowersTheWeightedError) {
    constexpr std::size_t kN = 128;
    std::mt19937 rng(11);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> uniform(0.0f, 4.0f);
    for (TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0}) {
        double plain_total = 0.0, weighted_total = 0.0;
        for (int row = 0; row < 50; ++row) {
            std::vector<float> x(kN), imp(kN);
            for (float& v : x) v = normal(rng);
            for (float& v : imp) v = uniform(rng) * uniform(rng);
            std::vector<std::uint8_t> plain(row_bytes(type, kN)), weighted(plain.size());
            ASSERT_TRUE(quantize_row(type, x.data(), kN, plain.data()).is_ok());
            ASSERT_TRUE(quantize_row_weighted(type, x.data(), imp.data(), kN, weighted.data()).is_ok());
            std::vector<float> a(kN), b(kN);
            dequantize_row(type, plain.data(), kN, a.data());
            dequantize_row(type, weighted.data(), kN, b.data());
            plain_total += weighted_error(x, a, imp);
            weighted_total += weighted_error(x, b, imp);
        }
        EXPECT_LT(weighted_total, 0.95 * plain_total) << tensor_type_name(type);
    }
}

TEST(QuantizationTest, WeightedQuantizationFallsBackWithoutImportance) {
    std::vector<float> x(64);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
    for (TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kF16}) {
        std::vector<std::uint8_t> a(row_bytes(type, 64)), b(a.size());
        ASSERT_TRUE(quantize_row(type, x.data(), 64, a.data()).is_ok());
        ASSERT_TRUE(quantize_row_weighted(type, x.data(), nullptr, 64, b.data()).is_ok());
        EXPECT_EQ(a, b) << tensor_type_name(type);
    }
    std::vector<float> imp(48, 1.0f);
    std::vector<std::uint8_t> out(row_bytes(TensorType::kQ4_0, 64));
    EXPECT_EQ(quantize_row_weighted(TensorType::kQ4_0, x.data(), imp.data(), 48, out.data()).code(),
              StatusCode::kInvalidArgument);
}

TEST(QuantizationTest, FitSymmetricBlockStaysInRange) {
    std::vector<float> x(32), w(32, 1.0f);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) - 20.0f;
    int q[32];
    for (auto [qmin, qmax] : {std::pair{-8, 7}, std::pair{-127, 127}}) {
        const float d = f16_to_f32(fit_symmetric_block(x.data(), w.data(), 32, qmin, qmax, q));
        EXPECT_GT(d, 0.0f);
        for (int i = 0; i < 32; ++i) {
            EXPECT_GE(q[i], qmin);
            EXPECT_LE(q[i], qmax);
            EXPECT_NEAR(d * q[i], x[i], 2.0f * d);
        }
    }
    std::vector<float> zero(32, 0.0f);
    EXPECT_EQ(f16_to_f32(fit_symmetric_block(zero.data(), w.data(), 32, -8, 7, q)), 0.0f);
}

}  // namespace
}  // namespace kasten::llm
