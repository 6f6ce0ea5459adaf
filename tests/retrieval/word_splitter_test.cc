#include "retrieval/word_splitter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "retrieval/lexical_index.h"

namespace kasten::retrieval {
namespace {

// The fast analysis must give exactly TermGenerator's terms and frequencies, and the analysis among some terms the
// reference's entries of those terms: every other term of the text (in reverse order, one twice), a stem the text
// lacks, two stopwords (terms only as the stem of another word: "anded") and the empty string.
void expect_same_analysis(const std::string& text) {
    const auto fast = LexicalIndex::analyze_text(text);
    const auto reference = LexicalIndex::analyze_text_reference(text);
    EXPECT_EQ(fast.terms, reference.terms) << "text: \"" << text << "\"";
    std::vector<std::string> among = {"", "zzzabsent", "the", "and"};
    for (std::size_t i = 0; i < reference.terms.size(); i += 2) among.insert(among.begin(), reference.terms[i].first);
    if (!reference.terms.empty()) among.push_back(reference.terms.front().first);
    LexicalIndex::Analysis want;
    for (const auto& entry : reference.terms) {
        if (std::find(among.begin(), among.end(), entry.first) != among.end()) want.terms.push_back(entry);
    }
    EXPECT_EQ(LexicalIndex::analyze_text_among(text, among).terms, want.terms) << "text: \"" << text << "\"";
    EXPECT_TRUE(LexicalIndex::analyze_text_among(text, {}).terms.empty());
    EXPECT_EQ(LexicalIndex::analyze(text), LexicalIndex::analyze_reference(text)) << "text: \"" << text << "\"";
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> words;
    EXPECT_TRUE(split_index_words(text, words)) << text;
    return words;
}

TEST(WordSplitterTest, SplitsLikeTermGenerator) {
    EXPECT_EQ(split("Hello, World!"), (std::vector<std::string>{"hello", "world"}));
    EXPECT_EQ(split("U.S.A. and the U.K"), (std::vector<std::string>{"usa", "and", "the", "uk"}));
    EXPECT_EQ(split("U.S.Army"), (std::vector<std::string>{"u", "s", "army"}));
    EXPECT_EQ(split("AT&T M&S Fred's don\u2019t"), (std::vector<std::string>{"at&t", "m&s", "fred's", "don't"}));
    EXPECT_EQ(split("c++ c# c+++ c++++ fish+chips"),
              (std::vector<std::string>{"c++", "c#", "c+++", "c", "fish", "chips"}));
    EXPECT_EQ(split("1,000.50 3.14;2 v1.2 a,b"), (std::vector<std::string>{"1,000.50", "3.14;2", "v1.2", "a", "b"}));
    EXPECT_EQ(split("snake_case zero\u200bwidth"), (std::vector<std::string>{"snake_case", "zerowidth"}));
    EXPECT_EQ(split("Stra\u00dfe CAF\u00c9 na\u00efve"),
              (std::vector<std::string>{"stra\u00dfe", "caf\u00e9", "na\u00efve"}));
    EXPECT_EQ(split("\U0001F389party\U0001F389 "), (std::vector<std::string>{"party"}));
    EXPECT_TRUE(split("").empty());
    EXPECT_TRUE(split(" .,;'&+# ").empty());
}

TEST(WordSplitterTest, LeavesCjkAndInvalidUtf8ToTermGenerator) {
    std::vector<std::string> words{"stale"};
    EXPECT_FALSE(split_index_words("tea \u6771\u4eac", words));
    EXPECT_TRUE(words.empty());
    EXPECT_FALSE(split_index_words("bad \xff byte", words));
    EXPECT_FALSE(split_index_words("truncated \xc3", words));
    EXPECT_FALSE(split_index_words("overlong \xc0\xaf", words));
    EXPECT_FALSE(split_index_words("surrogate \xed\xa0\x80", words));
    EXPECT_FALSE(split_index_words("fullwidth \xef\xbc\x91", words));  // U+FF11
}

TEST(WordSplitterTest, AnalysisEqualsTermGeneratorOnEdgeCases) {
    const char* cases[] = {
        "U.S.A.",
        "U.S.A.x",
        "U.S.A.1",
        "A.",
        "A.b",
        "A.B",
        "I. am",
        "Ph.D. thesis",
        "e.g. i.e. etc.",
        "AB.CD.",
        "\u00c9.\u00dc. \u00c9COLE",
        "AT&T",
        "a&&b",
        "&a",
        "a&",
        "'quoted'",
        "rock'n'roll",
        "it\u2019s",
        "it\u201bs",
        "x\u00b7y",
        "x\u05f4y",
        "x\u2027y",
        "a\u2060b",
        "a\ufeffb",
        "a\u200cb",
        "1\u200b2",
        "1\u066b2",
        "1\u2044"
        "2",
        "\u0663\u066b\u0661\u0664",
        "\u0663.\u0661",
        "1;2;3",
        "1.2.3.4",
        "1..2",
        "1,,2",
        "2024-03-05",
        "12:30pm",
        "c++",
        "c#",
        "f#m",
        "c+++x",
        "c++++",
        "c++++x",
        "a####",
        "a+#+#",
        "a++b",
        "a+",
        "+a",
        "x#y",
        "#hashtag",
        "C++ and C# ENGINEERS",
        "The the THE",
        "running runs ran runner",
        "\u03a9\u03bc\u03ad\u03b3\u03b1 \u03a9\u039c\u0388\u0393\u0391",
        "\u041c\u043e\u0441\u043a\u0432\u0430 \u041c\u041e\u0421\u041a\u0412\u0410",
        "na\u0308ive",  // combining mark
        "emoji\U0001F600word \U0001F44D\U0001F3FD",
        "tab\tnew\nline\r",
        "nul\0byte",
        "under_score_",
        "_lead",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",   // 64 bytes: kept
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  // 65 bytes: dropped
        "I've been to the U.S. twice; it's 1,500 miles from Denver's airport (DEN) \u2014 C++ devs & M&S fans!",
    };
    for (const char* text : cases) expect_same_analysis(text);
    expect_same_analysis(std::string("nul\0byte", 8));
}

// analyze_text_among skips the words that do not start with a wanted term's first byte: the stemmer must keep every
// word's first byte. Words with each suffix the stemmer removes or rewrites, and its exceptional forms.
TEST(WordSplitterTest, TheStemOfAWordStartsWithTheWordsFirstByte) {
    const std::vector<std::string> roots = {
        "run",  "hop",  "happy", "cry",   "tie",  "die",   "lie",     "sky",       "ski",    "gas",
        "bias", "news", "atlas", "agree", "feed", "gener", "commun",  "arsen",     "y",      "yell",
        "year", "idl",  "gentl", "ugl",   "earl", "onl",   "singl",   "proceed",   "exceed", "succeed",
        "herr", "inn",  "out",   "can",   "ear",  "eat",   "\u00e9t", "\u00fcber", "x",      "2"};
    const std::vector<std::string> suffixes = {
        "",       "s",    "es",   "ies",  "ied",   "ed",   "ing",   "ingly", "edly",  "ly",     "y",     "ational",
        "tional", "enci", "anci", "izer", "ation", "ness", "ful",   "ousli", "iviti", "biliti", "alli",  "entli",
        "ement",  "ment", "ent",  "ism",  "ate",   "iti",  "ous",   "ive",   "ize",   "ion",    "al",    "er",
        "ic",     "able", "ible", "'s",   "s'",    "'",    "eedly", "li",    "ogi",   "fulli",  "lessli"};
    std::vector<std::string> words = {"skis",      "skies",   "dying",   "lying",  "tying",   "idly",     "gently",
                                      "ugly",      "early",   "only",    "singly", "sky",     "news",     "howe",
                                      "atlas",     "cosmos",  "bias",    "andes",  "inning",  "outing",   "canning",
                                      "herring",   "earring", "proceed", "exceed", "succeed", "generate", "general",
                                      "communism", "arsenal", "yes",     "ying"};
    for (const auto& r : roots) {
        for (const auto& s : suffixes) words.push_back(r + s);
    }
    int checked = 0;
    for (const auto& w : words) {
        for (const auto& [term, wdf] : LexicalIndex::analyze_text_reference(w).terms) {
            ASSERT_FALSE(term.empty()) << w;
            EXPECT_EQ(term[0], w[0]) << w << " -> " << term;
            ++checked;
        }
    }
    EXPECT_GT(checked, 1500);
}

TEST(WordSplitterTest, AnalysisEqualsTermGeneratorOverALargeVocabulary) {
    // More distinct words than a thread's memo of stems holds (so words are evicted and looked up again), words
    // sharing their first 8 or more bytes (the order of terms beyond their sortable prefix), words longer than a memo
    // slot, stopwords, and repeated words; texts of over a thousand distinct terms between short ones; each text
    // analysed twice (cold, then from the memo).
    std::mt19937 rng(20261207);
    const std::vector<std::string> stems = {"international", "internationally", "internet",           "interne", "runn",
                                            "happi",         "connect",         "electrocardiograph", "a",       "zz"};
    const std::vector<std::string> endings = {"", "s", "ing", "ed", "ation", "ly", "ness", "izations", "'s"};
    std::uniform_int_distribution<std::size_t> stem(0, stems.size() - 1);
    std::uniform_int_distribution<std::size_t> ending(0, endings.size() - 1);
    std::uniform_int_distribution<int> number(0, 40000);
    std::uniform_int_distribution<int> percent(0, 99);
    for (int text_index = 0; text_index < 200; ++text_index) {
        std::string text;
        const int words_in_text = text_index % 10 == 0 ? 2000 : 150;  // long texts between short ones
        for (int w = 0; w < words_in_text; ++w) {
            const int p = percent(rng);
            if (p < 15) {
                text += "the ";
            } else if (p < 25) {
                text += "And ";
            } else {
                text += stems[stem(rng)] + std::to_string(number(rng) % (p < 60 ? 40 : 40000)) + endings[ending(rng)];
                text += p % 7 == 0 ? ", " : " ";
            }
        }
        expect_same_analysis(text);
        expect_same_analysis(text);
        if (HasFailure()) return;
    }
}

TEST(WordSplitterTest, AnalysisEqualsTermGeneratorOnRandomText) {
    // Pieces chosen to hit every rule: letters of each case, digits, infixes, suffixes, dots, non-ASCII letters,
    // digits and joiners, emoji, whitespace; and now and then a byte or character the splitter refuses.
    const std::vector<std::string> pieces = {
        "a",      "b",          "Z",      "Q",      "x",      "I",      "e",      "s",      "ing",    "ed",
        "the",    "and",        "++",     "##",     "The",    "USA",    "0",      "1",      "7",      "42",
        ".",      ",",          ";",      "'",      "&",      "+",      "#",      "_",      "-",      ":",
        "/",      " ",          " ",      " ",      "  ",     "\n",     "\u2019", "\u201b", "\u00b7", "\u200b",
        "\u2060", "\ufeff",     "\u00e9", "\u00c9", "\u00df", "\u0663", "\u066b", "\u0394", "\u03b4", "\u0416",
        "\u0308", "\U0001F600", "\u2014", "\u00a0", "\u0660", "\u2044",
    };
    const std::vector<std::string> rare = {"\xff", "\u6771", "\xc3"};
    std::mt19937 rng(20261206);
    std::uniform_int_distribution<std::size_t> piece(0, pieces.size() - 1);
    std::uniform_int_distribution<int> length(0, 40);
    std::uniform_int_distribution<int> percent(0, 99);
    int fast = 0;
    for (int iteration = 0; iteration < 20000; ++iteration) {
        std::string text;
        const int n = length(rng);
        for (int i = 0; i < n; ++i) {
            text += percent(rng) == 0 ? rare[static_cast<std::size_t>(percent(rng)) % rare.size()] : pieces[piece(rng)];
        }
        std::vector<std::string> words;
        if (split_index_words(text, words)) ++fast;
        expect_same_analysis(text);
        if (HasFailure()) return;
    }
    EXPECT_GT(fast, 10000);  // most of them took the fast path
}

}  // namespace
}  // namespace kasten::retrieval
