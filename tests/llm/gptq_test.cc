#include "llm/gptq.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "llm/quantization.h"

namespace kasten::llm {
namespace {

constexpr std::size_t kCols = 64;
constexpr std::size_t kRows = 24;
constexpr std::size_t kSamples = 400;

// Correlated inputs with column scales from 0.1 to 3 (like activations with a few strong channels).
std::vector<float> make_inputs(std::mt19937& rng) {
    std::normal_distribution<float> normal;
    std::vector<float> mix(kCols * kCols);
    for (float& v : mix) v = normal(rng) / std::sqrt(static_cast<float>(kCols));
    std::vector<float> x(kSamples * kCols, 0.0f);
    for (std::size_t s = 0; s < kSamples; ++s) {
        std::vector<float> z(kCols);
        for (float& v : z) v = normal(rng);
        for (std::size_t i = 0; i < kCols; ++i) {
            float acc = z[i];
            for (std::size_t j = 0; j < kCols; ++j) acc += mix[i * kCols + j] * z[j];
            x[s * kCols + i] = acc * (0.1f + 2.9f * static_cast<float>(i % 7) / 6.0f);
        }
    }
    return x;
}

std::vector<float> second_moment(const std::vector<float>& a, const std::vector<float>& b) {
    std::vector<float> m(kCols * kCols, 0.0f);
    for (std::size_t s = 0; s < kSamples; ++s) {
        for (std::size_t i = 0; i < kCols; ++i) {
            for (std::size_t j = 0; j < kCols; ++j) m[i * kCols + j] += a[s * kCols + i] * b[s * kCols + j] / kSamples;
        }
    }
    return m;
}

// Σ over samples and rows of ((W_a − W_b)·x)², divided by the samples.
double output_error(const std::vector<float>& wa, const std::vector<float>& xa, const std::vector<float>& wb,
                    const std::vector<float>& xb) {
    double e = 0.0;
    for (std::size_t s = 0; s < kSamples; ++s) {
        for (std::size_t r = 0; r < kRows; ++r) {
            double ya = 0.0, yb = 0.0;
            for (std::size_t j = 0; j < kCols; ++j) {
                ya += wa[r * kCols + j] * xa[s * kCols + j];
                yb += wb[r * kCols + j] * xb[s * kCols + j];
            }
            e += (ya - yb) * (ya - yb);
        }
    }
    return e / kSamples;
}

std::vector<float> dequantize(TensorType type, const std::vector<std::uint8_t>& q) {
    std::vector<float> w(kRows * kCols);
    for (std::size_t r = 0; r < kRows; ++r) {
        dequantize_row(type, q.data() + r * row_bytes(type, kCols), kCols, w.data() + r * kCols);
    }
    return w;
}

std::vector<float> random_weights(std::mt19937& rng) {
    std::normal_distribution<float> normal;
    std::vector<float> w(kRows * kCols);
    for (float& v : w) v = normal(rng) * 0.05f;
    return w;
}

TEST(GptqTest, LowersTheOutputErrorOfRoundToNearest) {
    std::mt19937 rng(3);
    const std::vector<float> x = make_inputs(rng);
    const std::vector<float> h = second_moment(x, x);
    const std::vector<float> w = random_weights(rng);
    for (TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0}) {
        std::vector<std::uint8_t> rtn(kRows * row_bytes(type, kCols)), gptq(rtn.size());
        for (std::size_t r = 0; r < kRows; ++r) {
            ASSERT_TRUE(
                quantize_row(type, w.data() + r * kCols, kCols, rtn.data() + r * row_bytes(type, kCols)).is_ok());
        }
        ASSERT_TRUE(quantize_matrix_gptq(type, w.data(), kRows, kCols, h, gptq.data()).is_ok());
        const double e_rtn = output_error(w, x, dequantize(type, rtn), x);
        const double e_gptq = output_error(w, x, dequantize(type, gptq), x);
        EXPECT_LT(e_gptq, 0.8 * e_rtn) << tensor_type_name(type);
        // Every Q4_0 quant is in range by construction; the blocks decode to values near the weights.
        const std::vector<float> back = dequantize(type, gptq);
        double rel = 0.0, norm = 0.0;
        for (std::size_t i = 0; i < w.size(); ++i) {
            rel += (back[i] - w[i]) * (back[i] - w[i]);
            norm += w[i] * w[i];
        }
        EXPECT_LT(rel / norm, type == TensorType::kQ4_0 ? 0.1 : 0.001) << tensor_type_name(type);
    }
}

TEST(GptqTest, RejectsWhatItCannotQuantize) {
    std::vector<float> w(kRows * kCols, 0.5f), h(kCols * kCols, 0.0f);
    std::vector<std::uint8_t> out(kRows * row_bytes(TensorType::kQ8_0, kCols));
    EXPECT_EQ(quantize_matrix_gptq(TensorType::kF16, w.data(), kRows, kCols, h, out.data()).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(quantize_matrix_gptq(TensorType::kQ8_0, w.data(), kRows, 48, h, out.data()).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(
        quantize_matrix_gptq(TensorType::kQ8_0, w.data(), kRows, kCols, std::span<const float>(h).first(10), out.data())
            .code(),
        StatusCode::kInvalidArgument);
    // An all-zero second moment (no calibration signal) still quantizes: every column counts as dead.
    EXPECT_TRUE(quantize_matrix_gptq(TensorType::kQ8_0, w.data(), kRows, kCols, h, out.data()).is_ok());
    EXPECT_NEAR(dequantize(TensorType::kQ8_0, out)[5], 0.5f, 0.01f);
}

TEST(GptqTest, CorrectionMapsShiftedInputsToTheFloatOutputs) {
    std::mt19937 rng(5);
    const std::vector<float> x = make_inputs(rng);
    const std::vector<float> w = random_weights(rng);
    // Same inputs: nothing to correct.
    const std::vector<float> h = second_moment(x, x);
    std::vector<float> same = w;
    ASSERT_TRUE(correct_for_quantized_inputs(same.data(), kRows, kCols, h, h).is_ok());
    for (std::size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(same[i], w[i], 1e-4f);

    // Inputs with a systematic error (a per-column gain and a leak between neighbours, as upstream quantization
    // error would give): the corrected weights recover most of the float output.
    std::vector<float> xq(x.size());
    for (std::size_t s = 0; s < kSamples; ++s) {
        for (std::size_t i = 0; i < kCols; ++i) {
            xq[s * kCols + i] =
                x[s * kCols + i] * (0.8f + 0.01f * static_cast<float>(i % 20)) + 0.2f * x[s * kCols + (i + 1) % kCols];
        }
    }
    std::vector<float> corrected = w;
    ASSERT_TRUE(
        correct_for_quantized_inputs(corrected.data(), kRows, kCols, second_moment(x, xq), second_moment(xq, xq))
            .is_ok());
    EXPECT_LT(output_error(corrected, xq, w, x), 0.05 * output_error(w, xq, w, x));
    EXPECT_EQ(
        correct_for_quantized_inputs(corrected.data(), kRows, kCols, h, std::span<const float>(h).first(3)).code(),
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
