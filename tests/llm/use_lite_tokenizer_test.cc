// UseLiteTokenizer on a small hand-made vocabulary: the Viterbi choice, unknown runs, NFKC, reserved ids and the
// reference implementation's tie and step rules. The real vocabulary is checked against goldens in
// use_lite_data_test.cc.
#include "llm/use_lite_tokenizer.h"

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

const std::string kSep = "\xE2\x96\x81";  // U+2581

// Id 0 is U+FFFD, as in the real vocabulary: the backward pass steps over an unknown id by its piece's length.
UseLiteTokenizer make_tokenizer() {
    return UseLiteTokenizer({
        {"\xEF\xBF\xBD", 0},
        {"<s>", 0},
        {"</s>", 0},
        {"e1", 0},
        {"e2", 0},
        {"e3", 0},
        {kSep, -1},
        {kSep + "a", -2},  // 6, 7
        {"b", -1},
        {kSep + "ab", -2.5},
        {"a", -3},
        {kSep + "f", -0.5},  // 8, 9, 10, 11
        {"i", -1},
        {"q", -1},
        {"q", -5},
        {kSep + "c", -2},  // 12, 13, 14, 15
        {"c", -1},
        {"\xF0\x9F\x98\x80", -1},  // 16, 17 (U+1F600)
    });
}

TEST(UseLiteTokenizerTest, PicksTheBestScoringSegmentation) {
    const UseLiteTokenizer t = make_tokenizer();
    EXPECT_EQ(t.encode("ab"), (std::vector<int>{9}));  // -2.5 beats "▁a" + "b" (-3) and "▁" + "a" + "b" (-5)
    EXPECT_EQ(t.encode("a a"), (std::vector<int>{7, 7}));
}

TEST(UseLiteTokenizerTest, EmptyTextHasNoIds) {
    const UseLiteTokenizer t = make_tokenizer();
    EXPECT_TRUE(t.encode("").empty());
}

TEST(UseLiteTokenizerTest, UnknownRunsBecomeOneUnknownId) {
    const UseLiteTokenizer t = make_tokenizer();
    EXPECT_EQ(t.encode("a%%b"), (std::vector<int>{7, 0, 8}));
    EXPECT_EQ(t.encode("a%b%"), (std::vector<int>{7, 0, 8, 0}));
}

TEST(UseLiteTokenizerTest, ReservedPiecesAreNeverProduced) {
    const UseLiteTokenizer t = make_tokenizer();
    EXPECT_EQ(t.encode("<s>"), (std::vector<int>{6, 0}));
}

TEST(UseLiteTokenizerTest, TextIsNfkcNormalised) {
    const UseLiteTokenizer t = make_tokenizer();
    EXPECT_EQ(t.encode("\xEF\xAC\x81"), (std::vector<int>{11, 12}));  // U+FB01 LATIN SMALL LIGATURE FI
    EXPECT_EQ(t.encode("fi"), (std::vector<int>{11, 12}));
}

TEST(UseLiteTokenizerTest, ADuplicatePieceKeepsItsLastId) {
    const UseLiteTokenizer t = make_tokenizer();
    EXPECT_EQ(t.encode("q"), (std::vector<int>{6, 14}));
}

TEST(UseLiteTokenizerTest, AnUnknownCodePointIsAFreePiece) {
    const UseLiteTokenizer t = make_tokenizer();
    // An unknown code point (no piece starts with it) scores 0 and replaces an equal or worse path: "▁f" (-0.5)
    // beats "▁" + unknown "f" (-1); "zz" is "▁" and one unknown run.
    EXPECT_EQ(t.encode("f"), (std::vector<int>{11}));
    EXPECT_EQ(t.encode("zz"), (std::vector<int>{6, 0}));
}

TEST(UseLiteTokenizerTest, OnEqualScoresThePieceStartingLastWins) {
    const UseLiteTokenizer t = make_tokenizer();
    // "▁c" (-2) and "▁" + "c" (-1 - 1) tie; the reference keeps the later start.
    EXPECT_EQ(t.encode("c"), (std::vector<int>{6, 16}));
}

TEST(UseLiteTokenizerTest, BackwardPassStepsInUtf16Units) {
    const UseLiteTokenizer t = make_tokenizer();
    // The reference steps back by the piece's JavaScript string length: 2 for a code point above U+FFFF, which
    // skips the "▁" before it.
    EXPECT_EQ(t.encode("\xF0\x9F\x98\x80"), (std::vector<int>{17}));
}

TEST(UseLiteTokenizerTest, InvalidUtf8DoesNotCrash) {
    const UseLiteTokenizer t = make_tokenizer();
    const std::vector<int> ids = t.encode(std::string("a\xC3\x28\xFF", 4));
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(ids.front(), 7);
}

}  // namespace
}  // namespace kasten::llm
