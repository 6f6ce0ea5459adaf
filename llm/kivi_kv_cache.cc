#include "llm/kivi_kv_cache.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "llm/f16.h"
#include "llm/kv_kernels.h"
#include "llm/rope.h"

namespace kasten::llm {
namespace {

// Channels per value group: 32 when head_dim is a multiple of 32 or divides 32 (then a group spans heads),
// else one head.
int pick_value_group(int head_dim, int kv_dim) {
    if (head_dim % 32 == 0) return 32;
    if (32 % head_dim == 0 && kv_dim % 32 == 0) return 32;
    return head_dim;
}

}  // namespace

KiviKvCache::KiviKvCache(const KvCacheShape& shape, int bits, int residual, KernelIsa isa)
    : shape_(shape), bits_(bits), residual_(residual), isa_(isa) {
    assert(shape.n_layer > 0 && shape.n_head_kv > 0 && shape.head_dim > 0 && shape.capacity > 0);
    assert(shape.head_dim % 4 == 0 && (bits == 2 || bits == 4 || bits == 8) && residual >= 0);
    kv_dim_ = shape.n_head_kv * shape.head_dim;
    value_group_ = pick_value_group(shape.head_dim, kv_dim_);
    n_key_groups_ = shape.capacity / kKvKeyGroup;
    key_run_ = kv_packed_bytes(kKvKeyGroup, bits);
    value_block_ = std::max(shape.head_dim, value_group_);
    value_row_ = kv_packed_bytes(static_cast<std::size_t>(value_block_), bits);
    value_stride_ = 2 * (value_block_ / value_group_);
    const std::size_t heads = static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv;
    const std::size_t key_cells = heads * n_key_groups_ * shape.head_dim;
    key_codes_.assign(key_cells * key_run_, 0);
    key_params_.assign(key_cells * 2, 0);
    const std::size_t value_cells =
        static_cast<std::size_t>(shape.n_layer) * (kv_dim_ / value_block_) * n_key_groups_ * kKvKeyGroup;
    value_codes_.assign(value_cells * value_row_, 0);
    value_params_.assign(value_cells * value_stride_, 0);
    window_k_.resize(heads);
    window_v_.resize(heads);
    const std::size_t window_rows = static_cast<std::size_t>(std::min(shape.capacity, residual + kKvKeyGroup));
    for (std::size_t i = 0; i < heads; ++i) {
        window_k_[i].reserve(window_rows * shape.head_dim);
        window_v_[i].reserve(window_rows * shape.head_dim);
    }
}

std::size_t KiviKvCache::bytes() const {
    std::size_t n = key_codes_.size() + value_codes_.size() + 2 * (key_params_.size() + value_params_.size());
    for (std::size_t i = 0; i < window_k_.size(); ++i) n += 2 * (window_k_[i].capacity() + window_v_[i].capacity());
    return n;
}

std::size_t KiviKvCache::bytes_for(const KvCacheShape& shape, int bits, int residual) {
    const int kv_dim = shape.n_head_kv * shape.head_dim;
    const int value_group = pick_value_group(shape.head_dim, kv_dim);
    const int value_block = std::max(shape.head_dim, value_group);
    const std::size_t n_key_groups = static_cast<std::size_t>(shape.capacity / kKvKeyGroup);
    const std::size_t heads = static_cast<std::size_t>(shape.n_layer) * shape.n_head_kv;
    const std::size_t key_cells = heads * n_key_groups * shape.head_dim;
    const std::size_t value_cells =
        static_cast<std::size_t>(shape.n_layer) * (kv_dim / value_block) * n_key_groups * kKvKeyGroup;
    const std::size_t value_stride = 2 * static_cast<std::size_t>(value_block / value_group);
    const std::size_t window_rows = static_cast<std::size_t>(std::min(shape.capacity, residual + kKvKeyGroup));
    return key_cells * (kv_packed_bytes(kKvKeyGroup, bits) + 2 * 2) +
           value_cells * (kv_packed_bytes(static_cast<std::size_t>(value_block), bits) + 2 * value_stride) +
           heads * 2 * 2 * window_rows * shape.head_dim;
}

std::string KiviKvCache::name() const {
    return fmt::format("kivi-q{}-r{}", bits_, residual_);
}

void KiviKvCache::store(int layer, int cell, const float* k, const float* v) {
    assert(cell >= size_ && cell < shape_.capacity);
    const int hd = shape_.head_dim;
    const std::size_t row = static_cast<std::size_t>(cell - q_end_);
    for (int h = 0; h < shape_.n_head_kv; ++h) {
        auto& wk = window_k_[head_index(layer, h)];
        auto& wv = window_v_[head_index(layer, h)];
        if (wk.size() < (row + 1) * hd) {
            wk.resize((row + 1) * hd);
            wv.resize((row + 1) * hd);
        }
        for (int d = 0; d < hd; ++d) {
            wk[row * hd + d] = f32_to_f16(k[h * hd + d]);
            wv[row * hd + d] = f32_to_f16(v[h * hd + d]);
        }
    }
}

void KiviKvCache::commit(int n) {
    assert(n >= size_ && n <= shape_.capacity);
    size_ = n;
    while (size_ - q_end_ >= residual_ + kKvKeyGroup && q_end_ / kKvKeyGroup < n_key_groups_) quantize_oldest_group();
}

void KiviKvCache::quantize_oldest_group() {
    const int hd = shape_.head_dim;
    const int g = q_end_ / kKvKeyGroup;
    std::vector<float> keys(static_cast<std::size_t>(kKvKeyGroup) * hd);
    std::vector<float> row(static_cast<std::size_t>(kv_dim_));
    for (int l = 0; l < shape_.n_layer; ++l) {
        for (int h = 0; h < shape_.n_head_kv; ++h) {
            const auto& wk = window_k_[head_index(l, h)];
            for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = f16_to_f32(wk[i]);
            const std::size_t base = (head_index(l, h) * n_key_groups_ + g) * hd;
            kv_quantize_key_group(keys.data(), static_cast<std::size_t>(hd), bits_, key_codes_.data() + base * key_run_,
                                  key_params_.data() + base * 2);
        }
        for (int t = 0; t < kKvKeyGroup; ++t) {
            for (int h = 0; h < shape_.n_head_kv; ++h) {
                const auto& wv = window_v_[head_index(l, h)];
                for (int d = 0; d < hd; ++d) row[h * hd + d] = f16_to_f32(wv[static_cast<std::size_t>(t) * hd + d]);
            }
            const std::size_t run = kv_packed_bytes(value_group_, bits_);
            for (int vg = 0; vg < kv_dim_ / value_group_; ++vg) {
                const int ch = vg * value_group_;
                const std::size_t cell = value_cell(l, ch / hd, q_end_ + t);
                const int in_block = (ch % value_block_) / value_group_;
                kv_quantize_run(row.data() + ch, value_group_, 1, bits_,
                                value_codes_.data() + cell * value_row_ + in_block * run,
                                value_params_.data() + cell * value_stride_ + 2 * in_block);
            }
        }
        for (int h = 0; h < shape_.n_head_kv; ++h) {
            for (auto* w : {&window_k_[head_index(l, h)], &window_v_[head_index(l, h)]}) {
                w->erase(w->begin(), w->begin() + static_cast<std::ptrdiff_t>(kKvKeyGroup) * hd);
            }
        }
    }
    q_end_ += kKvKeyGroup;
}

void KiviKvCache::read(int layer, int kv_head, int cell, float* k, float* v) const {
    const int hd = shape_.head_dim;
    if (cell >= q_end_) {
        const std::size_t row = static_cast<std::size_t>(cell - q_end_) * hd;
        for (int d = 0; d < hd; ++d) {
            k[d] = f16_to_f32(window_k_[head_index(layer, kv_head)][row + d]);
            v[d] = f16_to_f32(window_v_[head_index(layer, kv_head)][row + d]);
        }
        return;
    }
    const int g = cell / kKvKeyGroup;
    const std::size_t base = (head_index(layer, kv_head) * n_key_groups_ + g) * hd;
    const std::uint8_t* codes = key_codes_.data() + base * key_run_;
    const std::uint16_t* p = key_params_.data() + base * 2;
    for (int d = 0; d < hd; ++d) {
        k[d] = f16_to_f32(p[hd + d]) +
               f16_to_f32(p[d]) * static_cast<float>(kv_key_code(codes, bits_, static_cast<std::size_t>(d),
                                                                 static_cast<std::size_t>(cell % kKvKeyGroup)));
    }
    const std::size_t c = value_cell(layer, kv_head, cell);
    std::fill(v, v + hd, 0.0f);
    const float one = 1.0f;
    scalar::accumulate_values(&one, 1, 1, 1, value_codes_.data() + c * value_row_, value_row_,
                              value_params_.data() + c * value_stride_, value_stride_, bits_, value_group_,
                              value_ch0(kv_head), hd, v, hd);
}

void KiviKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                         float* max, float* sum, float* scratch) const {
    attend_overriding(nullptr, layer, kv_head, q, n_q, begin, end, scale, out, max, sum, scratch);
}

void KiviKvCache::attend_overriding(const KiviCellOverride* cells, int layer, int kv_head, const float* q, int n_q,
                                    int begin, int end, float scale, float* out, float* max, float* sum, float* scratch,
                                    bool values) const {
    const KvKernels& kern = kv_kernels(isa_);
    const auto hd = static_cast<std::size_t>(shape_.head_dim);
    const auto n = static_cast<std::size_t>(end - begin);
    const int qe = std::min(end, q_end_);  // quantized cells [begin, qe)
    const std::size_t hi = head_index(layer, kv_head);
    const auto& wk = window_k_[hi];
    const auto& wv = window_v_[hi];
    const int w0 = std::max(begin, q_end_);  // window cells [w0, end)
    // Scores: scratch[i · n + (c − begin)].
    for (int g = begin / kKvKeyGroup; g * kKvKeyGroup < qe; ++g) {
        const std::size_t base = (hi * n_key_groups_ + g) * hd;
        const int c0 = g * kKvKeyGroup;
        const int lo = std::max(begin, c0), up = std::min(qe, c0 + kKvKeyGroup);
        if (lo == c0 && up == c0 + kKvKeyGroup) {
            kern.key_group_scores(q, n_q, hd, key_codes_.data() + base * key_run_, key_params_.data() + base * 2, bits_,
                                  hd, scale, scratch + (c0 - begin), n);
        } else {
            float tmp[4 * kKvKeyGroup];
            for (int i0 = 0; i0 < n_q; i0 += 4) {
                const int nq = std::min(4, n_q - i0);
                kern.key_group_scores(q + i0 * hd, nq, hd, key_codes_.data() + base * key_run_,
                                      key_params_.data() + base * 2, bits_, hd, scale, tmp, kKvKeyGroup);
                for (int i = 0; i < nq; ++i) {
                    std::copy(tmp + i * kKvKeyGroup + (lo - c0), tmp + i * kKvKeyGroup + (up - c0),
                              scratch + (i0 + i) * n + (lo - begin));
                }
            }
        }
    }
    if (cells != nullptr && begin < qe) cells->override_scores(layer, kv_head, q, n_q, begin, qe, scale, scratch, n);
    for (int i = 0; i < n_q; ++i) {
        float* s = scratch + i * n;
        if (w0 < end) {
            kern.dot_rows_f16(q + i * hd, wk.data() + static_cast<std::size_t>(w0 - q_end_) * hd,
                              static_cast<std::size_t>(end - w0), hd, scale, s + (w0 - begin));
        }
        max[i] = *std::max_element(s, s + n);
        sum[i] = exp_shifted_f32(s, n, max[i]);
        if (values) std::fill(out + i * hd, out + (i + 1) * hd, 0.0f);
    }
    if (!values) return;
    if (cells != nullptr && begin < qe) cells->override_values(layer, kv_head, n_q, begin, qe, scratch, n, out);
    if (begin < qe) {
        const std::size_t c = value_cell(layer, kv_head, begin);
        kern.accumulate_values(scratch, n, n_q, static_cast<std::size_t>(qe - begin),
                               value_codes_.data() + c * value_row_, value_row_,
                               value_params_.data() + c * value_stride_, value_stride_, bits_, value_group_,
                               value_ch0(kv_head), hd, out, hd);
    }
    if (w0 < end) {
        for (int i = 0; i < n_q; ++i) {
            kern.accumulate_rows_f16(scratch + i * n + (w0 - begin),
                                     wv.data() + static_cast<std::size_t>(w0 - q_end_) * hd,
                                     static_cast<std::size_t>(end - w0), hd, out + i * hd);
        }
    }
}

void KiviKvCache::truncate(int n) {
    n = std::max(0, n);
    if (n >= size_) return;
    const int hd = shape_.head_dim;
    if (n < q_end_) {
        // Decode the kept part of the group that n cuts back into the f16 window.
        const int g0 = n / kKvKeyGroup * kKvKeyGroup;
        std::vector<float> k(static_cast<std::size_t>(hd)), v(static_cast<std::size_t>(hd));
        for (int l = 0; l < shape_.n_layer; ++l) {
            for (int h = 0; h < shape_.n_head_kv; ++h) {
                std::vector<std::uint16_t> nk, nv;
                for (int c = g0; c < n; ++c) {
                    read(l, h, c, k.data(), v.data());
                    for (int d = 0; d < hd; ++d) {
                        nk.push_back(f32_to_f16(k[d]));
                        nv.push_back(f32_to_f16(v[d]));
                    }
                }
                window_k_[head_index(l, h)].assign(nk.begin(), nk.end());
                window_v_[head_index(l, h)].assign(nv.begin(), nv.end());
            }
        }
        q_end_ = g0;
    } else {
        for (int l = 0; l < shape_.n_layer; ++l) {
            for (int h = 0; h < shape_.n_head_kv; ++h) {
                window_k_[head_index(l, h)].resize(static_cast<std::size_t>(n - q_end_) * hd);
                window_v_[head_index(l, h)].resize(static_cast<std::size_t>(n - q_end_) * hd);
            }
        }
    }
    size_ = n;
}

void KiviKvCache::discard(int first, int count, const Rope& rope) {
    assert(first >= 0 && count >= 0 && first + count <= size_);
    if (count == 0) return;
    const int hd = shape_.head_dim;
    const int old_size = size_;
    const int moved = old_size - first - count;
    // Decode the cells that move, forget everything from `first`, and store them again re-rotated.
    const std::size_t row = static_cast<std::size_t>(kv_dim_);
    std::vector<float> ks(static_cast<std::size_t>(shape_.n_layer) * moved * row);
    std::vector<float> vs(ks.size());
    for (int l = 0; l < shape_.n_layer; ++l) {
        for (int c = 0; c < moved; ++c) {
            float* k = ks.data() + (static_cast<std::size_t>(l) * moved + c) * row;
            float* v = vs.data() + (static_cast<std::size_t>(l) * moved + c) * row;
            for (int h = 0; h < shape_.n_head_kv; ++h) read(l, h, first + count + c, k + h * hd, v + h * hd);
        }
    }
    truncate(first);
    std::vector<float> cos_sin(static_cast<std::size_t>(rope.n_rot()));
    rope.angles(-static_cast<double>(count), cos_sin.data());
    for (int l = 0; l < shape_.n_layer; ++l) {
        for (int c = 0; c < moved; ++c) {
            float* k = ks.data() + (static_cast<std::size_t>(l) * moved + c) * row;
            rope.rotate(k, shape_.n_head_kv, cos_sin.data());
            store(l, first + c, k, vs.data() + (static_cast<std::size_t>(l) * moved + c) * row);
        }
    }
    commit(first + moved);
}

namespace {

template <typename T>
void append_run(std::string& out, const T* data, std::size_t count) {
    out.append(reinterpret_cast<const char*>(data), count * sizeof(T));
}

// Copies count elements from the front of `in` and advances it. REQUIRES: in holds them.
template <typename T>
void take_run(std::string_view& in, T* data, std::size_t count) {
    std::memcpy(data, in.data(), count * sizeof(T));
    in.remove_prefix(count * sizeof(T));
}

}  // namespace

Status KiviKvCache::save_state(std::string& out) const {
    const std::int32_t q_end = q_end_;
    append_run(out, &q_end, 1);
    const std::size_t hd = static_cast<std::size_t>(shape_.head_dim);
    const std::size_t groups = static_cast<std::size_t>(q_end_ / kKvKeyGroup);
    const std::size_t heads = static_cast<std::size_t>(shape_.n_layer) * shape_.n_head_kv;
    const std::size_t blocks = static_cast<std::size_t>(shape_.n_layer) * (kv_dim_ / value_block_);
    const std::size_t block_cells = static_cast<std::size_t>(n_key_groups_) * kKvKeyGroup;
    const std::size_t window = static_cast<std::size_t>(size_ - q_end_) * hd;
    for (std::size_t i = 0; i < heads; ++i) {
        const std::size_t base = i * n_key_groups_ * hd;
        append_run(out, key_codes_.data() + base * key_run_, groups * hd * key_run_);
        append_run(out, key_params_.data() + base * 2, groups * hd * 2);
    }
    for (std::size_t b = 0; b < blocks; ++b) {
        append_run(out, value_codes_.data() + b * block_cells * value_row_,
                   static_cast<std::size_t>(q_end_) * value_row_);
        append_run(out, value_params_.data() + b * block_cells * value_stride_,
                   static_cast<std::size_t>(q_end_) * value_stride_);
    }
    for (std::size_t i = 0; i < heads; ++i) {
        if (window_k_[i].size() < window) return Status::internal("KIVI window shorter than its cells");
        append_run(out, window_k_[i].data(), window);
        append_run(out, window_v_[i].data(), window);
    }
    return Status::ok();
}

Status KiviKvCache::load_state(std::string_view bytes, int n) {
    size_ = 0;
    q_end_ = 0;
    for (std::size_t i = 0; i < window_k_.size(); ++i) {
        window_k_[i].clear();
        window_v_[i].clear();
    }
    if (n < 0 || n > shape_.capacity) {
        return Status::invalid_argument(fmt::format("{} cells do not fit in a cache of {}", n, shape_.capacity));
    }
    std::int32_t q_end = 0;
    if (bytes.size() >= sizeof(q_end)) std::memcpy(&q_end, bytes.data(), sizeof(q_end));
    if (bytes.size() < sizeof(q_end) || q_end < 0 || q_end > n || q_end % kKvKeyGroup != 0 ||
        q_end / kKvKeyGroup > n_key_groups_) {
        return Status::invalid_argument(fmt::format("{} state: bad quantized cell count for {} cells", name(), n));
    }
    const std::size_t hd = static_cast<std::size_t>(shape_.head_dim);
    const std::size_t groups = static_cast<std::size_t>(q_end / kKvKeyGroup);
    const std::size_t heads = static_cast<std::size_t>(shape_.n_layer) * shape_.n_head_kv;
    const std::size_t blocks = static_cast<std::size_t>(shape_.n_layer) * (kv_dim_ / value_block_);
    const std::size_t block_cells = static_cast<std::size_t>(n_key_groups_) * kKvKeyGroup;
    const std::size_t window = static_cast<std::size_t>(n - q_end) * hd;
    const std::size_t want =
        sizeof(q_end) + heads * groups * hd * (key_run_ + 2 * sizeof(std::uint16_t)) +
        blocks * static_cast<std::size_t>(q_end) * (value_row_ + value_stride_ * sizeof(std::uint16_t)) +
        heads * window * 2 * sizeof(std::uint16_t);
    if (bytes.size() != want) {
        return Status::invalid_argument(
            fmt::format("{} bytes of {} state; {} cells take {}", bytes.size(), name(), n, want));
    }
    bytes.remove_prefix(sizeof(q_end));
    for (std::size_t i = 0; i < heads; ++i) {
        const std::size_t base = i * n_key_groups_ * hd;
        take_run(bytes, key_codes_.data() + base * key_run_, groups * hd * key_run_);
        take_run(bytes, key_params_.data() + base * 2, groups * hd * 2);
    }
    for (std::size_t b = 0; b < blocks; ++b) {
        take_run(bytes, value_codes_.data() + b * block_cells * value_row_,
                 static_cast<std::size_t>(q_end) * value_row_);
        take_run(bytes, value_params_.data() + b * block_cells * value_stride_,
                 static_cast<std::size_t>(q_end) * value_stride_);
    }
    for (std::size_t i = 0; i < heads; ++i) {
        window_k_[i].resize(window);
        window_v_[i].resize(window);
        take_run(bytes, window_k_[i].data(), window);
        take_run(bytes, window_v_[i].data(), window);
    }
    q_end_ = q_end;
    size_ = n;
    return Status::ok();
}

}  // namespace kasten::llm
