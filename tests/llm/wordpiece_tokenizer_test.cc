#include "llm/wordpiece_tokenizer.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/tokenizer_factory.h"
#include "vocab_fixture.h"

namespace kasten::llm {
namespace {

using testing::load_vocab_tokenizer;
using testing::read_vocab_cases;

const WordPieceTokenizer& as_wordpiece(const Tokenizer& t) {
    return dynamic_cast<const WordPieceTokenizer&>(t);
}

TEST(WordPieceTokenizerTest, BertBgeGoldenIds) {
    const auto tok = load_vocab_tokenizer("bert-bge");
    ASSERT_NE(tok, nullptr);
    ASSERT_EQ(tok->kind(), TokenizerKind::kWordPiece);
    const auto cases = read_vocab_cases("bert-bge");
    ASSERT_EQ(cases.size(), 46u);
    for (const auto& c : cases) {
        EXPECT_EQ(tok->encode(c.text), c.ids) << "'" << c.text << "'";
    }
}

TEST(WordPieceTokenizerTest, DecodeGivesTheNormalForm) {
    const auto tok = load_vocab_tokenizer("bert-bge");
    ASSERT_NE(tok, nullptr);
    const auto& wp = as_wordpiece(*tok);
    std::size_t checked = 0;
    for (const auto& c : read_vocab_cases("bert-bge")) {
        const auto ids = tok->encode(c.text);
        if (std::find(ids.begin(), ids.end(), tok->special_ids().unk) != ids.end()) continue;
        EXPECT_EQ(tok->decode(ids), wp.normal_form(c.text)) << "'" << c.text << "'";
        ++checked;
    }
    EXPECT_GE(checked, 30u);
}

TEST(WordPieceTokenizerTest, NormalForm) {
    const auto tok = load_vocab_tokenizer("bert-bge");
    ASSERT_NE(tok, nullptr);
    const auto& wp = as_wordpiece(*tok);
    // Lower case, accents stripped (NFD, Mn dropped), punctuation isolated, whitespace collapsed.
    EXPECT_EQ(wp.normal_form("  Hello,\tWORLD!\n"), "hello , world !");
    EXPECT_EQ(wp.normal_form("F\xC3\xBChrer C\xE1\xBB\xAD"
                             "a Vi\xE1\xBB\x87t"),
              "fuhrer cua viet");
    // CJK ideographs are words of their own; control characters vanish; $ and ~ are ASCII punctuation.
    EXPECT_EQ(wp.normal_form("\xE6\x88\x91\xE6\x83\xB3go\x01 $5~"), "\xE6\x88\x91 \xE6\x83\xB3 go $ 5 ~");
    EXPECT_EQ(wp.words("don't"), (std::vector<std::string>{"don", "'", "t"}));
    EXPECT_EQ(tok->decode(tok->encode("Don't STOP, Believing!")), "don ' t stop , believing !");
}

TEST(WordPieceTokenizerTest, ClsSepAndUnknownWords) {
    const auto tok = load_vocab_tokenizer("bert-bge");
    ASSERT_NE(tok, nullptr);
    const auto ids = tok->encode("hello world", {.add_special = true});
    EXPECT_EQ(ids, (std::vector<TokenId>{101, 7592, 2088, 102}));
    EXPECT_EQ(tok->decode(ids), "hello world");
    EXPECT_EQ(tok->decode(ids, {.render_special = true}), "[CLS]hello world[SEP]");
    // A word with no segmentation, and one over 100 characters, are one [UNK] each.
    EXPECT_EQ(tok->encode("\xF0\x9F\xA6\x99"), std::vector<TokenId>{100});
    EXPECT_EQ(tok->encode(std::string(101, 'a')), std::vector<TokenId>{100});
    EXPECT_NE(tok->encode(std::string(100, 'a')), std::vector<TokenId>{100});
    // Continuation pieces: "playing" → "playing"; "unaffable" splits into several pieces.
    const auto pieces = tok->encode("unaffable");
    EXPECT_GT(pieces.size(), 1u);
    EXPECT_EQ(tok->decode(pieces), "unaffable");
    EXPECT_EQ(tok->encode("[CLS]x", {.parse_special = true}).front(), 101);
}

TEST(WordPieceTokenizerTest, OriginalHashHashVocabularyForm) {
    VocabData data;
    data.model = "bert";
    data.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "aff", "able", ",", "!"};
    data.token_types = {3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    data.special.unk = 1;
    data.special.cls = 2;
    data.special.sep = 3;
    auto tok = make_tokenizer(data);
    ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
    EXPECT_EQ((*tok)->encode("Unaffable, able!", {.add_special = true}),
              (std::vector<TokenId>{2, 4, 5, 6, 9, 8, 10, 3}));
    EXPECT_EQ((*tok)->decode((*tok)->encode("Unaffable, able!")), "unaffable , able !");
    EXPECT_EQ((*tok)->encode("affun"), std::vector<TokenId>{1});
}

TEST(WordPieceTokenizerTest, TenThousandWordsInMilliseconds) {
    const auto tok = load_vocab_tokenizer("bert-bge");
    ASSERT_NE(tok, nullptr);
    const std::string text = testing::ten_thousand_words();
    const auto start = std::chrono::steady_clock::now();
    const auto ids = tok->encode(text);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 500 * KASTEN_TEST_SLOWDOWN);
    EXPECT_GT(ids.size(), 10000u);
}

}  // namespace
}  // namespace kasten::llm
