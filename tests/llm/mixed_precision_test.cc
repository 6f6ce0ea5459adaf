#include "llm/mixed_precision.h"

#include <gtest/gtest.h>

#include "llm/calibration_forward.h"
#include "llm/importance_matrix.h"
#include "llm/tokenizer_factory.h"
#include "stories_fixture.h"

namespace kasten::llm {
namespace {

TEST(MixedPrecisionTest, PromotesTheMostDamagingMatricesUntilTheTargetIsMet) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    Result<std::unique_ptr<Tokenizer>> tok = load_gguf_tokenizer(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok() && tok.is_ok());
    ThreadPool pool(1);
    const std::vector<std::string> prompts = default_calibration_prompts();
    Result<std::vector<std::vector<int>>> calib = generate_calibration(*model, **tok, prompts, 400, 100, 1, pool);
    ASSERT_TRUE(calib.is_ok());
    // Every matrix of width 64 in Q4_0; ffn_down (width 172) is not a candidate.
    std::map<std::string, TensorType> plan;
    for (const auto& [name, m] : CalibrationForward::matrices(**model)) {
        plan[name] = m->cols() % 32 == 0 ? TensorType::kQ4_0 : TensorType::kF16;
    }
    Result<MixedPrecisionPlan> loose =
        plan_mixed_precision(**model, plan, TensorType::kQ4_0, TensorType::kQ8_0, 1.0, *calib, nullptr);
    ASSERT_TRUE(loose.is_ok()) << loose.status().to_string();
    EXPECT_TRUE(loose->promoted.empty());
    EXPECT_EQ(loose->types, plan);
    EXPECT_GT(loose->low_kl, 0.0);
    EXPECT_DOUBLE_EQ(loose->predicted_kl, loose->low_kl);

    const double target = loose->low_kl / 3;
    Result<MixedPrecisionPlan> mix =
        plan_mixed_precision(**model, plan, TensorType::kQ4_0, TensorType::kQ8_0, target, *calib, nullptr);
    ASSERT_TRUE(mix.is_ok());
    EXPECT_DOUBLE_EQ(mix->low_kl, loose->low_kl);
    EXPECT_LE(mix->predicted_kl, target);
    ASSERT_FALSE(mix->promoted.empty());
    EXPECT_LT(mix->promoted.size(), 2u + 5 * 6);
    int in_q8 = 0;
    for (const auto& [name, type] : mix->types) {
        const bool promoted = std::find(mix->promoted.begin(), mix->promoted.end(), name) != mix->promoted.end();
        EXPECT_EQ(type, promoted ? TensorType::kQ8_0 : plan.at(name)) << name;
        in_q8 += type == TensorType::kQ8_0;
    }
    EXPECT_EQ(in_q8, static_cast<int>(mix->promoted.size()));

    EXPECT_EQ(
        plan_mixed_precision(**model, plan, TensorType::kF16, TensorType::kF32, 0.1, *calib, nullptr).status().code(),
        StatusCode::kInvalidArgument);
    EXPECT_EQ(
        plan_mixed_precision(**model, plan, TensorType::kQ4_0, TensorType::kQ8_0, 0.1, {}, nullptr).status().code(),
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
