#include "llm/evicting_kv_cache.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "llm/f16.h"
#include "llm/kv_kernels.h"
#include "llm/rope.h"

namespace kasten::llm {

EvictingKvCache::EvictingKvCache(const KvCacheShape& shape, const EvictionOptions& options, KernelIsa isa)
    : shape_(shape), options_(options), isa_(isa) {
    assert(shape.n_layer > 0 && shape.n_head_kv > 0 && shape.head_dim > 0 && shape.capacity > 0);
    assert(options.window >= 1 && options.sinks >= 0 && options.budget >= options.sinks + options.window &&
           options.n_q >= 1 && options.observation >= 1 && options.pool >= 1 && options.pyramid_beta >= 1);
    heads_.resize(static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv);
    layer_budget_.assign(static_cast<std::size_t>(shape.n_layer), options.budget);
    if (options.pyramid && shape.n_layer > 1) {
        // PyramidKV: the selected cells S per layer fall arithmetically from 2·S − S/β to S/β; floors are made up
        // from the first layer on, so the layers' total is exactly n_layer · budget and the schedule non-increasing.
        const long long last_layer = shape.n_layer - 1;
        const long long selected = options.budget - options.sinks - options.window;
        const long long lo = selected / options.pyramid_beta;
        const long long hi = 2 * selected - lo;
        long long total = 0;
        for (int l = 0; l < shape.n_layer; ++l) {
            const long long s = lo + (hi - lo) * (last_layer - l) / last_layer;
            layer_budget_[static_cast<std::size_t>(l)] = static_cast<int>(options.sinks + options.window + s);
            total += s;
        }
        for (int l = 0; total < selected * shape.n_layer; ++l, ++total) ++layer_budget_[static_cast<std::size_t>(l)];
    }
    // Room for the budget and one batch of new tokens before commit() evicts; grows if a batch is larger.
    for (int l = 0; l < shape.n_layer; ++l) {
        const std::size_t slots = static_cast<std::size_t>(
            std::min(shape.capacity, layer_budget_[static_cast<std::size_t>(l)] + std::max(1, options.batch_slots)));
        for (int kh = 0; kh < shape.n_head_kv; ++kh) {
            Head& h = head(l, kh);
            h.keys.reserve(slots * shape.head_dim);
            h.values.reserve(slots * shape.head_dim);
            h.pos.reserve(slots);
            h.score.reserve(slots);
        }
    }
}

std::size_t EvictingKvCache::bytes_per_cell(const KvCacheShape& shape) {
    return static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv *
           (2 * sizeof(std::uint16_t) * shape.head_dim + sizeof(int) + sizeof(float));
}

std::size_t EvictingKvCache::bytes() const {
    std::size_t n = 0;
    for (const Head& h : heads_) {
        n += (h.keys.capacity() + h.values.capacity()) * sizeof(std::uint16_t) + h.pos.capacity() * sizeof(int) +
             h.score.capacity() * sizeof(float);
    }
    return n;
}

std::string EvictingKvCache::name() const {
    std::string base = options_.policy == EvictionPolicy::kH2o      ? "h2o"
                       : options_.policy == EvictionPolicy::kSnapKv ? "snapkv"
                                                                    : "streaming";
    if (options_.policy == EvictionPolicy::kSnapKv && (options_.pyramid || options_.adaptive_heads)) {
        base = options_.pyramid && options_.adaptive_heads ? "ada-pyramidkv" : options_.pyramid ? "pyramidkv" : "adakv";
    } else {
        if (options_.pyramid) base += "-pyramid";
        if (options_.adaptive_heads) base += "-ada";
    }
    std::string out = fmt::format("{}-f16-b{}-s{}-w{}", base, options_.budget, options_.sinks, options_.window);
    if (options_.policy == EvictionPolicy::kSnapKv) out += fmt::format("-o{}-p{}", options_.observation, options_.pool);
    return out;
}

int EvictingKvCache::kept(int layer, int kv_head) const {
    return head(layer, kv_head).used;
}

std::vector<int> EvictingKvCache::kept_positions(int layer, int kv_head) const {
    std::vector<int> out;
    for (int p : head(layer, kv_head).pos) {
        if (p >= 0) out.push_back(p);
    }
    return out;
}

void EvictingKvCache::store(int layer, int cell, const float* k, const float* v) {
    assert(cell >= size_ && cell < shape_.capacity);
    const int hd = shape_.head_dim;
    for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
        Head& h = head(layer, kh);
        int slot;
        if (!h.free.empty()) {
            slot = h.free.back();
            h.free.pop_back();
        } else {
            slot = static_cast<int>(h.pos.size());
            h.pos.push_back(-1);
            h.score.push_back(0.0f);
            h.keys.resize(h.keys.size() + hd);
            h.values.resize(h.values.size() + hd);
        }
        h.pos[slot] = cell;
        h.score[slot] = 0.0f;
        ++h.used;
        for (int d = 0; d < hd; ++d) {
            h.keys[static_cast<std::size_t>(slot) * hd + d] = f32_to_f16(k[kh * hd + d]);
            h.values[static_cast<std::size_t>(slot) * hd + d] = f32_to_f16(v[kh * hd + d]);
        }
        if (records_queries()) {
            const std::size_t need = static_cast<std::size_t>(cell - size_ + 1) * options_.n_q * hd;
            if (h.pending_q.size() < need) h.pending_q.resize(need, 0.0f);
            if (h.pending_seen.size() < static_cast<std::size_t>(cell - size_ + 1)) {
                h.pending_seen.resize(static_cast<std::size_t>(cell - size_ + 1));
            }
            h.pending_seen[static_cast<std::size_t>(cell - size_)] = 0;
        }
    }
}

void EvictingKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale,
                             float* out, float* max, float* sum, float* scratch) const {
    const KvKernels& kern = kv_kernels(isa_);
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const Head& h = head(layer, kv_head);
    if (records_queries() && end - 1 >= size_ && n_q == options_.n_q) {
        // Distinct tokens write distinct rows; every caller passes the same scale.
        std::memcpy(h.pending_q.data() + static_cast<std::size_t>(end - 1 - size_) * n_q * hd, q,
                    sizeof(float) * n_q * hd);
        h.pending_seen[static_cast<std::size_t>(end - 1 - size_)] = 1;
        std::atomic_ref<float>(scale_).store(scale, std::memory_order_relaxed);
    }
    thread_local std::vector<int> slots;
    slots.clear();
    for (int s = 0; s < static_cast<int>(h.pos.size()); ++s) {
        if (h.pos[s] >= begin && h.pos[s] < end) slots.push_back(s);
    }
    const std::size_t m = slots.size();
    for (int i = 0; i < n_q; ++i) {
        float* o = out + i * hd;
        std::fill(o, o + hd, 0.0f);
        if (m == 0) {
            max[i] = -std::numeric_limits<float>::infinity();
            sum[i] = 0.0f;
            continue;
        }
        float* s = scratch + static_cast<std::size_t>(i) * m;
        // Slots are mostly filled in position order: runs of consecutive slots are one kernel call each.
        for (std::size_t j = 0; j < m;) {
            std::size_t r = 1;
            while (j + r < m && slots[j + r] == slots[j] + static_cast<int>(r)) ++r;
            kern.dot_rows_f16(q + i * hd, h.keys.data() + static_cast<std::size_t>(slots[j]) * hd, r, hd, scale, s + j);
            j += r;
        }
        max[i] = *std::max_element(s, s + m);
        sum[i] = exp_shifted_f32(s, m, max[i]);
        for (std::size_t j = 0; j < m;) {
            std::size_t r = 1;
            while (j + r < m && slots[j + r] == slots[j] + static_cast<int>(r)) ++r;
            kern.accumulate_rows_f16(s + j, h.values.data() + static_cast<std::size_t>(slots[j]) * hd, r, hd, o);
            j += r;
        }
    }
}

int EvictingKvCache::accumulate_attention(Head& h, int from, int n) {
    const int hd = shape_.head_dim;
    const int n_q = options_.n_q;
    const KvKernels& kern = kv_kernels(isa_);
    std::vector<int> slots;
    std::vector<float> s;
    int voters = 0;
    for (int t = from; t < n; ++t) {
        if (static_cast<std::size_t>(t - size_) >= h.pending_seen.size() || !h.pending_seen[t - size_]) continue;
        ++voters;
        const float* qt = h.pending_q.data() + static_cast<std::size_t>(t - size_) * n_q * hd;
        slots.clear();
        for (int slot = 0; slot < static_cast<int>(h.pos.size()); ++slot) {
            if (h.pos[slot] >= 0 && h.pos[slot] <= t) slots.push_back(slot);
        }
        const std::size_t m = slots.size();
        if (m == 0) continue;
        s.resize(m);
        for (int i = 0; i < n_q; ++i) {
            for (std::size_t j = 0; j < m;) {  // runs of consecutive slots, one kernel call each
                std::size_t r = 1;
                while (j + r < m && slots[j + r] == slots[j] + static_cast<int>(r)) ++r;
                kern.dot_rows_f16(qt + i * hd, h.keys.data() + static_cast<std::size_t>(slots[j]) * hd, r, hd, scale_,
                                  s.data() + j);
                j += r;
            }
            const float total = exp_shifted_f32(s.data(), m, *std::max_element(s.begin(), s.end()));
            for (std::size_t j = 0; j < m; ++j) h.score[static_cast<std::size_t>(slots[j])] += s[j] / total;
        }
    }
    return voters;
}

void EvictingKvCache::snap_vote(Head& h, int n) {
    const int from = std::max(size_, n - options_.observation);
    bool any = false;
    for (int t = from; t < n; ++t) {
        const auto i = static_cast<std::size_t>(t - size_);
        any = any || (i < h.pending_seen.size() && h.pending_seen[i]);
    }
    if (!any) return;  // no query recorded (attend() not called): the scores stay
    std::fill(h.score.begin(), h.score.end(), 0.0f);
    accumulate_attention(h, from, n);
    if (options_.pool <= 1) return;
    // Max-pool the votes along positions, over the kept cells in position order.
    std::vector<int> order;
    for (int slot = 0; slot < static_cast<int>(h.pos.size()); ++slot) {
        if (h.pos[slot] >= 0) order.push_back(slot);
    }
    std::sort(order.begin(), order.end(), [&](int a, int b) { return h.pos[a] < h.pos[b]; });
    const int m = static_cast<int>(order.size());
    const int r = options_.pool / 2;
    std::vector<float> votes(static_cast<std::size_t>(m));
    for (int j = 0; j < m; ++j) votes[j] = h.score[static_cast<std::size_t>(order[j])];
    for (int j = 0; j < m; ++j) {
        float best = votes[j];
        for (int k = std::max(0, j - r); k <= std::min(m - 1, j + r); ++k) best = std::max(best, votes[k]);
        h.score[static_cast<std::size_t>(order[j])] = best;
    }
}

void EvictingKvCache::evict(Head& h, int budget, int n) {
    const int excess = h.used - budget;
    if (excess <= 0) return;
    std::vector<int> candidates;
    for (int s = 0; s < static_cast<int>(h.pos.size()); ++s) {
        const int p = h.pos[s];
        if (p >= options_.sinks && p < n - options_.window) candidates.push_back(s);
    }
    // budget >= sinks + window, so there are at least `excess` candidates.
    const bool scored = options_.policy != EvictionPolicy::kStreaming;
    const auto worse = [&](int a, int b) {
        if (scored && h.score[a] != h.score[b]) return h.score[a] < h.score[b];
        return h.pos[a] < h.pos[b];
    };
    std::nth_element(candidates.begin(), candidates.begin() + (excess - 1), candidates.end(), worse);
    for (int i = 0; i < excess; ++i) {
        h.pos[candidates[i]] = -1;
        h.free.push_back(candidates[i]);
    }
    h.used -= excess;
}

void EvictingKvCache::evict_layer_adaptive(int layer, int n) {
    const int n_head = shape_.n_head_kv;
    long long used = 0;
    for (int kh = 0; kh < n_head; ++kh) used += head(layer, kh).used;
    const long long excess = used - static_cast<long long>(n_head) * layer_budget(layer);
    if (excess <= 0) return;
    struct Candidate {
        float score;
        int pos;
        int kv_head;
        int slot;
    };
    std::vector<Candidate> candidates;
    const bool scored = options_.policy != EvictionPolicy::kStreaming;
    for (int kh = 0; kh < n_head; ++kh) {
        const Head& h = head(layer, kh);
        for (int s = 0; s < static_cast<int>(h.pos.size()); ++s) {
            const int p = h.pos[s];
            if (p >= options_.sinks && p < n - options_.window) {
                candidates.push_back({scored ? h.score[static_cast<std::size_t>(s)] : 0.0f, p, kh, s});
            }
        }
    }
    // Every head keeps its sinks and window (at most layer_budget() cells), so there are `excess` candidates.
    const auto worse = [](const Candidate& a, const Candidate& b) {
        if (a.score != b.score) return a.score < b.score;
        if (a.pos != b.pos) return a.pos < b.pos;
        return a.kv_head < b.kv_head;
    };
    std::nth_element(candidates.begin(), candidates.begin() + (excess - 1), candidates.end(), worse);
    for (long long i = 0; i < excess; ++i) {
        const Candidate& c = candidates[static_cast<std::size_t>(i)];
        Head& h = head(layer, c.kv_head);
        h.pos[static_cast<std::size_t>(c.slot)] = -1;
        h.free.push_back(c.slot);
        --h.used;
    }
}

void EvictingKvCache::commit(int n) {
    assert(n >= size_ && n <= shape_.capacity);
    // SnapKV votes at the end of a prefill batch (two or more tokens); decode steps accumulate as H2O does.
    const bool vote = options_.policy == EvictionPolicy::kSnapKv && n - size_ >= 2 && scale_ != 0.0f;
    for (int l = 0; l < shape_.n_layer; ++l) {
        for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
            Head& h = head(l, kh);
            if (options_.policy == EvictionPolicy::kH2o && scale_ != 0.0f) accumulate_attention(h, size_, n);
            if (vote) snap_vote(h, n);
            // SnapKV decodes as H2O: each decoded token's attention adds to the scores.
            if (options_.policy == EvictionPolicy::kSnapKv && !vote && scale_ != 0.0f) {
                accumulate_attention(h, size_, n);
            }
        }
        if (options_.adaptive_heads) {
            evict_layer_adaptive(l, n);
        } else {
            for (int kh = 0; kh < shape_.n_head_kv; ++kh) evict(head(l, kh), layer_budget(l), n);
        }
    }
    size_ = n;
}

void EvictingKvCache::discard(int first, int count, const Rope& rope) {
    assert(first >= 0 && count >= 0 && first + count <= size_);
    if (count == 0) return;
    const int hd = shape_.head_dim;
    std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
    rope.angles(-static_cast<double>(count), cos_sin.data());
    std::vector<float> row(static_cast<std::size_t>(hd));
    for (Head& h : heads_) {
        for (std::size_t s = 0; s < h.pos.size(); ++s) {
            int& p = h.pos[s];
            if (p < first) continue;
            if (p < first + count) {
                p = -1;
                h.free.push_back(static_cast<int>(s));
                --h.used;
                continue;
            }
            p -= count;
            std::uint16_t* k = h.keys.data() + s * hd;
            for (int d = 0; d < hd; ++d) row[d] = f16_to_f32(k[d]);
            rope.rotate(row.data(), 1, cos_sin.data());
            for (int d = 0; d < hd; ++d) k[d] = f32_to_f16(row[d]);
        }
    }
    size_ -= count;
}

void EvictingKvCache::truncate(int n) {
    n = std::max(0, n);
    if (n >= size_) return;
    for (Head& h : heads_) {
        for (std::size_t s = 0; s < h.pos.size(); ++s) {
            if (h.pos[s] >= n) {
                h.pos[s] = -1;
                h.free.push_back(static_cast<int>(s));
                --h.used;
            }
        }
    }
    size_ = n;
}

}  // namespace kasten::llm
