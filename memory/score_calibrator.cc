#include "memory/score_calibrator.h"

#include <algorithm>
#include <cmath>

namespace kasten::memory {

ScoreCalibrator::ScoreCalibrator(std::vector<std::string> terms, const std::vector<std::uint64_t>& document_frequencies,
                                 std::uint64_t documents, double background, Retriever retriever, double lexical_weight,
                                 double vector_weight)
    : terms_(std::move(terms)), background_(std::max(0.0, background)), retriever_(retriever) {
    const double n = static_cast<double>(documents);
    idf_.reserve(terms_.size());
    for (size_t i = 0; i < terms_.size(); ++i) {
        const double df = i < document_frequencies.size() ? static_cast<double>(document_frequencies[i]) : 0.0;
        const double idf = std::log(1.0 + (n + 1.0) / (df + 0.5));
        idf_.push_back(idf);
        idf_total_ += idf;
    }
    const double w_lex = std::max(0.0, lexical_weight);
    const double w_vec = std::max(0.0, vector_weight);
    lexical_share_ = w_lex + w_vec > 0 ? w_lex / (w_lex + w_vec) : 0.5;
}

double ScoreCalibrator::lexical(const retrieval::LexicalIndex::Analysis& unit) const {
    if (idf_total_ <= 0) return 0;
    double matched = 0;
    for (size_t i = 0; i < terms_.size(); ++i) {
        auto it = std::lower_bound(unit.terms.begin(), unit.terms.end(), terms_[i],
                                   [](const auto& entry, const std::string& t) { return entry.first < t; });
        if (it != unit.terms.end() && it->first == terms_[i]) matched += idf_[i];
    }
    return std::clamp(matched / idf_total_, 0.0, 1.0);
}

double ScoreCalibrator::semantic(std::optional<double> cosine) const {
    if (!cosine || background_ >= 1) return 0;
    return std::clamp((*cosine - background_) / (1 - background_), 0.0, 1.0);
}

double ScoreCalibrator::score(const retrieval::LexicalIndex::Analysis& unit, std::optional<double> cosine) const {
    switch (retriever_) {
        case Retriever::kLexical:
            return lexical(unit);
        case Retriever::kVector:
            return semantic(cosine);
        case Retriever::kHybrid:
            break;
    }
    return lexical_share_ * lexical(unit) + (1 - lexical_share_) * semantic(cosine);
}

}  // namespace kasten::memory
