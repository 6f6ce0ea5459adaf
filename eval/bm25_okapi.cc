#include "eval/bm25_okapi.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

// Bit-exact agreement with numpy needs every multiply and add rounded separately: no fused multiply-add contraction
// (which -march=x86-64-v3 would otherwise allow), or tied and near-tied scores would order differently.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace kasten::eval {

std::vector<std::string> split_on_spaces(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t pos = text.find(' ', start);
        if (pos == std::string_view::npos) {
            out.emplace_back(text.substr(start));
            return out;
        }
        out.emplace_back(text.substr(start, pos - start));
        start = pos + 1;
    }
}

Bm25Okapi::Bm25Okapi(const std::vector<std::vector<std::string>>& corpus, Params params) : params_(params) {
    // word -> number of documents containing it, in first-occurrence order (Python dict order).
    std::unordered_map<std::string, int> nd;
    std::vector<const std::string*> order;
    long long total_tokens = 0;
    doc_freqs_.reserve(corpus.size());
    for (const auto& document : corpus) {
        doc_len_.push_back(static_cast<int>(document.size()));
        total_tokens += static_cast<long long>(document.size());
        std::unordered_map<std::string, int> frequencies;
        std::vector<const std::string*> doc_order;
        for (const auto& word : document) {
            auto [it, inserted] = frequencies.try_emplace(word, 0);
            if (inserted) doc_order.push_back(&it->first);
            ++it->second;
        }
        for (const std::string* word : doc_order) {
            auto [it, inserted] = nd.try_emplace(*word, 0);
            if (inserted) order.push_back(&it->first);
            ++it->second;
        }
        doc_freqs_.push_back(std::move(frequencies));
    }
    if (corpus.empty()) return;
    const double n = static_cast<double>(corpus.size());
    avgdl_ = static_cast<double>(total_tokens) / n;

    double idf_sum = 0;
    std::vector<const std::string*> negative;
    for (const std::string* word : order) {
        const double freq = nd[*word];
        double idf = std::log(n - freq + 0.5) - std::log(freq + 0.5);
        idf_[*word] = idf;
        idf_sum += idf;
        if (idf < 0) negative.push_back(word);
    }
    average_idf_ = idf_sum / static_cast<double>(idf_.size());
    const double eps = params_.epsilon * average_idf_;
    for (const std::string* word : negative) idf_[*word] = eps;
}

std::vector<double> Bm25Okapi::scores(const std::vector<std::string>& query) const {
    std::vector<double> score(doc_freqs_.size(), 0.0);
    const double k1 = params_.k1;
    const double b = params_.b;
    for (const auto& q : query) {
        auto it = idf_.find(q);
        const double idf = it == idf_.end() ? 0.0 : it->second;
        for (size_t d = 0; d < doc_freqs_.size(); ++d) {
            auto f = doc_freqs_[d].find(q);
            const double tf = f == doc_freqs_[d].end() ? 0.0 : static_cast<double>(f->second);
            const double dl = static_cast<double>(doc_len_[d]);
            // Same operation order as rank_bm25 (numpy float64), so ties and near-ties match bit for bit.
            score[d] += idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl_)));
        }
    }
    return score;
}

double Bm25Okapi::idf(const std::string& word) const {
    auto it = idf_.find(word);
    return it == idf_.end() ? 0.0 : it->second;
}

namespace {

// numpy's floating-point less-than: NaN sorts last.
bool numpy_less(double a, double b) {
    return a < b || (b != b && a == a);
}

// numpy's aheapsort_ (npysort/heapsort.cpp), the introsort fallback. `a` is 1-based (tosort - 1).
void numpy_aheapsort(const double* v, std::int64_t* tosort, std::int64_t n) {
    std::int64_t* a = tosort - 1;
    std::int64_t i, j, l, tmp;
    for (l = n >> 1; l > 0; --l) {
        tmp = a[l];
        for (i = l, j = l << 1; j <= n;) {
            if (j < n && numpy_less(v[a[j]], v[a[j + 1]])) j += 1;
            if (numpy_less(v[tmp], v[a[j]])) {
                a[i] = a[j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        a[i] = tmp;
    }
    for (; n > 1;) {
        tmp = a[n];
        a[n] = a[1];
        n -= 1;
        for (i = 1, j = 2; j <= n;) {
            if (j < n && numpy_less(v[a[j]], v[a[j + 1]])) j++;
            if (numpy_less(v[tmp], v[a[j]])) {
                a[i] = a[j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        a[i] = tmp;
    }
}

// numpy's aquicksort_ (npysort/quicksort.cpp, the default kind of np.argsort for float64 without AVX-512 dispatch):
// median-of-three introsort, insertion sort up to 16 elements, heapsort past 2 * floor(log2(n)) levels.
void numpy_aquicksort(const double* v, std::int64_t* tosort, std::int64_t num) {
    constexpr std::int64_t kSmallQuicksort = 15;  // SMALL_QUICKSORT
    constexpr int kStack = 128;
    std::int64_t* pl = tosort;
    std::int64_t* pr = tosort + num - 1;
    std::int64_t* stack[kStack];
    std::int64_t** sptr = stack;
    int depth[kStack];
    int* psdepth = depth;
    int cdepth = 0;
    for (std::int64_t x = num; x > 1; x >>= 1) ++cdepth;  // npy_get_msb(num)
    cdepth *= 2;
    for (;;) {
        if (cdepth < 0) {
            numpy_aheapsort(v, pl, pr - pl + 1);
        } else {
            while ((pr - pl) > kSmallQuicksort) {
                std::int64_t* pm = pl + ((pr - pl) >> 1);
                if (numpy_less(v[*pm], v[*pl])) std::swap(*pm, *pl);
                if (numpy_less(v[*pr], v[*pm])) std::swap(*pr, *pm);
                if (numpy_less(v[*pm], v[*pl])) std::swap(*pm, *pl);
                const double vp = v[*pm];
                std::int64_t* pi = pl;
                std::int64_t* pj = pr - 1;
                std::swap(*pm, *pj);
                for (;;) {
                    do ++pi;
                    while (numpy_less(v[*pi], vp));
                    do --pj;
                    while (numpy_less(vp, v[*pj]));
                    if (pi >= pj) break;
                    std::swap(*pi, *pj);
                }
                std::int64_t* pk = pr - 1;
                std::swap(*pi, *pk);
                // Push the larger partition, loop on the smaller.
                if (pi - pl < pr - pi) {
                    *sptr++ = pi + 1;
                    *sptr++ = pr;
                    pr = pi - 1;
                } else {
                    *sptr++ = pl;
                    *sptr++ = pi - 1;
                    pl = pi + 1;
                }
                *psdepth++ = --cdepth;
            }
            for (std::int64_t* pi = pl + 1; pi <= pr; ++pi) {
                const std::int64_t vi = *pi;
                const double vp = v[vi];
                std::int64_t* pj = pi;
                std::int64_t* pk = pi - 1;
                while (pj > pl && numpy_less(vp, v[*pk])) *pj-- = *pk--;
                *pj = vi;
            }
        }
        if (sptr == stack) break;
        pr = *(--sptr);
        pl = *(--sptr);
        cdepth = *(--psdepth);
    }
}

}  // namespace

std::vector<int> rank_by_descending_score(const std::vector<double>& scores) {
    std::vector<std::int64_t> idx(scores.size());
    std::iota(idx.begin(), idx.end(), std::int64_t{0});
    if (!idx.empty()) numpy_aquicksort(scores.data(), idx.data(), static_cast<std::int64_t>(idx.size()));
    return std::vector<int>(idx.rbegin(), idx.rend());
}

}  // namespace kasten::eval
