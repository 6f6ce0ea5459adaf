#include "llm/sequential_quantizer.h"

#include <cmath>

#include <gtest/gtest.h>

#include "llm/calibration_forward.h"
#include "stories_fixture.h"

namespace kasten::llm {
namespace {

std::vector<std::vector<int>> calibration() {
    std::vector<std::vector<int>> out;
    for (int s = 0; s < 4; ++s) {
        std::vector<int> t = {1};
        for (int i = 0; i < 60; ++i) t.push_back((i * 29 + s * 97 + 3) % 500 + 3);
        out.push_back(t);
    }
    return out;
}

TEST(SequentialQuantizerTest, WritesThePlannedMatricesInTheirTypes) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    const LlamaModel& m = **model;
    const std::map<std::string, TensorType> plan = {{"token_embd.weight", TensorType::kQ4_0},
                                                    {"blk.0.attn_q.weight", TensorType::kQ4_0},
                                                    {"blk.2.ffn_down.weight", TensorType::kF16},
                                                    {"blk.4.ffn_up.weight", TensorType::kQ8_0},
                                                    {"output.weight", TensorType::kQ8_0}};
    Result<std::map<std::string, QuantizedMatrix>> out = quantize_sequentially(m, plan, calibration(), nullptr);
    ASSERT_TRUE(out.is_ok()) << out.status().to_string();
    ASSERT_EQ(out->size(), plan.size());
    const std::map<std::string, const WeightMatrix*> source = CalibrationForward::matrices(m);
    for (const auto& [name, type] : plan) {
        const QuantizedMatrix& q = out->at(name);
        const WeightMatrix& src = *source.at(name);
        const auto cols = static_cast<std::size_t>(src.cols());
        EXPECT_EQ(q.type, type) << name;
        ASSERT_EQ(q.bytes.size(), static_cast<std::size_t>(src.rows()) * row_bytes(type, cols)) << name;
        Result<WeightMatrix> view = q.view(name, src.rows(), src.cols(), m.isa());
        ASSERT_TRUE(view.is_ok());
        // The stored weights stay close to the source: the correction toward the float outputs is small.
        std::vector<float> a(cols), b(cols);
        double diff = 0.0, norm = 0.0;
        for (int r = 0; r < src.rows(); ++r) {
            src.row_to_float(r, a.data());
            view->row_to_float(r, b.data());
            for (std::size_t j = 0; j < cols; ++j) {
                diff += (a[j] - b[j]) * (a[j] - b[j]);
                norm += a[j] * a[j];
            }
        }
        EXPECT_LT(diff / norm, 0.1) << name;
        EXPECT_GT(diff, 0.0) << name;
    }
}

TEST(SequentialQuantizerTest, RejectsBadPlansAndCalibration) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    const LlamaModel& m = **model;
    EXPECT_EQ(
        quantize_sequentially(m, {{"blk.9.attn_q.weight", TensorType::kQ8_0}}, calibration(), nullptr).status().code(),
        StatusCode::kInvalidArgument);
    EXPECT_EQ(quantize_sequentially(m, {{"blk.0.ffn_down.weight", TensorType::kQ4_0}}, calibration(), nullptr)
                  .status()
                  .code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(quantize_sequentially(m, {{"blk.0.attn_q.weight", TensorType::kQ4_0}}, {}, nullptr).status().code(),
              StatusCode::kInvalidArgument);
    const std::vector<std::vector<int>> bad = {{1, 600}};
    EXPECT_EQ(quantize_sequentially(m, {{"blk.0.attn_q.weight", TensorType::kQ4_0}}, bad, nullptr).status().code(),
              StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
