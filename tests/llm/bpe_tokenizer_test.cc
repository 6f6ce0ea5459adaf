#include "llm/bpe_tokenizer.h"

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/tokenizer_factory.h"
#include "llm/unicode_text.h"
#include "vocab_fixture.h"

namespace kasten::llm {
namespace {

using testing::load_vocab_tokenizer;
using testing::read_vocab_cases;

void expect_golden_and_lossless(const std::string& name) {
    const auto tok = load_vocab_tokenizer(name);
    ASSERT_NE(tok, nullptr);
    ASSERT_EQ(tok->kind(), TokenizerKind::kBytePair);
    const auto cases = read_vocab_cases(name);
    ASSERT_EQ(cases.size(), 46u);
    for (const auto& c : cases) {
        EXPECT_EQ(tok->encode(c.text), c.ids) << name << ": '" << c.text << "'";
        EXPECT_EQ(tok->decode(c.ids), c.text) << name;
        EXPECT_EQ(tok->decode(tok->encode(c.text, {.add_special = true})), c.text) << name;
    }
}

TEST(BpeTokenizerTest, Gpt2GoldenIdsAndRoundTrip) {
    expect_golden_and_lossless("gpt-2");
}
TEST(BpeTokenizerTest, StarCoderGoldenIdsAndRoundTrip) {
    expect_golden_and_lossless("starcoder");
}

TEST(BpeTokenizerTest, ByteToUnicodeTable) {
    std::set<std::uint32_t> seen;
    for (int b = 0; b < 256; ++b) {
        const std::uint32_t cp = BpeTokenizer::byte_to_codepoint(static_cast<std::uint8_t>(b));
        seen.insert(cp);
        EXPECT_EQ(BpeTokenizer::codepoint_to_byte(cp), static_cast<std::uint8_t>(b));
    }
    EXPECT_EQ(seen.size(), 256u);
    EXPECT_EQ(BpeTokenizer::byte_to_codepoint(' '), 0x120u);   // Ġ
    EXPECT_EQ(BpeTokenizer::byte_to_codepoint('\n'), 0x10Au);  // Ċ
    EXPECT_EQ(BpeTokenizer::byte_to_codepoint('A'), static_cast<std::uint32_t>('A'));
    EXPECT_EQ(BpeTokenizer::byte_to_codepoint(0xAD), 0x143u);  // the soft hyphen is the last remapped byte
    EXPECT_FALSE(BpeTokenizer::codepoint_to_byte(0x20).has_value());
    EXPECT_FALSE(BpeTokenizer::codepoint_to_byte(0x144).has_value());
}

TEST(BpeTokenizerTest, Gpt2SpecialsAndDefaults) {
    const auto tok = load_vocab_tokenizer("gpt-2");
    ASSERT_NE(tok, nullptr);
    EXPECT_FALSE(tok->add_bos());
    EXPECT_EQ(tok->bos(), 50256);
    EXPECT_TRUE(tok->is_end_of_generation(50256));
    EXPECT_EQ(tok->encode("Hello", {.add_special = true}), tok->encode("Hello"));
    const auto plain = tok->encode("a<|endoftext|>b");
    EXPECT_EQ(std::count(plain.begin(), plain.end(), 50256), 0);
    EXPECT_EQ(tok->decode(plain), "a<|endoftext|>b");
    EXPECT_EQ(tok->encode("a<|endoftext|>b", {.parse_special = true}),
              (std::vector<TokenId>{*tok->find_token("a"), 50256, *tok->find_token("b")}));
    EXPECT_EQ(tok->decode(tok->encode("a<|endoftext|>b", {.parse_special = true})), "ab");
    // Leading spaces are part of the token ("Ġworld") and survive decoding.
    const auto ids = tok->encode(" world");
    ASSERT_EQ(ids.size(), 1u);
    EXPECT_EQ(tok->token_text(ids[0]), "\xC4\xA0world");
    EXPECT_EQ(tok->token_to_piece(ids[0]), " world");
    // Arbitrary bytes, valid UTF-8 or not, round-trip through byte-level BPE.
    std::string bytes;
    for (int b = 0; b < 256; ++b) bytes.push_back(static_cast<char>(b));
    EXPECT_EQ(tok->decode(tok->encode(bytes)), bytes);
}

// A small byte-level vocabulary: the 256 byte characters, then merged tokens in rank order.
VocabData tiny_bpe_vocab(const std::string& pre, const std::vector<std::pair<std::string, std::string>>& merges) {
    VocabData data;
    data.model = "gpt2";
    data.pre = pre;
    for (int b = 0; b < 256; ++b) {
        std::string ch;
        unicode::append_utf8(BpeTokenizer::byte_to_codepoint(static_cast<std::uint8_t>(b)), ch);
        data.tokens.push_back(ch);
    }
    for (const auto& [l, r] : merges) {
        data.merges.push_back(l + " " + r);
        data.tokens.push_back(l + r);
    }
    data.tokens.push_back("<|begin_of_text|>");
    data.tokens.push_back("<|eot_id|>");
    data.token_types.assign(data.tokens.size(), static_cast<std::int32_t>(TokenType::kNormal));
    data.token_types[data.tokens.size() - 2] = static_cast<std::int32_t>(TokenType::kControl);
    data.token_types[data.tokens.size() - 1] = static_cast<std::int32_t>(TokenType::kControl);
    data.special.bos = static_cast<TokenId>(data.tokens.size() - 2);
    data.special.eos = static_cast<TokenId>(data.tokens.size() - 1);
    return data;
}

std::vector<std::string> texts_of(const Tokenizer& tok, const std::vector<TokenId>& ids) {
    std::vector<std::string> out;
    for (TokenId id : ids) out.push_back(tok.token_text(id));
    return out;
}

TEST(BpeTokenizerTest, MergesLowestRankFirstLeftmostOnTies) {
    // "aaa": the rank-0 merge "a a" applies at the leftmost position first, leaving "aa" + "a".
    auto tok = make_tokenizer(tiny_bpe_vocab("gpt-2", {{"a", "a"}, {"aa", "a"}}));
    ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
    EXPECT_EQ(texts_of(**tok, (*tok)->encode("aa")), (std::vector<std::string>{"aa"}));
    EXPECT_EQ(texts_of(**tok, (*tok)->encode("aaa")), (std::vector<std::string>{"aaa"}));
    EXPECT_EQ(texts_of(**tok, (*tok)->encode("aaaa")), (std::vector<std::string>{"aa", "aa"}));
    // Ranks decide, not position: "b c" (rank 0) beats "a b" (rank 1) in "abc".
    auto tok2 = make_tokenizer(tiny_bpe_vocab("gpt-2", {{"b", "c"}, {"a", "b"}}));
    ASSERT_TRUE(tok2.is_ok());
    EXPECT_EQ(texts_of(**tok2, (*tok2)->encode("abc")), (std::vector<std::string>{"a", "bc"}));
}

TEST(BpeTokenizerTest, Llama3IgnoresMergesForWholeTokensAndAddsBos) {
    // "abc" is a token but no merge sequence reaches it; Llama 3 vocabularies take it whole.
    VocabData data = tiny_bpe_vocab("llama-bpe", {{"a", "b"}});
    data.tokens.push_back("abc");
    data.token_types.push_back(static_cast<std::int32_t>(TokenType::kNormal));
    auto llama3 = make_tokenizer(data);
    ASSERT_TRUE(llama3.is_ok()) << llama3.status().to_string();
    EXPECT_TRUE((*llama3)->add_bos());
    EXPECT_EQ(texts_of(**llama3, (*llama3)->encode("abc")), (std::vector<std::string>{"abc"}));
    const auto with_bos = (*llama3)->encode("abc", {.add_special = true});
    EXPECT_EQ(with_bos.front(), (*llama3)->bos());
    data.pre = "gpt-2";
    auto gpt2 = make_tokenizer(data);
    ASSERT_TRUE(gpt2.is_ok());
    EXPECT_FALSE((*gpt2)->add_bos());
    EXPECT_EQ(texts_of(**gpt2, (*gpt2)->encode("abc")), (std::vector<std::string>{"ab", "c"}));
}

TEST(BpeTokenizerTest, ExplicitFlagsOverrideDefaults) {
    VocabData data = tiny_bpe_vocab("llama-bpe", {{"a", "b"}});
    data.add_bos = false;
    data.add_eos = true;
    auto tok = make_tokenizer(data);
    ASSERT_TRUE(tok.is_ok());
    const auto ids = (*tok)->encode("ab", {.add_special = true});
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_EQ(ids.back(), (*tok)->eos());
    EXPECT_TRUE((*tok)->is_end_of_generation((*tok)->eos()));
}

TEST(BpeTokenizerTest, RejectsUnusableVocabularies) {
    VocabData no_merges = tiny_bpe_vocab("gpt-2", {});
    EXPECT_EQ(make_tokenizer(no_merges).status().code(), StatusCode::kInvalidArgument);
    VocabData unknown_pre = tiny_bpe_vocab("no-such-pre", {{"a", "b"}});
    EXPECT_EQ(make_tokenizer(unknown_pre).status().code(), StatusCode::kNotSupported);
    VocabData bad_types = tiny_bpe_vocab("gpt-2", {{"a", "b"}});
    bad_types.token_types.pop_back();
    EXPECT_EQ(make_tokenizer(bad_types).status().code(), StatusCode::kCorruption);
    // Merges naming unknown tokens are skipped, not fatal.
    VocabData stray = tiny_bpe_vocab("gpt-2", {{"a", "b"}});
    stray.merges.push_back("zz qq");
    stray.merges.push_back("nospace");
    auto tok = make_tokenizer(stray);
    ASSERT_TRUE(tok.is_ok());
    EXPECT_EQ(dynamic_cast<const BpeTokenizer&>(**tok).merge_count(), 1u);
}

TEST(BpeTokenizerTest, OutOfRangeIdsDecodeToNothing) {
    const auto tok = load_vocab_tokenizer("gpt-2");
    ASSERT_NE(tok, nullptr);
    EXPECT_EQ(tok->decode(std::vector<TokenId>{-5, 1000000, *tok->find_token("a")}), "a");
    EXPECT_EQ(tok->token_text(-1), "");
    EXPECT_EQ(tok->token_type(999999), TokenType::kUndefined);
    EXPECT_EQ(tok->token_to_piece(999999), "");
}

TEST(BpeTokenizerTest, TenThousandWordsInMilliseconds) {
    for (const char* name : {"gpt-2", "starcoder"}) {
        const auto tok = load_vocab_tokenizer(name);
        ASSERT_NE(tok, nullptr);
        const std::string text = testing::ten_thousand_words();
        const auto start = std::chrono::steady_clock::now();
        const auto ids = tok->encode(text);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 500 * KASTEN_TEST_SLOWDOWN)
            << name;
        EXPECT_GT(ids.size(), 10000u);
        EXPECT_EQ(tok->decode(ids), text);
    }
}

}  // namespace
}  // namespace kasten::llm
