#include "memory/query_decomposer.h"

#include <array>
#include <string_view>

#include "memory/word_tokenizer.h"
#include "retrieval/lexical_index.h"

namespace kasten::memory {

namespace {

constexpr std::array<std::string_view, 13> kConnectives = {
    "and", "or", "between", "both", "when", "while", "before", "after", "than", "compared", "versus", "vs", "instead"};

bool is_connective(const std::string& word) {
    for (const auto c : kConnectives) {
        if (word == c) return true;
    }
    return false;
}

}  // namespace

std::vector<std::string> decompose_query(std::string_view query) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    auto close = [&](std::size_t end) {
        if (end > start) {
            std::string part(query.substr(start, end - start));
            if (!retrieval::LexicalIndex::analyze(part).empty()) parts.push_back(std::move(part));
        }
    };
    for (const WordToken& w : WordTokenizer::tokenize(query)) {
        if (!is_connective(w.lower)) continue;
        close(w.begin);
        start = w.end;
    }
    close(query.size());
    if (parts.size() < 2) parts.clear();
    return parts;
}

}  // namespace kasten::memory
