#include "llm/llama2c_checkpoint.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "llm/gguf_reader.h"
#include "stories_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(Llama2cCheckpointTest, ReadsStories260KHeader) {
    Result<Llama2cCheckpoint> c = Llama2cCheckpoint::open(testing::stories_bin());
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    const ModelConfig& cfg = c->config();
    EXPECT_EQ(cfg.n_embd, 64);
    EXPECT_EQ(cfg.n_ff, 172);
    EXPECT_EQ(cfg.n_layer, 5);
    EXPECT_EQ(cfg.n_head, 8);
    EXPECT_EQ(cfg.n_head_kv, 4);
    EXPECT_EQ(cfg.head_dim, 8);
    EXPECT_EQ(cfg.n_rot, 8);
    EXPECT_EQ(cfg.n_vocab, 512);
    EXPECT_EQ(cfg.train_context, 512);
    EXPECT_EQ(cfg.rope_style, RopeStyle::kNormal);
    EXPECT_TRUE(c->tied_classifier());
    EXPECT_EQ(c->tensors().size(), 1u + 9u * 5u + 1u);
}

// The GGUF file was converted from the same checkpoint: every tensor must match by name, byte for byte.
TEST(Llama2cCheckpointTest, TensorsMatchTheConvertedGguf) {
    Result<Llama2cCheckpoint> c = Llama2cCheckpoint::open(testing::stories_bin());
    Result<GgufReader> g = GgufReader::open(testing::stories_gguf());
    ASSERT_TRUE(c.is_ok());
    ASSERT_TRUE(g.is_ok());
    for (const TensorView& t : c->tensors()) {
        const TensorView* other = g->find_tensor(t.name);
        ASSERT_NE(other, nullptr) << t.name;
        EXPECT_EQ(other->dims, t.dims) << t.name;
        ASSERT_EQ(other->n_bytes, t.n_bytes) << t.name;
        EXPECT_EQ(std::memcmp(other->data, t.data, t.n_bytes), 0) << t.name;
    }
}

std::string tiny_checkpoint(std::int32_t vocab, bool with_classifier) {
    // dim 4, hidden 8, 1 layer, 2 heads, 1 kv head, |vocab|, seq_len 3
    std::int32_t header[7] = {4, 8, 1, 2, 1, vocab, 3};
    const int v = vocab < 0 ? -vocab : vocab;
    const int dim = 4, hidden = 8, kv_dim = 2, head = 2, seq = 3;
    std::size_t floats =
        v * dim + dim + dim * dim + 2 * kv_dim * dim + dim * dim + dim + 3 * hidden * dim + dim + seq * head;
    if (with_classifier) floats += v * dim;
    std::string bytes(reinterpret_cast<const char*>(header), sizeof header);
    for (std::size_t i = 0; i < floats; ++i) {
        float f = static_cast<float>(i);
        bytes.append(reinterpret_cast<const char*>(&f), 4);
    }
    return bytes;
}

TEST(Llama2cCheckpointTest, NegativeVocabMeansUntiedClassifier) {
    TempDir dir;
    write_file(dir.file("m.bin"), tiny_checkpoint(-6, true));
    Result<Llama2cCheckpoint> c = Llama2cCheckpoint::open(dir.file("m.bin"));
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    EXPECT_FALSE(c->tied_classifier());
    EXPECT_EQ(c->config().n_vocab, 6);
    const TensorView& out = c->tensors().back();
    EXPECT_EQ(out.name, "output.weight");
    EXPECT_EQ(out.dims, (std::vector<std::uint64_t>{4, 6}));
    float first = 0;
    std::memcpy(&first, out.data, 4);
    // Everything before the classifier: the 2-D weights, norms and freq_cis (see tiny_checkpoint()).
    EXPECT_EQ(first, static_cast<float>(6 * 4 + 4 + 16 + 16 + 16 + 4 + 96 + 4 + 6));
}

TEST(Llama2cCheckpointTest, RejectsBadFiles) {
    TempDir dir;
    write_file(dir.file("short.bin"), "abc");
    EXPECT_EQ(Llama2cCheckpoint::open(dir.file("short.bin")).status().code(), StatusCode::kCorruption);
    std::string ok = tiny_checkpoint(6, false);
    write_file(dir.file("trunc.bin"), ok.substr(0, ok.size() - 4));
    EXPECT_EQ(Llama2cCheckpoint::open(dir.file("trunc.bin")).status().code(), StatusCode::kCorruption);
    write_file(dir.file("long.bin"), ok + "xxxx");
    EXPECT_EQ(Llama2cCheckpoint::open(dir.file("long.bin")).status().code(), StatusCode::kCorruption);
    std::string bad_heads = ok;
    std::int32_t three = 3;
    std::memcpy(bad_heads.data() + 12, &three, 4);  // 4 % 3 != 0
    write_file(dir.file("heads.bin"), bad_heads);
    EXPECT_EQ(Llama2cCheckpoint::open(dir.file("heads.bin")).status().code(), StatusCode::kCorruption);
    std::string zero = ok;
    std::memset(zero.data(), 0, 4);
    write_file(dir.file("zero.bin"), zero);
    EXPECT_EQ(Llama2cCheckpoint::open(dir.file("zero.bin")).status().code(), StatusCode::kCorruption);
    EXPECT_EQ(Llama2cCheckpoint::open(dir.file("absent.bin")).status().code(), StatusCode::kNotFound);
}

TEST(Llama2cVocabTest, ReadsTok512) {
    Result<Llama2cVocab> v = read_llama2c_vocab(testing::stories_tokenizer_bin(), 512);
    ASSERT_TRUE(v.is_ok()) << v.status().to_string();
    ASSERT_EQ(v->pieces.size(), 512u);
    EXPECT_EQ(v->pieces[0], "<unk>");
    EXPECT_EQ(v->pieces[1], "\n<s>\n");
    EXPECT_EQ(v->pieces[3], "<0x00>");
    // Agrees with the GGUF vocabulary once "▁" is mapped to a space.
    Result<GgufReader> g = GgufReader::open(testing::stories_gguf());
    ASSERT_TRUE(g.is_ok());
    std::vector<std::string> tokens = g->get_string_array("tokenizer.ggml.tokens").value();
    std::vector<float> scores = g->get_float_array("tokenizer.ggml.scores").value();
    for (int i = 3; i < 512; ++i) {
        std::string t = tokens[i];
        for (std::size_t p = t.find("\xE2\x96\x81"); p != std::string::npos; p = t.find("\xE2\x96\x81")) {
            t.replace(p, 3, " ");
        }
        EXPECT_EQ(v->pieces[i], t) << i;
        EXPECT_EQ(v->scores[i], scores[i]) << i;
    }
    EXPECT_EQ(read_llama2c_vocab(testing::stories_tokenizer_bin(), 513).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace kasten::llm
