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
    // Each layer's pool: room for its budget and one batch of new tokens per head, allocated now.
    layers_.resize(static_cast<std::size_t>(shape.n_layer));
    const auto hd = static_cast<std::size_t>(shape.head_dim);
    for (int l = 0; l < shape.n_layer; ++l) {
        Layer& layer = layers_[static_cast<std::size_t>(l)];
        layer.region =
            std::min(shape.capacity, layer_budget_[static_cast<std::size_t>(l)] + std::max(1, options.batch_slots));
        const std::size_t slots = static_cast<std::size_t>(layer.region) * shape.n_head_kv;
        layer.keys.resize(slots * hd);
        layer.values.resize(slots * hd);
        layer.pos.assign(slots, -1);
        layer.score.assign(slots, 0.0f);
        layer.free.resize(static_cast<std::size_t>(shape.n_head_kv) + 1);
        for (int kh = 0; kh < shape.n_head_kv; ++kh) {
            std::vector<int>& f = layer.free[static_cast<std::size_t>(kh)];
            for (int s = (kh + 1) * layer.region - 1; s >= kh * layer.region; --s) f.push_back(s);  // lowest first
        }
    }
}

std::size_t EvictingKvCache::bytes_per_cell(const KvCacheShape& shape) {
    return static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv *
           (2 * sizeof(std::uint16_t) * shape.head_dim + sizeof(int) + sizeof(float));
}

std::size_t EvictingKvCache::bytes() const {
    std::size_t n = 0;
    for (const Layer& layer : layers_) {
        n += (layer.keys.capacity() + layer.values.capacity()) * sizeof(std::uint16_t) +
             layer.pos.capacity() * sizeof(int) + layer.score.capacity() * sizeof(float);
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
    if (options_.pyramid) out += fmt::format("-beta{}", options_.pyramid_beta);
    return out;
}

int EvictingKvCache::kept(int layer, int kv_head) const {
    return static_cast<int>(head(layer, kv_head).slots.size());
}

std::vector<int> EvictingKvCache::kept_positions(int layer, int kv_head) const {
    const Layer& lay = layers_[static_cast<std::size_t>(layer)];
    std::vector<int> out;
    for (int s : head(layer, kv_head).slots) out.push_back(lay.pos[static_cast<std::size_t>(s)]);
    return out;
}

int EvictingKvCache::take_slot(Layer& layer, int kv_head) {
    // The head's own share, else the share (or overflow) with the most free slots, else new overflow slots.
    std::vector<int>* from = &layer.free[static_cast<std::size_t>(kv_head)];
    if (from->empty()) {
        for (std::vector<int>& f : layer.free) {
            if (f.size() > from->size()) from = &f;
        }
    }
    if (from->empty()) {
        // A batch beyond batch_slots: grow the overflow geometrically (exact reserve, so bytes() is what is held).
        const std::size_t hd = static_cast<std::size_t>(shape_.head_dim);
        const std::size_t old = layer.pos.size();
        const std::size_t overflow = old - static_cast<std::size_t>(layer.region) * shape_.n_head_kv;
        const std::size_t add = std::max<std::size_t>(static_cast<std::size_t>(shape_.n_head_kv) * 16, overflow);
        layer.keys.reserve((old + add) * hd);
        layer.values.reserve((old + add) * hd);
        layer.pos.reserve(old + add);
        layer.score.reserve(old + add);
        layer.keys.resize((old + add) * hd);
        layer.values.resize((old + add) * hd);
        layer.pos.resize(old + add, -1);
        layer.score.resize(old + add, 0.0f);
        from = &layer.free.back();
        for (std::size_t s = old + add; s-- > old;) from->push_back(static_cast<int>(s));
    }
    const int slot = from->back();
    from->pop_back();
    return slot;
}

void EvictingKvCache::free_slot(Layer& layer, int slot) {
    layer.pos[static_cast<std::size_t>(slot)] = -1;
    const int share = slot / layer.region;
    layer.free[static_cast<std::size_t>(std::min(share, shape_.n_head_kv))].push_back(slot);
}

void EvictingKvCache::store(int layer, int cell, const float* k, const float* v) {
    assert(cell >= size_ && cell < shape_.capacity);
    const int hd = shape_.head_dim;
    Layer& lay = layers_[static_cast<std::size_t>(layer)];
    for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
        Head& h = head(layer, kh);
        const int slot = take_slot(lay, kh);
        lay.pos[static_cast<std::size_t>(slot)] = cell;
        lay.score[static_cast<std::size_t>(slot)] = 0.0f;
        h.slots.insert(std::lower_bound(h.slots.begin(), h.slots.end(), slot), slot);
        for (int d = 0; d < hd; ++d) {
            lay.keys[static_cast<std::size_t>(slot) * hd + d] = f32_to_f16(k[kh * hd + d]);
            lay.values[static_cast<std::size_t>(slot) * hd + d] = f32_to_f16(v[kh * hd + d]);
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
    const Layer& lay = layers_[static_cast<std::size_t>(layer)];
    if (records_queries() && end - 1 >= size_ && n_q == options_.n_q) {
        // Distinct tokens write distinct rows; every caller passes the same scale.
        std::memcpy(h.pending_q.data() + static_cast<std::size_t>(end - 1 - size_) * n_q * hd, q,
                    sizeof(float) * n_q * hd);
        h.pending_seen[static_cast<std::size_t>(end - 1 - size_)] = 1;
        std::atomic_ref<float>(scale_).store(scale, std::memory_order_relaxed);
    }
    thread_local std::vector<int> slots;
    slots.clear();
    for (int s : h.slots) {
        const int p = lay.pos[static_cast<std::size_t>(s)];
        if (p >= begin && p < end) slots.push_back(s);
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
            kern.dot_rows_f16(q + i * hd, lay.keys.data() + static_cast<std::size_t>(slots[j]) * hd, r, hd, scale,
                              s + j);
            j += r;
        }
        max[i] = *std::max_element(s, s + m);
        sum[i] = exp_shifted_f32(s, m, max[i]);
        for (std::size_t j = 0; j < m;) {
            std::size_t r = 1;
            while (j + r < m && slots[j + r] == slots[j] + static_cast<int>(r)) ++r;
            kern.accumulate_rows_f16(s + j, lay.values.data() + static_cast<std::size_t>(slots[j]) * hd, r, hd, o);
            j += r;
        }
    }
}

int EvictingKvCache::accumulate_attention(Layer& lay, const Head& h, int from, int n) {
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
        for (int slot : h.slots) {
            if (lay.pos[static_cast<std::size_t>(slot)] <= t) slots.push_back(slot);
        }
        const std::size_t m = slots.size();
        if (m == 0) continue;
        s.resize(m);
        for (int i = 0; i < n_q; ++i) {
            for (std::size_t j = 0; j < m;) {  // runs of consecutive slots, one kernel call each
                std::size_t r = 1;
                while (j + r < m && slots[j + r] == slots[j] + static_cast<int>(r)) ++r;
                kern.dot_rows_f16(qt + i * hd, lay.keys.data() + static_cast<std::size_t>(slots[j]) * hd, r, hd, scale_,
                                  s.data() + j);
                j += r;
            }
            const float total = exp_shifted_f32(s.data(), m, *std::max_element(s.begin(), s.end()));
            for (std::size_t j = 0; j < m; ++j) lay.score[static_cast<std::size_t>(slots[j])] += s[j] / total;
        }
    }
    return voters;
}

void EvictingKvCache::snap_vote(Layer& lay, const Head& h, int n) {
    const int from = std::max(size_, n - options_.observation);
    bool any = false;
    for (int t = from; t < n; ++t) {
        const auto i = static_cast<std::size_t>(t - size_);
        any = any || (i < h.pending_seen.size() && h.pending_seen[i]);
    }
    if (!any) return;  // no query recorded (attend() not called): the scores stay
    for (int slot : h.slots) lay.score[static_cast<std::size_t>(slot)] = 0.0f;
    accumulate_attention(lay, h, from, n);
    if (options_.pool <= 1) return;
    // Max-pool the votes along positions, over the kept cells in position order.
    std::vector<int> order = h.slots;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return lay.pos[a] < lay.pos[b]; });
    const int m = static_cast<int>(order.size());
    const int r = options_.pool / 2;
    std::vector<float> votes(static_cast<std::size_t>(m));
    for (int j = 0; j < m; ++j) votes[j] = lay.score[static_cast<std::size_t>(order[j])];
    for (int j = 0; j < m; ++j) {
        float best = votes[j];
        for (int k = std::max(0, j - r); k <= std::min(m - 1, j + r); ++k) best = std::max(best, votes[k]);
        lay.score[static_cast<std::size_t>(order[j])] = best;
    }
}

void EvictingKvCache::evict(Layer& lay, Head& h, int budget, int n) {
    const int excess = static_cast<int>(h.slots.size()) - budget;
    if (excess <= 0) return;
    std::vector<int> candidates;
    for (int s : h.slots) {
        const int p = lay.pos[static_cast<std::size_t>(s)];
        if (p >= options_.sinks && p < n - options_.window) candidates.push_back(s);
    }
    // budget >= sinks + window, so there are at least `excess` candidates.
    const bool scored = options_.policy != EvictionPolicy::kStreaming;
    const auto worse = [&](int a, int b) {
        if (scored && lay.score[a] != lay.score[b]) return lay.score[a] < lay.score[b];
        return lay.pos[a] < lay.pos[b];
    };
    std::nth_element(candidates.begin(), candidates.begin() + (excess - 1), candidates.end(), worse);
    for (int i = 0; i < excess; ++i) free_slot(lay, candidates[i]);
    std::erase_if(h.slots, [&](int s) { return lay.pos[static_cast<std::size_t>(s)] < 0; });
}

void EvictingKvCache::evict_layer_adaptive(int layer, int n) {
    const int n_head = shape_.n_head_kv;
    Layer& lay = layers_[static_cast<std::size_t>(layer)];
    long long used = 0;
    for (int kh = 0; kh < n_head; ++kh) used += static_cast<long long>(head(layer, kh).slots.size());
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
        for (int s : head(layer, kh).slots) {
            const int p = lay.pos[static_cast<std::size_t>(s)];
            if (p >= options_.sinks && p < n - options_.window) {
                candidates.push_back({scored ? lay.score[static_cast<std::size_t>(s)] : 0.0f, p, kh, s});
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
    for (long long i = 0; i < excess; ++i) free_slot(lay, candidates[static_cast<std::size_t>(i)].slot);
    for (int kh = 0; kh < n_head; ++kh) {
        std::erase_if(head(layer, kh).slots, [&](int s) { return lay.pos[static_cast<std::size_t>(s)] < 0; });
    }
}

void EvictingKvCache::commit(int n) {
    assert(n >= size_ && n <= shape_.capacity);
    // SnapKV votes at the end of a prefill batch (two or more tokens); decode steps accumulate as H2O does.
    const bool vote = options_.policy == EvictionPolicy::kSnapKv && n - size_ >= 2 && scale_ != 0.0f;
    for (int l = 0; l < shape_.n_layer; ++l) {
        Layer& lay = layers_[static_cast<std::size_t>(l)];
        for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
            const Head& h = head(l, kh);
            if (options_.policy == EvictionPolicy::kH2o && scale_ != 0.0f) accumulate_attention(lay, h, size_, n);
            if (vote) snap_vote(lay, h, n);
            // SnapKV decodes as H2O: each decoded token's attention adds to the scores.
            if (options_.policy == EvictionPolicy::kSnapKv && !vote && scale_ != 0.0f) {
                accumulate_attention(lay, h, size_, n);
            }
        }
        if (options_.adaptive_heads) {
            evict_layer_adaptive(l, n);
        } else {
            for (int kh = 0; kh < shape_.n_head_kv; ++kh) evict(lay, head(l, kh), layer_budget(l), n);
        }
    }
    size_ = n;
}

void EvictingKvCache::drop_freed_slots() {
    for (int l = 0; l < shape_.n_layer; ++l) {
        const Layer& lay = layers_[static_cast<std::size_t>(l)];
        for (int kh = 0; kh < shape_.n_head_kv; ++kh) {
            std::erase_if(head(l, kh).slots, [&](int s) { return lay.pos[static_cast<std::size_t>(s)] < 0; });
        }
    }
}

void EvictingKvCache::discard(int first, int count, const Rope& rope) {
    assert(first >= 0 && count >= 0 && first + count <= size_);
    if (count == 0) return;
    const int hd = shape_.head_dim;
    std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
    rope.angles(-static_cast<double>(count), cos_sin.data());
    std::vector<float> row(static_cast<std::size_t>(hd));
    for (Layer& lay : layers_) {
        for (std::size_t s = 0; s < lay.pos.size(); ++s) {
            const int p = lay.pos[s];
            if (p < first) continue;  // also the free slots (−1)
            if (p < first + count) {
                free_slot(lay, static_cast<int>(s));
                continue;
            }
            lay.pos[s] = p - count;
            std::uint16_t* k = lay.keys.data() + s * hd;
            for (int d = 0; d < hd; ++d) row[d] = f16_to_f32(k[d]);
            rope.rotate(row.data(), 1, cos_sin.data());
            for (int d = 0; d < hd; ++d) k[d] = f32_to_f16(row[d]);
        }
    }
    drop_freed_slots();
    size_ -= count;
}

void EvictingKvCache::truncate(int n) {
    n = std::max(0, n);
    if (n >= size_) return;
    for (Layer& lay : layers_) {
        for (std::size_t s = 0; s < lay.pos.size(); ++s) {
            if (lay.pos[s] >= n) free_slot(lay, static_cast<int>(s));
        }
    }
    drop_freed_slots();
    size_ = n;
}

}  // namespace kasten::llm
