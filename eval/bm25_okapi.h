#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kasten::eval {

// Python's `text.split(" ")`: every single space separates, so runs of spaces give empty tokens and other whitespace
// (newlines, tabs) stays inside tokens; "" gives one empty token. The official LongMemEval BM25 tokenisation.
std::vector<std::string> split_on_spaces(std::string_view text);

// rank_bm25's BM25Okapi (the official LongMemEval baseline), re-implemented with the same arithmetic:
//   idf(w) = ln(N - n(w) + 0.5) - ln(n(w) + 0.5); a word with idf < 0 gets epsilon * average_idf instead, where
//   average_idf is the mean of the raw idfs over the vocabulary (summed in first-occurrence order);
//   score(d, q) = sum over query tokens t (repeats count) of idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| /
//   avgdl)), unknown tokens contributing 0; |d| counts tokens (empty ones included), avgdl = total tokens / N.
// Immutable after construction; scores() is thread-safe.
class Bm25Okapi {
  public:
    struct Params {
        double k1 = 1.5;
        double b = 0.75;
        double epsilon = 0.25;
    };

    explicit Bm25Okapi(const std::vector<std::vector<std::string>>& corpus) : Bm25Okapi(corpus, Params{}) {}
    Bm25Okapi(const std::vector<std::vector<std::string>>& corpus, Params params);

    // One score per document, in corpus order. An empty corpus gives an empty vector.
    std::vector<double> scores(const std::vector<std::string>& query) const;

    // The (floored) idf of a word; 0 for a word not in the corpus.
    double idf(const std::string& word) const;
    double average_idf() const { return average_idf_; }
    double avgdl() const { return avgdl_; }

  private:
    Params params_;
    std::vector<std::unordered_map<std::string, int>> doc_freqs_;
    std::vector<int> doc_len_;
    std::unordered_map<std::string, double> idf_;
    double average_idf_ = 0;
    double avgdl_ = 0;
};

// Document indices by descending score, exactly as the official `np.argsort(scores)[::-1]`: numpy's default
// (unstable) introsort for float64, ported from numpy 1.x's npysort/quicksort.cpp, then reversed, so tied scores come
// out in numpy's order. (numpy builds that dispatch argsort to AVX-512 may order ties differently.)
std::vector<int> rank_by_descending_score(const std::vector<double>& scores);

}  // namespace kasten::eval
