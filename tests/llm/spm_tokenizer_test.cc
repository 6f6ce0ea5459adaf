#include "llm/spm_tokenizer.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/llama2c_checkpoint.h"
#include "llm/tokenizer_factory.h"
#include "stories_fixture.h"
#include "vocab_fixture.h"

namespace kasten::llm {
namespace {

using testing::load_vocab_tokenizer;
using testing::read_vocab_cases;

std::unique_ptr<Tokenizer> stories_gguf_tokenizer() {
    auto t = load_gguf_tokenizer(testing::stories_gguf());
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    return t.is_ok() ? std::move(t).value() : nullptr;
}

std::unique_ptr<Tokenizer> stories_llama2c_tokenizer() {
    auto vocab = read_llama2c_vocab(testing::stories_tokenizer_bin(), 512);
    EXPECT_TRUE(vocab.is_ok()) << vocab.status().to_string();
    if (!vocab.is_ok()) return nullptr;
    auto t = make_tokenizer(vocab_from_llama2c(*vocab));
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    return t.is_ok() ? std::move(t).value() : nullptr;
}

void expect_golden_ids(const std::string& name) {
    const auto tok = load_vocab_tokenizer(name);
    ASSERT_NE(tok, nullptr);
    ASSERT_EQ(tok->kind(), TokenizerKind::kSentencePiece);
    const auto cases = read_vocab_cases(name);
    ASSERT_EQ(cases.size(), 46u);
    for (const auto& c : cases) {
        EXPECT_EQ(tok->encode(c.text), c.ids) << name << ": '" << c.text << "'";
    }
}

void expect_lossless(const std::string& name) {
    const auto tok = load_vocab_tokenizer(name);
    ASSERT_NE(tok, nullptr);
    for (const auto& c : read_vocab_cases(name)) {
        EXPECT_EQ(tok->decode(c.ids), c.text) << name << ": decode of the expected ids";
        EXPECT_EQ(tok->decode(tok->encode(c.text, {.add_special = true})), c.text) << name;
    }
}

TEST(SpmTokenizerTest, LlamaSpmGoldenIds) {
    expect_golden_ids("llama-spm");
}
TEST(SpmTokenizerTest, Phi3GoldenIds) {
    expect_golden_ids("phi-3");
}
TEST(SpmTokenizerTest, LlamaSpmRoundTrip) {
    expect_lossless("llama-spm");
}
TEST(SpmTokenizerTest, Phi3RoundTrip) {
    expect_lossless("phi-3");
}

TEST(SpmTokenizerTest, SpacePrefixBosAndBytes) {
    const auto tok = load_vocab_tokenizer("llama-spm");
    ASSERT_NE(tok, nullptr);
    EXPECT_TRUE(tok->add_bos());
    EXPECT_FALSE(tok->add_eos());
    EXPECT_EQ(tok->bos(), 1);
    EXPECT_EQ(tok->eos(), 2);
    // "▁Hello" is one token; with add_special the BOS comes first.
    const auto hello = tok->encode("Hello");
    ASSERT_EQ(hello.size(), 1u);
    EXPECT_EQ(tok->token_text(hello[0]), "\xE2\x96\x81Hello");
    const auto with_bos = tok->encode("Hello", {.add_special = true});
    ASSERT_EQ(with_bos.size(), 2u);
    EXPECT_EQ(with_bos[0], 1);
    EXPECT_EQ(tok->encode(""), std::vector<TokenId>{});
    EXPECT_EQ(tok->encode("", {.add_special = true}), std::vector<TokenId>{1});
    // A character outside the vocabulary falls back to its UTF-8 bytes: 🦙 = F0 9F A6 99.
    const auto llama = tok->encode("\xF0\x9F\xA6\x99");
    ASSERT_EQ(llama.size(), 5u);  // "▁" + four byte tokens
    EXPECT_EQ(tok->token_text(llama[1]), "<0xF0>");
    EXPECT_EQ(tok->token_type(llama[1]), TokenType::kByte);
    EXPECT_EQ(tok->token_to_piece(llama[1]), "\xF0");
    EXPECT_EQ(tok->decode(llama), "\xF0\x9F\xA6\x99");
    // Invalid UTF-8 survives as bytes.
    const std::string invalid = "a\xFF\xC3(b";
    EXPECT_EQ(tok->decode(tok->encode(invalid)), invalid);
    // The one lossy case, shared with SentencePiece: a literal "▁" is the escaped space.
    EXPECT_EQ(tok->decode(tok->encode("a\xE2\x96\x81"
                                      "b")),
              "a b");
}

TEST(SpmTokenizerTest, SpecialTokensOnlyWhenAsked) {
    const auto tok = load_vocab_tokenizer("llama-spm");
    ASSERT_NE(tok, nullptr);
    const auto plain = tok->encode("<s>Hi</s>");
    EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
    EXPECT_EQ(tok->decode(plain), "<s>Hi</s>");
    const auto parsed = tok->encode("<s>Hi</s>", {.parse_special = true});
    ASSERT_GE(parsed.size(), 3u);
    EXPECT_EQ(parsed.front(), 1);
    EXPECT_EQ(parsed.back(), 2);
    // Text after a special token gets the space prefix, and decode removes it again.
    EXPECT_EQ(tok->token_text(parsed[1]), "\xE2\x96\x81Hi");
    EXPECT_EQ(tok->decode(parsed), "Hi");
    EXPECT_EQ(tok->decode(parsed, {.render_special = true}), "<s>Hi</s>");
    EXPECT_TRUE(tok->is_end_of_generation(2));
    EXPECT_FALSE(tok->is_end_of_generation(1));
    EXPECT_TRUE(tok->is_control(1));
    // Streaming pieces keep their spaces.
    EXPECT_EQ(tok->token_to_piece(parsed[1]), " Hi");
    EXPECT_EQ(tok->decode(parsed, {.strip_leading_space = false}), " Hi");
}

TEST(SpmTokenizerTest, Phi3EndOfTurnTokens) {
    const auto tok = load_vocab_tokenizer("phi-3");
    ASSERT_NE(tok, nullptr);
    const auto end = tok->find_token("<|end|>");
    ASSERT_TRUE(end.has_value());
    EXPECT_TRUE(tok->is_end_of_generation(*end));
    EXPECT_TRUE(tok->is_end_of_generation(32000));  // <|endoftext|>, the eos
    const auto ids = tok->encode("<|user|>\nHi<|end|>", {.parse_special = true});
    EXPECT_EQ(ids.front(), *tok->find_token("<|user|>"));
    EXPECT_EQ(ids.back(), *end);
    // </s> is a user-defined token in this vocabulary: always recognised, always rendered.
    const auto eos_text = tok->encode("a</s>");
    EXPECT_EQ(eos_text.back(), 2);
    EXPECT_EQ(tok->decode(eos_text), "a</s>");
}

TEST(SpmTokenizerTest, StoriesOnceUponATime) {
    // The ids llama2.c's run.c encode() gives for this prompt with stories260K's tok512.bin (BOS included).
    const std::vector<TokenId> expected = {1, 403, 407, 261, 378};
    const auto from_gguf = stories_gguf_tokenizer();
    const auto from_bin = stories_llama2c_tokenizer();
    ASSERT_NE(from_gguf, nullptr);
    ASSERT_NE(from_bin, nullptr);
    EXPECT_EQ(from_gguf->encode("Once upon a time", {.add_special = true}), expected);
    EXPECT_EQ(from_bin->encode("Once upon a time", {.add_special = true}), expected);
    EXPECT_EQ(from_gguf->decode(expected), "Once upon a time");
}

TEST(SpmTokenizerTest, StoriesBinAndGgufAgree) {
    const auto gguf = stories_gguf_tokenizer();
    const auto bin = stories_llama2c_tokenizer();
    ASSERT_NE(gguf, nullptr);
    ASSERT_NE(bin, nullptr);
    ASSERT_EQ(gguf->vocab_size(), 512);
    ASSERT_EQ(bin->vocab_size(), 512);
    for (TokenId id = 0; id < 512; ++id) {
        EXPECT_EQ(gguf->token_text(id), bin->token_text(id)) << id;
        EXPECT_EQ(gguf->token_type(id), bin->token_type(id)) << id;
        EXPECT_EQ(gguf->token_score(id), bin->token_score(id)) << id;
    }
    // Ids computed independently with a port of llama2.c's encode() (BOS included).
    EXPECT_EQ(bin->encode("Hello world", {.add_special = true}),
              (std::vector<TokenId>{1, 346, 306, 414, 263, 304, 341}));
    EXPECT_EQ(bin->encode(" leading space", {.add_special = true}),
              (std::vector<TokenId>{1, 410, 278, 411, 380, 299, 262, 427, 412, 331}));
    EXPECT_EQ(bin->encode("Lily's caf\xC3\xA9 \xF0\x9F\xA6\x99!", {.add_special = true}),
              (std::vector<TokenId>{1, 317, 439, 419, 280, 412, 431, 485, 410, 243, 162, 169, 156, 443}));
    for (const auto& c : read_vocab_cases("llama-spm")) {
        const auto ids = gguf->encode(c.text, {.add_special = true});
        EXPECT_EQ(bin->encode(c.text, {.add_special = true}), ids) << c.text;
        EXPECT_EQ(gguf->decode(ids), c.text);
    }
}

TEST(SpmTokenizerTest, TenThousandWordsInMilliseconds) {
    const auto tok = load_vocab_tokenizer("llama-spm");
    ASSERT_NE(tok, nullptr);
    const std::string text = testing::ten_thousand_words();
    const auto start = std::chrono::steady_clock::now();
    const auto ids = tok->encode(text);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 500 * KASTEN_TEST_SLOWDOWN);
    EXPECT_GT(ids.size(), 10000u);
    EXPECT_EQ(tok->decode(ids), text);
}

}  // namespace
}  // namespace kasten::llm
