#include "retrieval/term_bag.h"

#include <algorithm>
#include <string_view>

namespace kasten::retrieval {

TermBag TermBag::of(const LexicalIndex::Analysis& analysis) {
    TermBag bag;
    std::size_t bytes = 0;
    for (const auto& [term, wdf] : analysis.terms) bytes += term.size() + 1;
    bag.packed_.reserve(bytes);
    bag.wdf_.reserve(analysis.terms.size());
    for (const auto& [term, wdf] : analysis.terms) {
        bag.packed_.append(term);
        bag.packed_.push_back('\0');
        bag.wdf_.push_back(wdf);
    }
    return bag;
}

LexicalIndex::Analysis TermBag::among(const std::vector<std::string>& terms) const {
    std::vector<std::string_view> wanted;
    wanted.reserve(terms.size());
    for (const std::string& t : terms) {
        if (!t.empty()) wanted.push_back(t);
    }
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    LexicalIndex::Analysis out;
    // Both ascending: one merge walk over the bag.
    std::size_t at = 0;
    std::size_t index = 0;
    auto want = wanted.begin();
    while (want != wanted.end() && at < packed_.size()) {
        const std::size_t end = packed_.find('\0', at);
        const std::string_view term(packed_.data() + at, end - at);
        while (want != wanted.end() && *want < term) ++want;
        if (want == wanted.end()) break;
        if (*want == term) {
            out.terms.emplace_back(std::string(term), wdf_[index]);
            ++want;
        }
        at = end + 1;
        ++index;
    }
    return out;
}

}  // namespace kasten::retrieval
