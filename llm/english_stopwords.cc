#include "llm/english_stopwords.h"

#include <algorithm>
#include <array>

namespace kasten::llm {
namespace {

// Sorted (checked at compile time) for binary search.
constexpr std::array<std::string_view, 124> kStopwords = {
    "a",       "about",      "above",     "after",  "again",  "against",  "all",        "am",    "an",
    "and",     "any",        "are",       "as",     "at",     "be",       "because",    "been",  "before",
    "being",   "below",      "between",   "both",   "but",    "by",       "can",        "could", "did",
    "do",      "does",       "doing",     "down",   "during", "each",     "few",        "for",   "from",
    "further", "had",        "has",       "have",   "having", "he",       "her",        "here",  "hers",
    "herself", "him",        "himself",   "his",    "how",    "i",        "if",         "in",    "into",
    "is",      "it",         "its",       "itself", "just",   "me",       "more",       "most",  "my",
    "myself",  "nor",        "of",        "off",    "on",     "once",     "only",       "or",    "other",
    "our",     "ours",       "ourselves", "out",    "over",   "own",      "same",       "shall", "she",
    "should",  "so",         "some",      "such",   "than",   "that",     "the",        "their", "theirs",
    "them",    "themselves", "then",      "there",  "these",  "they",     "this",       "those", "through",
    "to",      "too",        "under",     "until",  "up",     "very",     "was",        "we",    "were",
    "what",    "when",       "where",     "which",  "while",  "who",      "whom",       "why",   "will",
    "with",    "would",      "you",       "your",   "yours",  "yourself", "yourselves",
};

static_assert(std::is_sorted(kStopwords.begin(), kStopwords.end()));

}  // namespace

bool is_english_stopword(std::string_view lower_word) {
    return std::binary_search(kStopwords.begin(), kStopwords.end(), lower_word);
}

}  // namespace kasten::llm
