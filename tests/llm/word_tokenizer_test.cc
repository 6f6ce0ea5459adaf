#include "llm/word_tokenizer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kasten::llm {
namespace {

std::vector<std::string> tokens(std::string_view text) {
    WordTokenizer t(text);
    std::vector<std::string> out;
    std::string_view w;
    while (t.next(&w)) out.emplace_back(w);
    return out;
}

using Words = std::vector<std::string>;

TEST(WordTokenizerTest, LowerCasesAndSplitsOnPunctuation) {
    EXPECT_EQ(tokens("The Cat sat, on the MAT!"), (Words{"the", "cat", "sat", "on", "the", "mat"}));
    EXPECT_EQ(tokens("long-distance call to the U.S. in 2023"),
              (Words{"long", "distance", "call", "to", "the", "u", "s", "in", "2023"}));
    EXPECT_EQ(tokens("tabs\tand\nnewlines  x"), (Words{"tabs", "and", "newlines", "x"}));
}

TEST(WordTokenizerTest, EmptyAndSeparatorOnlyTextHasNoWords) {
    EXPECT_TRUE(tokens("").empty());
    EXPECT_TRUE(tokens("  \t\n ").empty());
    EXPECT_TRUE(tokens("...!?;-- ' \xE2\x80\x94 \xE2\x80\x9C\xE2\x80\x9D").empty());
}

TEST(WordTokenizerTest, Clitics) {
    EXPECT_EQ(tokens("I don't know"), (Words{"i", "do", "not", "know"}));
    EXPECT_EQ(tokens("can't won't shan't isn't"), (Words{"can", "not", "will", "not", "shall", "not", "is", "not"}));
    EXPECT_EQ(tokens("It's John's and we're, they've, I'll, she'd, I'm"),
              (Words{"it", "john", "and", "we", "they", "i", "she", "i"}));
    EXPECT_EQ(tokens("DON'T"), (Words{"do", "not"}));
    // Typographic apostrophe U+2019.
    EXPECT_EQ(tokens("don\xE2\x80\x99t it\xE2\x80\x99s"), (Words{"do", "not", "it"}));
    // Other apostrophes separate; a trailing one is dropped.
    EXPECT_EQ(tokens("o'brien rock'n'roll students' 'quoted'"),
              (Words{"o", "brien", "rock", "n", "roll", "students", "quoted"}));
    EXPECT_EQ(tokens("it'sx"), (Words{"it", "sx"}));
}

TEST(WordTokenizerTest, NonAsciiIsKeptAndUnicodePunctuationSeparates) {
    EXPECT_EQ(tokens("Caf\xC3\xA9 na\xC3\xAFve"), (Words{"caf\xC3\xA9", "na\xC3\xAFve"}));
    EXPECT_EQ(tokens("\xE6\x97\xA5\xE6\x9C\xAC"), (Words{"\xE6\x97\xA5\xE6\x9C\xAC"}));
    // NBSP, em dash, ellipsis, ideographic full stop and a BOM separate words.
    EXPECT_EQ(tokens("\xEF\xBB\xBF"
                     "a\xC2\xA0"
                     "b\xE2\x80\x94"
                     "c\xE2\x80\xA6"
                     "d\xE3\x80\x82"
                     "e"),
              (Words{"a", "b", "c", "d", "e"}));
    // Truncated UTF-8 at the end never reads past the text.
    EXPECT_EQ(tokens("ab\xE2\x80"), (Words{"ab\xE2\x80"}));
}

TEST(WordTokenizerTest, LongWordsAreWhole) {
    const std::string word(200, 'x');
    EXPECT_EQ(tokens(word + " y " + word), (Words{word, "y", word}));
}

}  // namespace
}  // namespace kasten::llm
