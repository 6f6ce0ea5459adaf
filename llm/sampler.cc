#include "llm/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace kasten::llm {

Sampler::Sampler(const SamplerOptions& options) : options_(options), rng_(options.seed) {}

void Sampler::reset() {
    recent_.clear();
    generated_counts_.clear();
    rng_.seed(options_.seed);
}

void Sampler::accept(int token) {
    if (options_.repeat_last_n <= 0) return;
    recent_.push_back(token);
    while (static_cast<int>(recent_.size()) > options_.repeat_last_n) recent_.pop_front();
}

Result<int> Sampler::sample(std::span<const float> logits) {
    const int n = static_cast<int>(logits.size());
    work_.assign(logits.begin(), logits.end());

    if (options_.repeat_penalty != 1.0f && !recent_.empty()) {
        std::unordered_set<int> seen;
        for (int t : recent_) {
            if (t < 0 || t >= n || !seen.insert(t).second) continue;
            float& l = work_[static_cast<std::size_t>(t)];
            l = l > 0 ? l / options_.repeat_penalty : l * options_.repeat_penalty;
        }
    }
    if (options_.frequency_penalty != 0.0f || options_.presence_penalty != 0.0f) {
        for (const auto& [t, count] : generated_counts_) {
            if (t < 0 || t >= n) continue;
            work_[static_cast<std::size_t>(t)] -=
                static_cast<float>(count) * options_.frequency_penalty + options_.presence_penalty;
        }
    }
    for (const auto& [t, bias] : options_.logit_bias) {
        if (t >= 0 && t < n) work_[static_cast<std::size_t>(t)] += bias;
    }
    if (mask_ != nullptr) mask_->apply(work_);

    int best = -1;
    float best_logit = -std::numeric_limits<float>::infinity();
    for (int i = 0; i < n; ++i) {
        if (std::isfinite(work_[static_cast<std::size_t>(i)]) && work_[static_cast<std::size_t>(i)] > best_logit) {
            best_logit = work_[static_cast<std::size_t>(i)];
            best = i;
        }
    }
    if (best < 0) return Status::failed_precondition("no token is allowed by the mask");

    int chosen = best;
    if (options_.temperature > 0.0f) {
        // Softmax over the finite logits at this temperature, largest first.
        candidates_.clear();
        const float inv_t = 1.0f / options_.temperature;
        for (int i = 0; i < n; ++i) {
            const float l = work_[static_cast<std::size_t>(i)];
            if (std::isfinite(l)) candidates_.push_back({i, l, 0.0f});
        }
        auto by_logit = [](const Candidate& a, const Candidate& b) {
            return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
        };
        std::size_t keep = candidates_.size();
        if (options_.top_k > 0 && static_cast<std::size_t>(options_.top_k) < keep) {
            keep = static_cast<std::size_t>(options_.top_k);
            std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep),
                              candidates_.end(), by_logit);
            candidates_.resize(keep);
        } else {
            std::sort(candidates_.begin(), candidates_.end(), by_logit);
        }
        double total = 0.0;
        for (Candidate& c : candidates_) {
            c.p = std::exp((c.logit - best_logit) * inv_t);
            total += c.p;
        }
        for (Candidate& c : candidates_) c.p = static_cast<float>(c.p / total);
        if (options_.top_p < 1.0f) {
            double cum = 0.0;
            std::size_t k = 0;
            while (k < candidates_.size()) {
                cum += candidates_[k++].p;
                if (cum >= options_.top_p) break;
            }
            candidates_.resize(std::max<std::size_t>(k, 1));
        }
        if (options_.min_p > 0.0f) {
            const float floor = options_.min_p * candidates_.front().p;
            std::size_t k = 1;
            while (k < candidates_.size() && candidates_[k].p >= floor) ++k;
            candidates_.resize(k);
        }
        double mass = 0.0;
        for (const Candidate& c : candidates_) mass += c.p;
        const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * mass;
        double cum = 0.0;
        chosen = candidates_.back().id;
        for (const Candidate& c : candidates_) {
            cum += c.p;
            if (u < cum) {
                chosen = c.id;
                break;
            }
        }
    }
    accept(chosen);
    ++generated_counts_[chosen];
    if (mask_ != nullptr) mask_->accept(chosen);
    return chosen;
}

}  // namespace kasten::llm
