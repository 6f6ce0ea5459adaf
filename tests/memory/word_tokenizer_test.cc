#include "memory/word_tokenizer.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    for (const auto& t : WordTokenizer::tokenize(text)) out.push_back(t.lower);
    return out;
}

TEST(WordTokenizerTest, SplitsOnPunctuationAndKeepsOffsets) {
    const std::string text = "Hi! I moved to Denver, well-known city.";
    const auto tokens = WordTokenizer::tokenize(text);
    ASSERT_EQ(tokens.size(), 8u);
    EXPECT_EQ(words(text), (std::vector<std::string>{"hi", "i", "moved", "to", "denver", "well", "known", "city"}));
    for (const auto& t : tokens) {
        std::string lowered;
        for (char c : text.substr(t.begin, t.end - t.begin)) lowered.push_back(static_cast<char>(std::tolower(c)));
        EXPECT_EQ(lowered, t.lower);
    }
    EXPECT_TRUE(tokens[4].capitalized);
    EXPECT_FALSE(tokens[2].capitalized);
}

TEST(WordTokenizerTest, ApostrophesDecimalsAndThousandsStayInside) {
    EXPECT_EQ(words("I don't know Sarah\xE2\x80\x99s dog"),
              (std::vector<std::string>{"i", "don't", "know", "sarah's", "dog"}));
    EXPECT_EQ(words("ran 3.5 miles, paid $1,000."), (std::vector<std::string>{"ran", "3.5", "miles", "paid", "1,000"}));
    EXPECT_EQ(words("'quoted' end."), (std::vector<std::string>{"quoted", "end"}));
    const auto tokens = WordTokenizer::tokenize("3.5 5k 2023 x");
    EXPECT_TRUE(tokens[0].numeric);
    EXPECT_FALSE(tokens[1].numeric);
    EXPECT_TRUE(tokens[1].has_digit);
    EXPECT_TRUE(tokens[2].numeric);
    EXPECT_FALSE(tokens[3].has_digit);
}

TEST(WordTokenizerTest, CapitalisationFlags) {
    const auto tokens = WordTokenizer::tokenize("NASA Paris iPhone I");
    EXPECT_TRUE(tokens[0].all_caps);
    EXPECT_TRUE(tokens[0].capitalized);
    EXPECT_FALSE(tokens[1].all_caps);
    EXPECT_TRUE(tokens[1].capitalized);
    EXPECT_FALSE(tokens[2].capitalized);
    EXPECT_FALSE(tokens[3].all_caps);  // one letter is not an acronym
}

TEST(WordTokenizerTest, Utf8LettersAndPunctuation) {
    // "Zürich — Éclair “quoted”…" : the dash, quotes and ellipsis separate; Latin-1 capitals are lower-cased.
    const auto tokens = WordTokenizer::tokenize(
        "Z\xC3\xBCrich \xE2\x80\x94 \xC3\x89\x63lair \xE2\x80\x9Cquoted\xE2\x80\x9D\xE2\x80\xA6");
    ASSERT_EQ(tokens.size(), 3u);
    EXPECT_EQ(tokens[0].lower, "z\xC3\xBCrich");
    EXPECT_EQ(tokens[1].lower, "\xC3\xA9\x63lair");
    EXPECT_TRUE(tokens[1].capitalized);
    EXPECT_EQ(tokens[2].lower, "quoted");
}

TEST(WordTokenizerTest, EmptyAndTruncatedInput) {
    EXPECT_TRUE(WordTokenizer::tokenize("").empty());
    EXPECT_TRUE(WordTokenizer::tokenize(" ,.;!? ").empty());
    const auto tokens = WordTokenizer::tokenize(std::string("ab\xC3", 3));  // truncated UTF-8 at the end
    ASSERT_EQ(tokens.size(), 1u);
    EXPECT_EQ(tokens[0].end, 3u);
}

}  // namespace
}  // namespace kasten::memory
