#include "llm/calibration_forward.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "llm/llama_context.h"
#include "stories_fixture.h"

namespace kasten::llm {
namespace {

std::vector<int> some_tokens(int n) {
    std::vector<int> t = {1};
    for (int i = 1; i < n; ++i) t.push_back((i * 37 + 11) % 500 + 3);
    return t;
}

const auto kPass = [](std::span<const std::string>, const float*, int, int) { return true; };

TEST(CalibrationForwardTest, LogitsMatchTheDecoder) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    const std::vector<int> tokens = some_tokens(40);
    ThreadPool pool(1);
    LlamaContext ctx(*model, LlamaContext::make_full_cache((*model)->config(), 64), &pool);
    ASSERT_TRUE(ctx.eval(tokens, /*all_logits=*/true).is_ok());

    CalibrationForward forward(**model, nullptr);
    std::vector<float> logits;
    forward.run(tokens, kPass, &logits);
    const auto vocab = static_cast<std::size_t>((*model)->config().n_vocab);
    ASSERT_EQ(logits.size(), tokens.size() * vocab);
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        std::span<const float> want = ctx.logits(static_cast<int>(t));
        float diff = 0.0f;
        for (std::size_t j = 0; j < vocab; ++j) diff = std::max(diff, std::fabs(want[j] - logits[t * vocab + j]));
        EXPECT_LT(diff, 1e-3f) << "token " << t;
    }
}

TEST(CalibrationForwardTest, ReportsEverySiteInOrderAndResumesBlockByBlock) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    const LlamaModel& m = **model;
    const std::vector<std::vector<std::string>> sites = CalibrationForward::sites(m);
    ASSERT_EQ(sites.size(), 4u * 5 + 1);
    EXPECT_EQ(sites[0],
              (std::vector<std::string>{"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight"}));
    EXPECT_EQ(sites[3], std::vector<std::string>{"blk.0.ffn_down.weight"});
    EXPECT_EQ(sites.back(), std::vector<std::string>{"output.weight"});
    EXPECT_EQ(CalibrationForward::matrices(m).size(), 2u + 5 * 7);

    const std::vector<int> tokens = some_tokens(20);
    CalibrationForward forward(m, nullptr);
    std::vector<std::string> seen;
    std::vector<int> widths;
    std::vector<float> whole;
    forward.run(
        tokens,
        [&](std::span<const std::string> names, const float*, int n, int width) {
            EXPECT_EQ(n, 20);
            seen.push_back(names.front());
            widths.push_back(width);
            return true;
        },
        &whole);
    ASSERT_EQ(seen.size(), sites.size());
    for (std::size_t i = 0; i < sites.size(); ++i) EXPECT_EQ(seen[i], sites[i].front());
    EXPECT_EQ(widths[3], m.config().n_ff);

    // A hook that stops a block leaves the sequence as it was; running the blocks one by one gives the same
    // logits as the whole pass.
    CalibrationForward::Sequence s = forward.start(tokens);
    const std::vector<float> before = s.x;
    EXPECT_FALSE(forward.run_block(s, [](std::span<const std::string> names, const float*, int, int) {
        return names.front() != "blk.0.attn_output.weight";
    }));
    EXPECT_EQ(s.blocks_done, 0);
    EXPECT_EQ(s.x, before);
    while (s.blocks_done < forward.n_blocks()) ASSERT_TRUE(forward.run_block(s, kPass));
    std::vector<float> stepped;
    forward.finish(s, kPass, &stepped);
    EXPECT_EQ(stepped, whole);
}

TEST(CalibrationForwardTest, SubstitutedMatricesChangeTheOutputUntilRestored) {
    Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(model.is_ok());
    const LlamaModel& m = **model;
    const std::vector<int> tokens = some_tokens(16);
    CalibrationForward forward(m, nullptr);
    std::vector<float> base, changed, restored;
    forward.run(tokens, kPass, &base);

    // blk.2.ffn_up with every weight doubled.
    const WeightMatrix& up = m.layer(2).up;
    std::vector<float> w(static_cast<std::size_t>(up.rows()) * up.cols());
    for (int r = 0; r < up.rows(); ++r) up.row_to_float(r, w.data() + static_cast<std::size_t>(r) * up.cols());
    for (float& v : w) v *= 2.0f;
    TensorView t;
    t.name = "blk.2.ffn_up.weight";
    t.type = TensorType::kF32;
    t.dims = {static_cast<std::uint64_t>(up.cols()), static_cast<std::uint64_t>(up.rows())};
    t.data = reinterpret_cast<const std::uint8_t*>(w.data());
    t.n_bytes = w.size() * sizeof(float);
    Result<WeightMatrix> doubled = WeightMatrix::from_tensor(t, m.isa());
    ASSERT_TRUE(doubled.is_ok());
    forward.substitute(t.name, &*doubled);
    forward.run(tokens, kPass, &changed);
    EXPECT_NE(changed, base);
    forward.substitute(t.name, nullptr);
    forward.run(tokens, kPass, &restored);
    EXPECT_EQ(restored, base);
}

}  // namespace
}  // namespace kasten::llm
