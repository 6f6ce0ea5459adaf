#include "memory/aspect_coverage.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "memory/word_tokenizer.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {

namespace {

// Words that frame the answer a question asks for, not the evidence it needs (see query_aspects).
constexpr const char* kFrameWords[] = {"many",   "much",     "long",   "day",      "week",    "month", "year",
                                       "time",   "times",    "pass",   "passed",   "ago",     "first", "last",
                                       "happen", "happened", "recent", "recently", "earlier", "later", "total",
                                       "number", "order",    "often",  "since",    "between", "did",   "ever"};

// The index terms of kFrameWords (stems: "days" and "day" alike).
const std::unordered_set<std::string>& frame_terms() {
    static const std::unordered_set<std::string> terms = [] {
        std::unordered_set<std::string> out;
        for (const char* w : kFrameWords) {
            for (auto& t : retrieval::LexicalIndex::analyze(w)) out.insert(std::move(t));
        }
        return out;
    }();
    return terms;
}

}  // namespace

std::vector<QueryAspect> query_aspects(const std::vector<std::string>& terms,
                                       const std::vector<std::uint64_t>& frequencies, std::uint64_t documents) {
    std::vector<QueryAspect> aspects;
    std::unordered_set<std::string> seen;
    double total = 0;
    for (std::size_t i = 0; i < terms.size() && i < frequencies.size(); ++i) {
        const double df = static_cast<double>(frequencies[i]);
        if (df <= 0 || frame_terms().count(terms[i]) || !seen.insert(terms[i]).second) continue;
        const double n = static_cast<double>(std::max(documents, frequencies[i]));
        const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
        if (idf <= 0) continue;
        aspects.push_back({terms[i], idf});
        total += idf;
    }
    if (aspects.size() < 2) return {};
    for (auto& a : aspects) a.weight /= total;
    return aspects;
}

std::string uncovered_query_text(std::string_view query, const std::vector<QueryAspect>& aspects,
                                 const std::vector<std::vector<std::string>>& top_terms) {
    std::unordered_set<std::string> covered;
    for (const auto& terms : top_terms) covered.insert(terms.begin(), terms.end());
    std::unordered_set<std::string> missing;
    for (const auto& a : aspects) {
        if (!covered.count(a.term)) missing.insert(a.term);
    }
    if (missing.empty() || missing.size() == aspects.size()) return {};
    std::string text;
    for (const WordToken& w : WordTokenizer::tokenize(query)) {
        const std::string word(query.substr(w.begin, w.end - w.begin));
        const std::vector<std::string> terms = retrieval::LexicalIndex::analyze(word);
        if (terms.size() != 1 || !missing.count(terms.front())) continue;
        if (!text.empty()) text += ' ';
        text += word;
    }
    return text;
}

}  // namespace kasten::memory
