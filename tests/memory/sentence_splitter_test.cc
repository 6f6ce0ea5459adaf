#include "memory/sentence_splitter.h"

#include <gtest/gtest.h>

namespace kasten::memory {
namespace {

using Sentences = std::vector<std::string>;

TEST(SentenceSplitterTest, SplitsAtTerminalPunctuation) {
    EXPECT_EQ(SentenceSplitter::split("Hi! I moved to Denver. Can you help? Sure!!"),
              (Sentences{"Hi!", "I moved to Denver.", "Can you help?", "Sure!!"}));
    EXPECT_EQ(SentenceSplitter::split("He said \"Go now.\" Then he left."),
              (Sentences{"He said \"Go now.\"", "Then he left."}));
}

TEST(SentenceSplitterTest, AbbreviationsInitialsAndDecimalsDoNotSplit) {
    EXPECT_EQ(SentenceSplitter::split("I met Mr. Smith and Dr. Jones at St. Mary's. It went well."),
              (Sentences{"I met Mr. Smith and Dr. Jones at St. Mary's.", "It went well."}));
    EXPECT_EQ(SentenceSplitter::split("Eat fruit, e.g. apples, i.e. healthy food. Ok."),
              (Sentences{"Eat fruit, e.g. apples, i.e. healthy food.", "Ok."}));
    EXPECT_EQ(SentenceSplitter::split("I ran 3.5 miles with John F. Kennedy. Done."),
              (Sentences{"I ran 3.5 miles with John F. Kennedy.", "Done."}));
    EXPECT_EQ(SentenceSplitter::split("I live in the U.S. now. See example.com for more."),
              (Sentences{"I live in the U.S. now.", "See example.com for more."}));
    EXPECT_EQ(SentenceSplitter::split("I moved to the U.S. My wife came too."),
              (Sentences{"I moved to the U.S.", "My wife came too."}));
    EXPECT_EQ(SentenceSplitter::split("Room No. 5 is free. The Jan. 5 meeting moved."),
              (Sentences{"Room No. 5 is free.", "The Jan. 5 meeting moved."}));
}

TEST(SentenceSplitterTest, Ellipses) {
    EXPECT_EQ(SentenceSplitter::split("Well... maybe later. I waited\xE2\x80\xA6 Then I left."),
              (Sentences{"Well... maybe later.", "I waited\xE2\x80\xA6", "Then I left."}));
}

TEST(SentenceSplitterTest, ListsHeadingsTablesAndMarkdown) {
    const std::string text =
        "## Options\n"
        "Here are some tips:\n"
        "1. **Blue Bottle**: great coffee\n"
        "2) `Stumptown` is close\n"
        "- Visit early\n"
        "* [x] Bring cash\n"
        "\xE2\x80\xA2 Enjoy\n"
        "| Name | Hours |\n"
        "|---|---|\n"
        "| Museum | 9-5 |\n";
    EXPECT_EQ(SentenceSplitter::split(text),
              (Sentences{"Options", "Here are some tips:", "Blue Bottle: great coffee", "Stumptown is close",
                         "Visit early", "Bring cash", "Enjoy", "Name ; Hours", "Museum ; 9-5"}));
}

TEST(SentenceSplitterTest, CodeFencesAreSkippedAndWrappedLinesJoined) {
    const std::string text =
        "I wrote this\n"
        "function yesterday.\n"
        "```\n"
        "int main() { return 0; }\n"
        "```\n"
        "It works.\n"
        "New line\n"
        "Another line";
    EXPECT_EQ(SentenceSplitter::split(text),
              (Sentences{"I wrote this function yesterday.", "It works.", "New line", "Another line"}));
}

TEST(SentenceSplitterTest, LongRunOnTextIsCutAtClauseBoundaries) {
    std::string text;
    for (int i = 0; i < 12; ++i) text += "I went to the market on day " + std::to_string(i) + " and bought apples, ";
    text += "and then I went home";
    const Sentences pieces = SentenceSplitter::split(text, 120);
    ASSERT_GT(pieces.size(), 4u);
    std::size_t total = 0;
    for (const auto& p : pieces) {
        EXPECT_LE(p.size(), 120u) << p;
        EXPECT_GE(p.size(), 20u) << p;
        EXPECT_NE(p.back(), ',') << p;
        EXPECT_NE(p.front(), ' ') << p;
        total += p.size();
    }
    EXPECT_GT(total, text.size() * 9 / 10);
    // Semicolons are preferred to commas.
    const Sentences semi = SentenceSplitter::split(std::string(50, 'a') + " bb, cc; " + std::string(50, 'd'), 70);
    ASSERT_EQ(semi.size(), 2u);
    EXPECT_EQ(semi[0], std::string(50, 'a') + " bb, cc");
}

TEST(SentenceSplitterTest, TextWithoutSpacesIsCutAtCharacterBoundaries) {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "\xC3\xA9";  // 400 bytes of "é"
    const Sentences pieces = SentenceSplitter::split(text, 101);
    ASSERT_GE(pieces.size(), 4u);
    for (const auto& p : pieces) {
        EXPECT_LE(p.size(), 101u);
        EXPECT_EQ(p.size() % 2, 0u);  // never half a character
    }
}

TEST(SentenceSplitterTest, EmptyAndPunctuationOnly) {
    EXPECT_TRUE(SentenceSplitter::split("").empty());
    EXPECT_TRUE(SentenceSplitter::split("  \n\n ... !!! ---\n").empty());
}

}  // namespace
}  // namespace kasten::memory
