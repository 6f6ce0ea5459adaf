#include "llm/model_converter.h"
#include "llm/model_info.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "llm/gguf_reader.h"
#include "llm/llama_context.h"
#include "llm/sampler.h"
#include "stories_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

int argmax(std::span<const float> v) {
    return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

// A long, varied token sequence: BOS + the F32 model's own sample at temperature 0.9 (several stories, 500
// positions in all).
std::vector<int> long_sample(const std::shared_ptr<const LlamaModel>& model, ThreadPool& pool) {
    LlamaContext ctx(model, LlamaContext::make_full_cache(model->config(), 512), &pool);
    SamplerOptions o;
    o.temperature = 0.9f;
    o.seed = 7;
    Sampler sampler(o);
    std::vector<int> tokens = {1};
    EXPECT_TRUE(ctx.eval(tokens).is_ok());
    while (tokens.size() < 500) {
        tokens.push_back(sampler.sample(ctx.logits()).value());
        EXPECT_TRUE(ctx.eval(std::span<const int>(&tokens.back(), 1)).is_ok());
    }
    return tokens;
}

std::vector<int> top1_per_position(const std::shared_ptr<const LlamaModel>& model, const std::vector<int>& tokens,
                                   ThreadPool& pool) {
    LlamaContext ctx(model, LlamaContext::make_full_cache(model->config(), 512), &pool);
    EXPECT_TRUE(ctx.eval(tokens, /*all_logits=*/true).is_ok());
    std::vector<int> top;
    for (std::size_t i = 0; i < tokens.size(); ++i) top.push_back(argmax(ctx.logits(static_cast<int>(i))));
    return top;
}

TEST(ModelConverterTest, RequantizedStoriesAgreeWithF32OnTopOneTokens) {
    testing::TempDir dir;
    ThreadPool pool(2);
    Result<std::shared_ptr<const LlamaModel>> f32 = LlamaModel::open(testing::stories_gguf());
    ASSERT_TRUE(f32.is_ok());
    const std::vector<int> sample = long_sample(*f32, pool);
    const std::vector<int> want = top1_per_position(*f32, sample, pool);

    // Issue 4 asks for >= 99 % (Q8_0) and >= 95 % (Q4_0) on this sample. Plain round-to-nearest Q8_0 / Q4_0
    // (RequantizeOptions::calibrate = false) measure 99.0 % and 89.2 % here. The default conversion calibrates on
    // the model's own generations (never this sample): GPTQ in forward order against the quantized model's
    // inputs, then the sensitivity-driven mix, which measures each matrix's damage on the calibration tokens and
    // stores the worst per byte one step up. Measured here: Q8_0 99.2 % (2 matrices in F16, the classifier
    // first; 33.9 % of the F32 bytes, plain Q8_0 31.1 %), Q4_0 96.8 % (15 of 35 candidate matrices in Q8_0: the
    // attn_k, most attn_v and the later layers' ffn_gate/ffn_up; 26.0 % of the F32 bytes, pure Q4_0 22.4 %).
    // On 8 validation samples (other seeds and temperatures; what the defaults were chosen on) plain / calibrated
    // pure / default give Q8_0 99.1 / 99.2 / 99.4 % and Q4_0 88.7 / 92.4 / 96.5 %. F16 (99.8 %) shows the
    // comparison itself is sound.
    struct Case {
        TensorType type;
        double min_agreement;
    };
    for (Case c : {Case{TensorType::kF16, 0.995}, Case{TensorType::kQ8_0, 0.99}, Case{TensorType::kQ4_0, 0.95}}) {
        const std::string path = dir.file(std::string(tensor_type_name(c.type)) + ".gguf");
        Result<ConversionReport> report = requantize_gguf(testing::stories_gguf(), path, c.type);
        ASSERT_TRUE(report.is_ok()) << report.status().to_string();
        Result<GgufReader> gguf = GgufReader::open(path);
        ASSERT_TRUE(gguf.is_ok());
        EXPECT_EQ(report->tensors, 48);
        EXPECT_EQ(gguf->find_tensor("blk.0.ffn_norm.weight")->type, TensorType::kF32);
        if (c.type != TensorType::kF16) {
            // 2 + 5·6 matrices of width 64 converted (in the target type, or one step up when the mixed-precision
            // rule promoted them), ffn_down (width 172) as F16, 1-D norms kept. The classifier (output.weight) is
            // Q8_0 in the Q4_0 file, as llama.cpp keeps it at Q6_K/Q8_0; in the Q8_0 file the rule finds it the
            // most damaging matrix per byte and stores it as F16. The rule promotes a minority of the matrices,
            // and the file stays well under half the F32 size (and the Q4_0 file under the Q8_0 size).
            EXPECT_EQ(report->quantized, 2 + 5 * 6);
            EXPECT_EQ(report->fell_back, 5);
            EXPECT_EQ(report->kept, 11);
            EXPECT_GT(report->calibration_tokens, 4000);
            EXPECT_GT(report->promoted, 0);
            EXPECT_LT(report->promoted, (2 + 5 * 6) / 2);
            EXPECT_LE(report->predicted_kl, c.type == TensorType::kQ4_0 ? 0.01 : 0.0003);
            EXPECT_LT(report->bytes_out, report->bytes_in / 2);
            if (c.type == TensorType::kQ4_0) {
                EXPECT_LT(report->bytes_out, report->bytes_in * 3 / 10);
            }
            EXPECT_EQ(gguf->find_tensor("blk.0.attn_q.weight")->type, c.type);
            EXPECT_EQ(gguf->find_tensor("blk.0.ffn_down.weight")->type, TensorType::kF16);
            EXPECT_EQ(gguf->find_tensor("output.weight")->type,
                      c.type == TensorType::kQ4_0 ? TensorType::kQ8_0 : TensorType::kF16);
            int promoted = 0;
            for (const TensorView& t : gguf->tensors()) {
                if (t.dims.size() == 2 && t.name != "output.weight" && !t.name.ends_with("ffn_down.weight")) {
                    EXPECT_TRUE(t.type == c.type ||
                                t.type == (c.type == TensorType::kQ4_0 ? TensorType::kQ8_0 : TensorType::kF16))
                        << t.name;
                    promoted += t.type != c.type;
                }
            }
            EXPECT_EQ(promoted + (c.type == TensorType::kQ8_0 ? 1 : 0), report->promoted);
            Result<std::uint64_t> qv = gguf->get_uint("general.quantization_version");
            ASSERT_TRUE(qv.is_ok());
            EXPECT_EQ(*qv, 2u);
        }

        Result<std::shared_ptr<const LlamaModel>> q = LlamaModel::open(path);
        ASSERT_TRUE(q.is_ok()) << q.status().to_string();
        const std::vector<int> got = top1_per_position(*q, sample, pool);
        int same = 0;
        for (std::size_t i = 0; i < want.size(); ++i) same += want[i] == got[i];
        const double agreement = static_cast<double>(same) / static_cast<double>(want.size());
        RecordProperty(std::string(tensor_type_name(c.type)) + "_top1_agreement", std::to_string(agreement));
        EXPECT_GE(agreement, c.min_agreement) << tensor_type_name(c.type);
        std::printf("[ info     ] %s top-1 agreement with F32: %.4f over %zu positions\n",
                    std::string(tensor_type_name(c.type)).c_str(), agreement, want.size());
    }
}

TEST(ModelConverterTest, PlainAndPureConversionsKeepTheStandardLayout) {
    testing::TempDir dir;
    RequantizeOptions plain;
    plain.calibrate = false;
    Result<ConversionReport> r =
        requantize_gguf(testing::stories_gguf(), dir.file("plain.gguf"), TensorType::kQ4_0, plain);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->calibration_tokens, 0);
    EXPECT_EQ(r->promoted, 0);
    EXPECT_EQ(r->quantized, 2 + 5 * 6);

    RequantizeOptions pure;
    pure.mixed_precision = false;
    pure.calibration_text =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun. "
        "One day, she saw a big dog in the park. The dog was friendly and wagged its tail.";
    r = requantize_gguf(testing::stories_gguf(), dir.file("pure.gguf"), TensorType::kQ4_0, pure);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_GT(r->calibration_tokens, 30);
    EXPECT_LT(r->calibration_tokens, 100);
    EXPECT_EQ(r->promoted, 0);
    Result<GgufReader> gguf = GgufReader::open(dir.file("pure.gguf"));
    ASSERT_TRUE(gguf.is_ok());
    for (const TensorView& t : gguf->tensors()) {
        if (t.dims.size() != 2) continue;
        const TensorType want = t.name == "output.weight"             ? TensorType::kQ8_0
                                : t.name.ends_with("ffn_down.weight") ? TensorType::kF16
                                                                      : TensorType::kQ4_0;
        EXPECT_EQ(t.type, want) << t.name;
    }
    // Same bytes as the plain file, different values.
    Result<GgufReader> plain_gguf = GgufReader::open(dir.file("plain.gguf"));
    ASSERT_TRUE(plain_gguf.is_ok());
    const TensorView* a = gguf->find_tensor("blk.0.attn_q.weight");
    const TensorView* b = plain_gguf->find_tensor("blk.0.attn_q.weight");
    ASSERT_EQ(a->n_bytes, b->n_bytes);
    EXPECT_NE(std::vector<std::uint8_t>(a->data, a->data + a->n_bytes),
              std::vector<std::uint8_t>(b->data, b->data + b->n_bytes));
}

TEST(ModelConverterTest, RejectsUnsupportedTargets) {
    testing::TempDir dir;
    EXPECT_EQ(requantize_gguf(testing::stories_gguf(), dir.file("x.gguf"), TensorType::kQ5_1).status().code(),
              StatusCode::kNotSupported);
    EXPECT_EQ(requantize_gguf(dir.file("missing.gguf"), dir.file("x.gguf"), TensorType::kQ8_0).status().code(),
              StatusCode::kNotFound);
}

TEST(ModelInfoTest, DescribesStories) {
    Result<ModelInfo> info = read_model_info(testing::stories_gguf());
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    EXPECT_EQ(info->format, "GGUF v3");
    EXPECT_EQ(info->tensor_count, 48);
    EXPECT_EQ(info->config.n_layer, 5);
    EXPECT_EQ(info->chat_template, "none");
    const std::string text = info->to_text();
    EXPECT_NE(text.find("5 layers, width 64, 8 heads (4 KV, head dim 8), FFN 172, vocab 512"), std::string::npos)
        << text;
    EXPECT_NE(text.find("llama (SentencePiece BPE), 512 tokens, bos 1, eos 2"), std::string::npos) << text;
    Result<ModelInfo> bin = read_model_info(testing::stories_bin());
    ASSERT_TRUE(bin.is_ok());
    EXPECT_EQ(bin->format, "llama2.c");
    EXPECT_TRUE(bin->tied_output);
}

}  // namespace
}  // namespace kasten::llm
