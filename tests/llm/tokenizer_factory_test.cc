#include "llm/tokenizer_factory.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/gguf_writer.h"
#include "llm/spm_tokenizer.h"
#include "stories_fixture.h"
#include "temp_dir.h"
#include "vocab_fixture.h"

namespace kasten::llm {
namespace {

using testing::TempDir;
using testing::vocab_gguf_path;

Result<VocabData> read_vocab(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(const GgufReader gguf, GgufReader::open(path));
    return read_gguf_vocab(gguf);
}

TEST(TokenizerFactoryTest, ReadsTheTokenizerKeysOfEveryFixture) {
    auto spm = read_vocab(vocab_gguf_path("llama-spm"));
    ASSERT_TRUE(spm.is_ok()) << spm.status().to_string();
    EXPECT_EQ(spm->model, "llama");
    EXPECT_EQ(spm->pre, "default");
    EXPECT_EQ(spm->tokens.size(), 32000u);
    EXPECT_EQ(spm->scores.size(), 32000u);
    EXPECT_EQ(spm->token_types.size(), 32000u);
    EXPECT_EQ(spm->special.bos, 1);
    EXPECT_EQ(spm->special.eos, 2);
    EXPECT_EQ(spm->special.unk, 0);
    EXPECT_EQ(spm->add_bos, std::optional<bool>(true));
    EXPECT_EQ(spm->add_eos, std::optional<bool>(false));
    EXPECT_FALSE(spm->add_space_prefix.has_value());
    EXPECT_TRUE(spm->chat_template.empty());

    auto bert = read_vocab(vocab_gguf_path("bert-bge"));
    ASSERT_TRUE(bert.is_ok());
    EXPECT_EQ(bert->model, "bert");
    EXPECT_EQ(bert->special.sep, 102);  // from llama.cpp's "seperator_token_id" spelling
    EXPECT_EQ(bert->special.cls, 101);
    EXPECT_EQ(bert->special.mask, 103);
    EXPECT_EQ(bert->special.pad, 0);

    auto gpt2 = read_vocab(vocab_gguf_path("gpt-2"));
    ASSERT_TRUE(gpt2.is_ok());
    EXPECT_EQ(gpt2->pre, "gpt-2");
    EXPECT_EQ(gpt2->merges.size(), 50000u);
    EXPECT_EQ(gpt2->merges[0], "\xC4\xA0 t");
    EXPECT_TRUE(gpt2->scores.empty());

    auto phi3 = read_vocab(vocab_gguf_path("phi-3"));
    ASSERT_TRUE(phi3.is_ok());
    EXPECT_NE(phi3->chat_template.find("<|assistant|>"), std::string::npos);
    EXPECT_EQ(phi3->special.pad, 32000);

    // stories260K writes 4294967295 for "no separator / padding token".
    auto stories = read_vocab(testing::stories_gguf());
    ASSERT_TRUE(stories.is_ok());
    EXPECT_EQ(stories->special.sep, kNoToken);
    EXPECT_EQ(stories->special.pad, kNoToken);
    EXPECT_EQ(stories->tokens.size(), 512u);
}

TEST(TokenizerFactoryTest, BuildsTheRightTokenizerKind) {
    const std::pair<const char*, TokenizerKind> expected[] = {
        {"llama-spm", TokenizerKind::kSentencePiece}, {"phi-3", TokenizerKind::kSentencePiece},
        {"gpt-2", TokenizerKind::kBytePair},          {"starcoder", TokenizerKind::kBytePair},
        {"bert-bge", TokenizerKind::kWordPiece},
    };
    for (const auto& [name, kind] : expected) {
        auto t = load_gguf_tokenizer(vocab_gguf_path(name));
        ASSERT_TRUE(t.is_ok()) << name << ": " << t.status().to_string();
        EXPECT_EQ((*t)->kind(), kind) << name;
    }
}

TEST(TokenizerFactoryTest, Llama2cVocabularyInGgufForm) {
    Llama2cVocab v;
    v.max_token_length = 7;
    v.pieces = {"<unk>", "\n<s>\n", "\n</s>\n", "<0x0A>", " t", "he", " the"};
    v.scores = {0, 0, 0, 0, -1, -2, -3};
    const VocabData data = vocab_from_llama2c(v);
    EXPECT_EQ(data.model, "llama");
    EXPECT_EQ(data.tokens,
              (std::vector<std::string>{"<unk>", "<s>", "</s>", "<0x0A>", "\xE2\x96\x81t", "he", "\xE2\x96\x81the"}));
    EXPECT_EQ(data.token_types, (std::vector<std::int32_t>{2, 3, 3, 6, 1, 1, 1}));
    EXPECT_EQ(data.scores, v.scores);
    auto tok = make_tokenizer(data);
    ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
    EXPECT_EQ((*tok)->encode("the\n", {.add_special = true}), (std::vector<TokenId>{1, 6, 3}));
    EXPECT_EQ((*tok)->decode((*tok)->encode("the\n", {.add_special = true})), "the\n");
}

TEST(TokenizerFactoryTest, ReportsBadFilesAsStatus) {
    EXPECT_EQ(load_gguf_tokenizer("/nonexistent/model.gguf").status().code(), StatusCode::kNotFound);

    TempDir dir;
    testing::write_file(dir.file("junk.gguf"), "this is not a gguf file at all");
    EXPECT_FALSE(load_gguf_tokenizer(dir.file("junk.gguf")).is_ok());

    auto write = [&](const std::string& name, auto&& fill) {
        GgufWriter w;
        w.set("general.architecture", GgufValue::string("llama"));
        fill(w);
        const Status s = w.write(dir.file(name));
        EXPECT_TRUE(s.is_ok()) << s.to_string();
        return dir.file(name);
    };
    const std::string no_tokenizer = write("none.gguf", [](GgufWriter&) {});
    EXPECT_EQ(load_gguf_tokenizer(no_tokenizer).status().code(), StatusCode::kNotFound);

    const std::string wrong_type = write("wrong.gguf", [](GgufWriter& w) {
        w.set("tokenizer.ggml.model", GgufValue::string("llama"));
        w.set("tokenizer.ggml.tokens", GgufValue::string("not an array"));
    });
    EXPECT_EQ(load_gguf_tokenizer(wrong_type).status().code(), StatusCode::kCorruption);

    const std::string short_scores = write("scores.gguf", [](GgufWriter& w) {
        w.set("tokenizer.ggml.model", GgufValue::string("llama"));
        w.set("tokenizer.ggml.tokens", GgufValue::string_array({"<unk>", "<s>", "</s>", "a"}));
        w.set("tokenizer.ggml.scores", GgufValue::f32_array({0, 0}));
    });
    EXPECT_EQ(load_gguf_tokenizer(short_scores).status().code(), StatusCode::kCorruption);

    const std::string t5 = write("t5.gguf", [](GgufWriter& w) {
        w.set("tokenizer.ggml.model", GgufValue::string("t5"));
        w.set("tokenizer.ggml.tokens", GgufValue::string_array({"<pad>", "</s>", "<unk>"}));
    });
    EXPECT_EQ(load_gguf_tokenizer(t5).status().code(), StatusCode::kNotSupported);

    const std::string no_prefix = write("prefix.gguf", [](GgufWriter& w) {
        w.set("tokenizer.ggml.model", GgufValue::string("llama"));
        w.set("tokenizer.ggml.tokens", GgufValue::string_array({"<unk>", "<s>", "</s>", "a", "\xE2\x96\x81",
                                                                "\xE2\x96\x81"
                                                                "a"}));
        w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
        w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(99));  // out of range: treated as absent
    });
    auto tok = load_gguf_tokenizer(no_prefix);
    ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
    EXPECT_FALSE(dynamic_cast<const SpmTokenizer&>(**tok).add_space_prefix());
    EXPECT_EQ((*tok)->bos(), 1);  // the llama default replaces the unusable id
    EXPECT_EQ((*tok)->encode("a a"), (std::vector<TokenId>{3, 5}));

    VocabData empty;
    empty.model = "llama";
    EXPECT_EQ(make_tokenizer(empty).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
