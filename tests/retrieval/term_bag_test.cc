#include "retrieval/term_bag.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "retrieval/lexical_index.h"

namespace kasten::retrieval {
namespace {

// A bag answers exactly as analysing the text again would, for any set of asked terms.
void expect_same_as_analysis(const std::string& text, const std::vector<std::string>& terms) {
    const TermBag bag = TermBag::of(LexicalIndex::analyze_text(text));
    EXPECT_EQ(bag.among(terms).terms, LexicalIndex::analyze_text_among(text, terms).terms)
        << "text: \"" << text << "\"";
}

TEST(TermBagTest, HoldsTheTermsOfItsTextWithTheirFrequencies) {
    const TermBag bag = TermBag::of(LexicalIndex::analyze_text("Dogs chase dogs; the dog sleeps near the harbour."));
    EXPECT_EQ(bag.among({"dog", "harbour", "cat", "", "dog"}).terms,
              (std::vector<std::pair<std::string, std::uint32_t>>{{"dog", 3}, {"harbour", 1}}));
    EXPECT_TRUE(bag.among({}).terms.empty());
    EXPECT_TRUE(bag.among({"the"}).terms.empty());  // a stopword is never a term
    EXPECT_FALSE(bag.empty());
    EXPECT_GT(bag.bytes(), 0u);
    EXPECT_TRUE(TermBag().empty());
    EXPECT_TRUE(TermBag().among({"dog"}).terms.empty());
    EXPECT_TRUE(TermBag::of(LexicalIndex::analyze_text("")).among({"dog"}).terms.empty());
}

TEST(TermBagTest, AnswersAsAnalysingTheTextAgainOnRandomTextsAndTerms) {
    // Words that share prefixes (a term that is a prefix of another, "run" / "runner"), stopwords, digits, CJK (the
    // reference analysis path) and other scripts; the asked terms mix the text's own with absent ones, in any order.
    const std::vector<std::string> words = {
        "run",  "runs",  "runner", "running", "the",    "and",       "harbour",      "harbours",
        "a",    "zebra", "42",     "4.5",     "U.S.A.", "caf\u00e9", "\u6771\u4eac", "\u0416\u0443\u043a",
        "it's", "c++",   "x",      "xy"};
    std::mt19937 rng(20261207);
    std::uniform_int_distribution<std::size_t> pick(0, words.size() - 1);
    std::uniform_int_distribution<int> length(0, 30);
    for (int iteration = 0; iteration < 3000; ++iteration) {
        std::string text;
        const int n = length(rng);
        for (int i = 0; i < n; ++i) text += words[pick(rng)] + (rng() % 5 == 0 ? ", " : " ");
        std::vector<std::string> asked;
        for (const auto& [term, wdf] : LexicalIndex::analyze_text(text).terms) {
            if (rng() % 2 == 0) asked.push_back(term);
        }
        for (const auto& term : LexicalIndex::analyze(words[pick(rng)] + " " + words[pick(rng)])) asked.push_back(term);
        if (rng() % 4 == 0) asked.push_back("");
        std::shuffle(asked.begin(), asked.end(), rng);
        expect_same_as_analysis(text, asked);
        if (HasFailure()) return;
    }
}

}  // namespace
}  // namespace kasten::retrieval
