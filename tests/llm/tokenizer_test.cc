#include "llm/tokenizer.h"

#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "llm/bpe_tokenizer.h"
#include "llm/unicode_text.h"
#include "vocab_fixture.h"

namespace kasten::llm {
namespace {

using testing::load_vocab_tokenizer;

constexpr const char* kVocabularies[] = {"llama-spm", "phi-3", "gpt-2", "starcoder", "bert-bge"};

// Random text mixing ASCII, multi-byte characters, special-token text and stray bytes.
std::string random_text(std::mt19937& rng) {
    static const char* const kParts[] = {"a",
                                         "Z",
                                         " ",
                                         "  ",
                                         "\n",
                                         "\t",
                                         "'s",
                                         "7",
                                         "123",
                                         ".",
                                         "!?",
                                         "\xC3\xA9",
                                         "\xE6\x97\xA5",
                                         "\xF0\x9F\xA6\x99",
                                         "<s>",
                                         "</s>",
                                         "<|endoftext|>",
                                         "[CLS]",
                                         "<|end|>",
                                         "\xFF",
                                         "\xC3",
                                         "\x80",
                                         "\xCC\x81"};
    constexpr std::size_t n = sizeof(kParts) / sizeof(kParts[0]);
    std::uniform_int_distribution<std::size_t> part(0, n - 1);
    std::uniform_int_distribution<int> length(0, 40);
    std::string text;
    for (int i = length(rng); i > 0; --i) text += kParts[part(rng)];
    return text;
}

// SentencePiece vocabularies with byte fallback cover every byte; a byte-level BPE vocabulary covers the bytes
// whose GPT-2 character it lists (StarCoder's lacks bytes that never occur in UTF-8, such as 0xFF).
bool covers_all_bytes(const Tokenizer& tok, std::string_view text) {
    if (tok.kind() == TokenizerKind::kWordPiece) return false;
    if (tok.kind() == TokenizerKind::kSentencePiece) return true;
    for (char c : text) {
        std::string ch;
        unicode::append_utf8(BpeTokenizer::byte_to_codepoint(static_cast<std::uint8_t>(c)), ch);
        if (!tok.find_token(ch)) return false;
    }
    return true;
}

TEST(TokenizerTest, RandomTextNeverBreaksAndIsLosslessWhereTheVocabularyAllows) {
    std::mt19937 rng(1234);
    for (const char* name : kVocabularies) {
        const auto tok = load_vocab_tokenizer(name);
        ASSERT_NE(tok, nullptr);
        int lossless_checks = 0;
        for (int i = 0; i < 300; ++i) {
            const std::string text = random_text(rng);
            const auto ids = tok->encode(text);
            for (TokenId id : ids) ASSERT_TRUE(tok->is_valid(id)) << name;
            const auto special = tok->encode(text, {.parse_special = true});
            for (TokenId id : special) ASSERT_TRUE(tok->is_valid(id)) << name;
            const auto framed = tok->encode(text, {.add_special = true, .parse_special = true});
            std::vector<TokenId> expected_frame;
            if (tok->add_bos()) expected_frame.push_back(tok->bos());
            expected_frame.insert(expected_frame.end(), special.begin(), special.end());
            if (tok->kind() == TokenizerKind::kWordPiece) expected_frame.push_back(tok->special_ids().sep);
            EXPECT_EQ(framed, expected_frame) << name;
            if (!covers_all_bytes(*tok, text)) continue;
            ++lossless_checks;
            EXPECT_EQ(tok->decode(ids), text) << name;
            // Special tokens render back as their text; the space SentencePiece adds after them is removed.
            EXPECT_EQ(tok->decode(special, {.render_special = true}), text) << name;
        }
        if (tok->kind() != TokenizerKind::kWordPiece) {
            EXPECT_GE(lossless_checks, 100) << name;
        }
    }
}

TEST(TokenizerTest, AnyIdSequenceDecodes) {
    std::mt19937 rng(99);
    for (const char* name : kVocabularies) {
        const auto tok = load_vocab_tokenizer(name);
        ASSERT_NE(tok, nullptr);
        std::uniform_int_distribution<TokenId> id(-3, tok->vocab_size() + 3);
        std::vector<TokenId> ids(500);
        for (TokenId& x : ids) x = id(rng);
        std::string joined;
        for (TokenId x : ids) joined += tok->token_to_piece(x, /*render_special=*/true);
        EXPECT_EQ(tok->decode(ids, {.render_special = true, .strip_leading_space = false}), joined) << name;
    }
}

TEST(TokenizerTest, ConcurrentEncodingGivesTheSameIds) {
    const auto tok = load_vocab_tokenizer("gpt-2");
    ASSERT_NE(tok, nullptr);
    const std::string text = testing::ten_thousand_words();
    const auto expected = tok->encode(text);
    std::vector<std::vector<TokenId>> results(2);
    std::vector<std::thread> threads;
    for (auto& r : results) {
        threads.emplace_back([&tok, &text, &r] { r = tok->encode(text); });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) EXPECT_EQ(r, expected);
}

}  // namespace
}  // namespace kasten::llm
