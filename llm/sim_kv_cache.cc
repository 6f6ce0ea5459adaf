#include "llm/sim_kv_cache.h"

#include <cassert>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "llm/dot_kernels.h"
#include "llm/f16.h"

namespace kasten::llm {
namespace {

// Gaussian Lloyd-Max levels (positive half), unit variance.
const std::vector<float>& lloyd(int bits) {
    static const std::vector<float> l1 = {0.7979f};
    static const std::vector<float> l2 = {0.4528f, 1.5104f};
    static const std::vector<float> l3 = {0.2451f, 0.7560f, 1.3440f, 2.1520f};
    static const std::vector<float> l4 = {0.1284f, 0.3881f, 0.6568f, 0.9424f, 1.2562f, 1.6180f, 2.0690f, 2.7326f};
    return bits == 1 ? l1 : bits == 2 ? l2 : bits == 3 ? l3 : l4;
}

float round_scale(float s, int sbits) {
    if (sbits >= 16 || s <= 0) return s;
    // e?m3 float rounded up: mantissa 3 bits
    int e = 0;
    const float m = std::frexp(s, &e);  // s = m * 2^e, m in [0.5, 1)
    const float mm = std::ceil(m * 16.0f) / 16.0f;
    return std::ldexp(mm, e);
}

float f16r(float x) {
    return f16_to_f32(f32_to_f16(x));
}

// Quantizes and dequantizes x[i * stride], i < n, in place; returns nothing.
void quant_group(float* x, int n, int stride, int bits, bool sym, int sbits, bool nuq, bool clip) {
    std::vector<float> v(static_cast<std::size_t>(n)), best(static_cast<std::size_t>(n)),
        cur(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) v[i] = x[i * stride];
    double best_err = 1e300;
    const std::vector<float> ratios =
        clip ? std::vector<float>{1.0f, 0.95f, 0.9f, 0.85f, 0.8f, 0.75f, 0.7f, 0.65f, 0.6f} : std::vector<float>{1.0f};
    for (float r : ratios) {
        if (nuq) {
            const auto& L = lloyd(bits);
            double ss = 0;
            float amax = 0;
            for (float a : v) ss += a * a, amax = std::max(amax, std::fabs(a));
            // scale so the largest level is at amax*r (clip search) -- rms-based would clip outliers
            float s = amax * r / L.back();
            s = sbits >= 16 ? f16r(s) : round_scale(s, sbits);
            for (int i = 0; i < n; ++i) {
                if (s <= 0) {
                    cur[i] = 0;
                    continue;
                }
                const float a = std::fabs(v[i]) / s;
                float bl = L[0];
                for (float l : L)
                    if (std::fabs(l - a) < std::fabs(bl - a)) bl = l;
                cur[i] = std::copysign(bl * s, v[i]);
            }
        } else if (sym) {
            float amax = 0;
            for (float a : v) amax = std::max(amax, std::fabs(a));
            const float half = ((1 << bits) - 1) / 2.0f;
            float s = amax * r / half;
            s = sbits >= 16 ? f16r(s) : round_scale(s, sbits);
            for (int i = 0; i < n; ++i) {
                if (s <= 0) {
                    cur[i] = 0;
                    continue;
                }
                float c = std::round(v[i] / s + half);
                c = std::clamp(c, 0.0f, 2 * half);
                cur[i] = (c - half) * s;
            }
        } else {
            float mn = v[0], mx = v[0];
            for (float a : v) mn = std::min(mn, a), mx = std::max(mx, a);
            const float mid = (mn + mx) / 2, hw = (mx - mn) / 2 * r;
            const float lo = f16r(mid - hw);
            const float s = f16r(2 * hw / ((1 << bits) - 1));
            for (int i = 0; i < n; ++i) {
                if (s <= 0) {
                    cur[i] = lo;
                    continue;
                }
                float c = std::round((v[i] - lo) / s);
                c = std::clamp(c, 0.0f, static_cast<float>((1 << bits) - 1));
                cur[i] = lo + c * s;
            }
        }
        double err = 0;
        for (int i = 0; i < n; ++i) err += (cur[i] - v[i]) * (cur[i] - v[i]);
        if (err < best_err) best_err = err, best = cur;
    }
    for (int i = 0; i < n; ++i) x[i * stride] = best[i];
}

void fwht(float* x, int n) {
    for (int len = 1; len < n; len <<= 1) {
        for (int i = 0; i < n; i += 2 * len) {
            for (int j = i; j < i + len; ++j) {
                const float a = x[j], b = x[j + len];
                x[j] = a + b;
                x[j + len] = a - b;
            }
        }
    }
    const float s = 1.0f / std::sqrt(static_cast<float>(n));
    for (int i = 0; i < n; ++i) x[i] *= s;
}

float sign_of(int i) {
    static const unsigned kBits = 0x9b3c5a71u;  // fixed random signs
    return ((kBits >> (i % 32)) & 1u) ? -1.0f : 1.0f;
}
void rotate(float* x, int n) {
    for (int i = 0; i < n; ++i) x[i] *= sign_of(i);
    fwht(x, n);
}
void unrotate(float* x, int n) {
    fwht(x, n);
    for (int i = 0; i < n; ++i) x[i] *= sign_of(i);
}

}  // namespace

Result<SimKvSpec> parse_sim_spec(const std::string& text) {
    SimKvSpec s;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto eq = item.find('=');
        if (eq == std::string::npos) return Status::invalid_argument("sim spec: " + item);
        const std::string k = item.substr(0, eq);
        int v = 0;
        const std::string value = item.substr(eq + 1);
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc{} || end != value.data() + value.size()) {
            return Status::invalid_argument("sim spec: not an integer: " + item);
        }
        if (k == "k")
            s.kbits = v;
        else if (k == "v")
            s.vbits = v;
        else if (k == "kchan")
            s.k_chan = v != 0;
        else if (k == "kg")
            s.kgroup = v;
        else if (k == "vg")
            s.vgroup = v;
        else if (k == "rot")
            s.rot = v != 0;
        else if (k == "sym")
            s.sym = v != 0;
        else if (k == "sb")
            s.sbits = v;
        else if (k == "nuq")
            s.nuq = v != 0;
        else if (k == "clip")
            s.clip = v != 0;
        else if (k == "sinks")
            s.sinks = v;
        else if (k == "win")
            s.window = v;
        else if (k == "center")
            s.center = v;
        else if (k == "kscale")
            s.kscale = v != 0;
        else if (k == "vchan")
            s.v_chan = v != 0;
        else if (k == "vrot")
            s.vrot = v != 0;
        else if (k == "causal")
            s.causal = v;
        else if (k == "margin")
            s.margin = v;
        else if (k == "cnuq")
            s.cnuq = v != 0;
        else if (k == "sparse")
            s.sparse = v != 0;
        else if (k == "prerope")
            s.prerope = v != 0;
        else if (k == "knuq")
            s.knuq = v != 0;
        else if (k == "vq")
            s.vq = v != 0;
        else if (k == "kc")
            s.vq_kc = v;
        else if (k == "vc")
            s.vq_vc = v;
        else if (k == "kb")
            s.vq_kb = v;
        else if (k == "vb")
            s.vq_vb = v;
        else if (k == "kb2")
            s.vq_kb2 = v;
        else if (k == "vb2")
            s.vq_vb2 = v;
        else if (k == "cb")
            s.vq_share = v;
        else if (k == "norm")
            s.vq_norm = v != 0;
        else if (k == "qw")
            s.vq_qw = v != 0;
        else if (k == "tw")
            s.vq_tw = v != 0;
        else if (k == "out")
            s.vq_out = v;
        else if (k == "cs")
            s.vq_seed = v;
        else if (k == "calib")
            s.vq_calib = v;
        else if (k == "iters")
            s.vq_iters = v;
        else
            return Status::invalid_argument("sim spec key: " + k);
    }
    // Ranges the simulation supports (a spec is user input: nothing outside them may loop, index out of bounds or
    // shift past an int).
    auto bad = [&](const char* what) {
        return Status::invalid_argument(std::string("sim spec: ") + what + ": " + text);
    };
    constexpr int kMaxCells = 1 << 20;
    const bool gaussian = s.nuq || s.knuq || s.cnuq;
    if (s.kbits < 1 || s.kbits > 8 || s.vbits < 1 || s.vbits > 8) return bad("k and v are 1..8 bits");
    if (gaussian && (s.kbits > 4 || s.vbits > 4)) return bad("Gaussian levels (nuq, knuq, cnuq) exist for 1..4 bits");
    if (s.sbits < 2 || s.sbits > 16) return bad("sb is 2..16");
    if (s.k_chan && (s.kgroup < 1 || s.kgroup > 4096)) return bad("with kchan=1, kg is 1..4096 tokens");
    if (!s.k_chan && (s.kgroup < -1 || s.kgroup > 4096)) return bad("kg is -1, 0 or 1..4096 channels");
    if (s.vgroup < -1 || s.vgroup > 4096) return bad("vg is -1, 0 or 1..4096 channels");
    if ((s.v_chan || (s.prerope && !s.vq) || s.knuq) && !s.k_chan) {
        return bad("vchan, prerope (without vq) and knuq need kchan=1");
    }
    if (s.vq && (s.k_chan || s.causal > 0)) return bad("vq excludes kchan and causal");
    if (s.vq_kc < 1 || s.vq_kc > 8 || s.vq_vc < 1 || s.vq_vc > 8) return bad("kc and vc are 1..8 channels");
    if (s.vq_kb < 0 || s.vq_kb > 14 || s.vq_vb < 0 || s.vq_vb > 14 || s.vq_kb2 < 0 || s.vq_kb2 > 14 || s.vq_vb2 < 0 ||
        s.vq_vb2 > 14) {
        return bad("kb, vb, kb2 and vb2 are 0..14 bits");
    }
    if (s.vq_share < 0 || s.vq_share > 3) return bad("cb is 0 (layer), 1 (head), 2 (channel group) or 3 (one)");
    if (s.vq_out < 0 || s.vq_out > 500) return bad("out is 0..500 per mille");
    if (s.vq_seed < 1 || s.vq_seed > 1000000) return bad("cs is 1..1000000");
    if (s.vq_calib < 1 || s.vq_calib > 256 || s.vq_iters < 1 || s.vq_iters > 1000) {
        return bad("calib is 1..256 texts, iters 1..1000");
    }
    if (s.causal < 0 || s.causal > 4096) return bad("causal is 0..4096 tokens");
    if ((s.cnuq || s.sparse) && s.causal == 0) return bad("cnuq and sparse need causal > 0");
    if (s.margin < 1 || s.margin > 1000) return bad("margin is 1..1000 percent");
    if (s.sinks < 0 || s.sinks > kMaxCells || s.window < 0 || s.window > kMaxCells || s.center < 0 ||
        s.center > kMaxCells) {
        return bad("sinks, win and center are 0..1048576 cells");
    }
    return s;
}

Status check_sim_spec(const SimKvSpec& spec, const KvCacheShape& shape) {
    const int hd = shape.head_dim;
    const int kv_dim = hd * shape.n_head_kv;
    auto width = [&](int group) { return group == 0 ? hd : group < 0 ? kv_dim : group; };
    auto divides = [&](int group) { return kv_dim % width(group) == 0; };
    if (!spec.k_chan && spec.causal == 0 && !divides(spec.kgroup)) {
        return Status::invalid_argument("sim spec: key groups of " + std::to_string(width(spec.kgroup)) +
                                        " channels do not divide the " + std::to_string(kv_dim) + " key channels");
    }
    if (!spec.v_chan && spec.causal == 0 && !divides(spec.vgroup)) {
        return Status::invalid_argument("sim spec: value groups of " + std::to_string(width(spec.vgroup)) +
                                        " channels do not divide the " + std::to_string(kv_dim) + " value channels");
    }
    if (spec.vq && (hd % spec.vq_kc != 0 || hd % spec.vq_vc != 0 || hd > 64)) {
        return Status::invalid_argument("sim spec: kc and vc must divide head_dim (at most 64), " + std::to_string(hd));
    }
    if ((spec.rot || spec.vrot) && (hd & (hd - 1)) != 0) {
        return Status::invalid_argument("sim spec: rot and vrot need a power-of-two head_dim, not " +
                                        std::to_string(hd));
    }
    return Status::ok();
}

SimKvCache::~SimKvCache() {
    if (n_all_ > 0)
        fmt::print(stderr, "sim {}: {:.4f} of {} values out of range\n", name_, double(n_out_) / n_all_, n_all_);
}

SimKvCache::SimKvCache(const KvCacheShape& shape, const SimKvSpec& spec, std::string name,
                       std::shared_ptr<const Rope> rope, std::shared_ptr<const VqCodebooks> codebooks)
    : rope_(std::move(rope)), codebooks_(std::move(codebooks)), spec_(spec), name_(std::move(name)), rows_(shape) {
    assert(check_sim_spec(spec, shape).is_ok() && (!spec.prerope || rope_ != nullptr));
    assert(!spec.vq || codebooks_ != nullptr);
}

void SimKvCache::quantize_vq(int c) {
    const KvCacheShape& s = rows_.shape();
    for (int l = 0; l < s.n_layer; ++l) {
        for (int h = 0; h < s.n_head_kv; ++h) {
            float* k = rows_.key(l, h, c);
            if (spec_.prerope) rope_->apply(k, 1, -static_cast<double>(c));
            n_out_ += vq_code(*codebooks_, 0, l, h, k);
            n_all_ += s.head_dim;
            if (spec_.prerope) rope_->apply(k, 1, static_cast<double>(c));
            n_out_ += vq_code(*codebooks_, 1, l, h, rows_.value(l, h, c));
            n_all_ += s.head_dim;
        }
    }
}

void SimKvCache::store(int layer, int cell, const float* k, const float* v) {
    const KvCacheShape& s = rows_.shape();
    const std::size_t hd = static_cast<std::size_t>(s.head_dim);
    for (int h = 0; h < s.n_head_kv; ++h) {
        std::memcpy(rows_.key(layer, h, cell), k + h * hd, hd * sizeof(float));
        std::memcpy(rows_.value(layer, h, cell), v + h * hd, hd * sizeof(float));
    }
}

void SimKvCache::commit(int n) {
    const KvCacheShape& s = rows_.shape();
    const int hd = s.head_dim;
    rows_.commit(n);
    if (spec_.center > 0 && !calibrated_) {
        if (n < spec_.center) return;
        mean_.assign(static_cast<std::size_t>(s.n_layer) * s.n_head_kv * hd, 0.0f);
        rms_.assign(mean_.size(), 1.0f);
        for (int l = 0; l < s.n_layer; ++l) {
            for (int h = 0; h < s.n_head_kv; ++h) {
                float* m = mean_.data() + (static_cast<std::size_t>(l) * s.n_head_kv + h) * hd;
                float* r = rms_.data() + (static_cast<std::size_t>(l) * s.n_head_kv + h) * hd;
                for (int d = 0; d < hd; ++d) {
                    double a = 0, b = 0;
                    for (int c = 0; c < spec_.center; ++c) a += rows_.key(l, h, c)[d];
                    a /= spec_.center;
                    for (int c = 0; c < spec_.center; ++c) {
                        const double x = rows_.key(l, h, c)[d] - a;
                        b += x * x;
                    }
                    m[d] = static_cast<float>(a);
                    r[d] = spec_.kscale ? static_cast<float>(std::sqrt(b / spec_.center) + 1e-3) : 1.0f;
                }
            }
        }
        calibrated_ = true;
    }
    if (spec_.vq) {
        q_end_ = std::max(q_end_, spec_.sinks);
        for (; q_end_ < n - spec_.window; ++q_end_) quantize_vq(q_end_);
        return;
    }
    if (spec_.causal > 0) {
        for (int c = q_end_; c < n; ++c) quantize_causal(c);
        q_end_ = n;
        return;
    }
    q_end_ = std::max(q_end_, spec_.sinks);
    if (spec_.k_chan) {
        while (q_end_ + spec_.kgroup + spec_.window <= n) {
            quantize_key_group(q_end_, q_end_ + spec_.kgroup);
            if (!spec_.v_chan) {
                for (int c = q_end_; c < q_end_ + spec_.kgroup; ++c) quantize_values(c);
            }
            q_end_ += spec_.kgroup;
        }
    } else {
        if (n - spec_.window > q_end_) {
            quantize_tokens(q_end_, n - spec_.window);
            q_end_ = n - spec_.window;
        }
    }
}

void SimKvCache::quantize_causal(int c) {
    const KvCacheShape& s = rows_.shape();
    const int hd = s.head_dim;
    const std::size_t n = static_cast<std::size_t>(s.n_layer) * s.n_head_kv * 2 * hd;
    if (cur_lo_.empty()) {
        cur_lo_.assign(n, 1e30f);
        cur_hi_.assign(n, -1e30f);
        cur_s1_.assign(n, 0);
        cur_s2_.assign(n, 0);
    }
    const int block_start = c < spec_.sinks ? -1 : (c - spec_.sinks) % spec_.causal;
    if (block_start == 0 || (c == 0 && spec_.sinks == 0)) {  // new block: params from the finished one
        lo_ = cur_lo_;
        hi_ = cur_hi_;
        mu_.resize(n);
        sd_.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            mu_[i] = cur_n_ > 0 ? cur_s1_[i] / cur_n_ : 0.0;
            sd_[i] = cur_n_ > 0 ? std::sqrt(std::max(0.0, cur_s2_[i] / cur_n_ - mu_[i] * mu_[i])) : 0.0;
        }
        std::fill(cur_lo_.begin(), cur_lo_.end(), 1e30f);
        std::fill(cur_hi_.begin(), cur_hi_.end(), -1e30f);
        std::fill(cur_s1_.begin(), cur_s1_.end(), 0.0);
        std::fill(cur_s2_.begin(), cur_s2_.end(), 0.0);
        cur_n_ = 0;
    }
    ++cur_n_;
    for (int l = 0; l < s.n_layer; ++l) {
        for (int h = 0; h < s.n_head_kv; ++h) {
            for (int kv = 0; kv < 2; ++kv) {
                float* x = kv == 0 ? rows_.key(l, h, c) : rows_.value(l, h, c);
                const int bits = kv == 0 ? spec_.kbits : spec_.vbits;
                const std::size_t base = ((static_cast<std::size_t>(l) * s.n_head_kv + h) * 2 + kv) * hd;
                for (int d = 0; d < hd; ++d) {
                    const std::size_t i = base + d;
                    const float orig = x[d];
                    cur_lo_[i] = std::min(cur_lo_[i], orig);
                    cur_hi_[i] = std::max(cur_hi_[i], orig);
                    cur_s1_[i] += orig;
                    cur_s2_[i] += static_cast<double>(orig) * orig;
                    if (block_start < 0 || lo_.empty() || lo_[i] > hi_[i]) continue;  // sinks (or no history): exact
                    if (spec_.cnuq) {
                        const auto& L = lloyd(bits);
                        const float sd = f16r(static_cast<float>(sd_[i]) * spec_.margin / 100.0f);
                        const float mu = f16r(static_cast<float>(mu_[i]));
                        if (sd <= 0) {
                            x[d] = mu;
                            continue;
                        }
                        const float a = std::fabs(orig - mu) / sd;
                        float bl = L[0];
                        for (float lv : L)
                            if (std::fabs(lv - a) < std::fabs(bl - a)) bl = lv;
                        x[d] = mu + std::copysign(bl * sd, orig - mu);
                        continue;
                    }
                    const float mid = (lo_[i] + hi_[i]) / 2, hw = (hi_[i] - lo_[i]) / 2 * spec_.margin / 100.0f;
                    const float lo = f16r(mid - hw);
                    const float sc = f16r(2 * hw / ((1 << bits) - 1));
                    if (sc <= 0) {
                        x[d] = lo;
                        continue;
                    }
                    ++n_all_;
                    if (orig < lo - sc / 2 || orig > lo + sc * ((1 << bits) - 0.5f)) {
                        ++n_out_;
                        if (spec_.sparse) continue;
                    }
                    const float code =
                        std::clamp(std::round((orig - lo) / sc), 0.0f, static_cast<float>((1 << bits) - 1));
                    x[d] = lo + code * sc;
                }
            }
        }
    }
}

void SimKvCache::quantize_values(int c) {
    const KvCacheShape& s = rows_.shape();
    const int hd = s.head_dim;
    for (int l = 0; l < s.n_layer; ++l) {
        std::vector<float> row(static_cast<std::size_t>(s.n_head_kv) * hd);
        for (int h = 0; h < s.n_head_kv; ++h) {
            std::memcpy(row.data() + h * hd, rows_.value(l, h, c), hd * sizeof(float));
            if (spec_.rot || spec_.vrot) rotate(row.data() + h * hd, hd);
        }
        const int g = spec_.vgroup == 0 ? hd : spec_.vgroup < 0 ? hd * s.n_head_kv : spec_.vgroup;
        for (int i = 0; i < hd * s.n_head_kv; i += g) {
            quant_group(row.data() + i, g, 1, spec_.vbits, spec_.sym, spec_.sbits, spec_.nuq, spec_.clip);
        }
        for (int h = 0; h < s.n_head_kv; ++h) {
            if (spec_.rot || spec_.vrot) unrotate(row.data() + h * hd, hd);
            std::memcpy(rows_.value(l, h, c), row.data() + h * hd, hd * sizeof(float));
        }
    }
}

void SimKvCache::quantize_tokens(int c0, int c1) {
    const KvCacheShape& s = rows_.shape();
    const int hd = s.head_dim;
    for (int c = c0; c < c1; ++c) {
        quantize_values(c);
        for (int l = 0; l < s.n_layer; ++l) {
            std::vector<float> row(static_cast<std::size_t>(s.n_head_kv) * hd);
            for (int h = 0; h < s.n_head_kv; ++h) {
                float* x = row.data() + h * hd;
                std::memcpy(x, rows_.key(l, h, c), hd * sizeof(float));
                if (calibrated_) {
                    const float* m = mean_.data() + (static_cast<std::size_t>(l) * s.n_head_kv + h) * hd;
                    const float* r = rms_.data() + (static_cast<std::size_t>(l) * s.n_head_kv + h) * hd;
                    for (int d = 0; d < hd; ++d) x[d] = (x[d] - m[d]) / r[d];
                }
                if (spec_.rot) rotate(x, hd);
            }
            const int g = spec_.kgroup == 0 ? hd : spec_.kgroup < 0 ? hd * s.n_head_kv : spec_.kgroup;
            for (int i = 0; i < hd * s.n_head_kv; i += g) {
                quant_group(row.data() + i, g, 1, spec_.kbits, spec_.sym, spec_.sbits, spec_.nuq, spec_.clip);
            }
            for (int h = 0; h < s.n_head_kv; ++h) {
                float* x = row.data() + h * hd;
                if (spec_.rot) unrotate(x, hd);
                if (calibrated_) {
                    const float* m = mean_.data() + (static_cast<std::size_t>(l) * s.n_head_kv + h) * hd;
                    const float* r = rms_.data() + (static_cast<std::size_t>(l) * s.n_head_kv + h) * hd;
                    for (int d = 0; d < hd; ++d) x[d] = x[d] * r[d] + m[d];
                }
                std::memcpy(rows_.key(l, h, c), x, hd * sizeof(float));
            }
        }
    }
}

void SimKvCache::quantize_key_group(int c0, int c1) {
    const KvCacheShape& s = rows_.shape();
    const int hd = s.head_dim, n = c1 - c0;
    for (int l = 0; l < s.n_layer; ++l) {
        for (int h = 0; h < s.n_head_kv; ++h) {
            std::vector<float> g(static_cast<std::size_t>(n) * hd);
            for (int c = 0; c < n; ++c) {
                std::memcpy(g.data() + c * hd, rows_.key(l, h, c0 + c), hd * sizeof(float));
                if (spec_.prerope && rope_) rope_->apply(g.data() + c * hd, 1, -static_cast<double>(c0 + c));
                if (spec_.rot) rotate(g.data() + c * hd, hd);
            }
            for (int d = 0; d < hd; ++d) {
                if (!spec_.knuq) {
                    quant_group(g.data() + d, n, hd, spec_.kbits, false, 16, false, spec_.clip);
                    continue;
                }
                double s1 = 0, s2 = 0;
                for (int c = 0; c < n; ++c) s1 += g[c * hd + d], s2 += double(g[c * hd + d]) * g[c * hd + d];
                const float mu = f16r(float(s1 / n));
                const float sd = f16r(float(std::sqrt(std::max(0.0, s2 / n - (s1 / n) * (s1 / n)))));
                const auto& L = lloyd(spec_.kbits);
                for (int c = 0; c < n; ++c) {
                    float& x = g[c * hd + d];
                    if (sd <= 0) {
                        x = mu;
                        continue;
                    }
                    const float a = std::fabs(x - mu) / sd;
                    float bl = L[0];
                    for (float lv : L)
                        if (std::fabs(lv - a) < std::fabs(bl - a)) bl = lv;
                    x = mu + std::copysign(bl * sd, x - mu);
                }
            }
            for (int c = 0; c < n; ++c) {
                if (spec_.rot) unrotate(g.data() + c * hd, hd);
                if (spec_.prerope && rope_) rope_->apply(g.data() + c * hd, 1, static_cast<double>(c0 + c));
                std::memcpy(rows_.key(l, h, c0 + c), g.data() + c * hd, hd * sizeof(float));
            }
            if (spec_.v_chan) {
                for (int c = 0; c < n; ++c)
                    std::memcpy(g.data() + c * hd, rows_.value(l, h, c0 + c), hd * sizeof(float));
                for (int d = 0; d < hd; ++d)
                    quant_group(g.data() + d, n, hd, spec_.vbits, false, 16, false, spec_.clip);
                for (int c = 0; c < n; ++c)
                    std::memcpy(rows_.value(l, h, c0 + c), g.data() + c * hd, hd * sizeof(float));
            }
        }
    }
}

void SimKvCache::attend(int layer, int kv_head, const float* q, int n_q, int begin, int end, float scale, float* out,
                        float* max, float* sum, float* scratch) const {
    const auto hd = static_cast<std::size_t>(rows_.shape().head_dim);
    const int n = end - begin;
    const float* k = rows_.key(layer, kv_head, begin);
    const float* v = rows_.value(layer, kv_head, begin);
    for (int i = 0; i < n_q; ++i) {
        dot_rows_f32(q + i * hd, k, static_cast<std::size_t>(n), hd, scale, scratch + static_cast<std::size_t>(i) * n);
        float* s = scratch + static_cast<std::size_t>(i) * n;
        float m = s[0];
        for (int c = 1; c < n; ++c) m = std::max(m, s[c]);
        max[i] = m;
        sum[i] = exp_shifted_f32(s, static_cast<std::size_t>(n), m);
        std::memset(out + i * hd, 0, sizeof(float) * hd);
        accumulate_rows_f32(s, v, static_cast<std::size_t>(n), hd, out + i * hd);
    }
}

std::size_t SimKvCache::bytes() const {
    const KvCacheShape& s = rows_.shape();
    const int hd = s.head_dim, kvd = hd * s.n_head_kv;
    const auto meta = [&](int group) {
        const int g = group == 0 ? hd : group < 0 ? kvd : group;
        return static_cast<double>(kvd) / g * ((spec_.sym || spec_.nuq) ? spec_.sbits : 32);
    };
    if (spec_.vq) {
        const auto part = [&](int c, int b1, int b2) { return b1 == 0 ? kvd * 16.0 : double(kvd) / c * (b1 + b2); };
        const double b = part(spec_.vq_kc, spec_.vq_kb, spec_.vq_kb2) + part(spec_.vq_vc, spec_.vq_vb, spec_.vq_vb2) +
                         2.0 * kvd * spec_.vq_out / 1000.0 * 32;
        // Cells coded: all but the exact sinks and window (those as f16), plus the codebooks once.
        const int exact = std::min(s.capacity, spec_.sinks + spec_.window);
        return static_cast<std::size_t>(b / 8 * s.n_layer * (s.capacity - exact) + exact * 4.0 * kvd * s.n_layer +
                                        (codebooks_ ? static_cast<double>(codebooks_->bytes) : 0.0));
    }
    if (spec_.causal > 0) {
        const double b = kvd * (spec_.kbits + spec_.vbits) + 2 * kvd * 32.0 / spec_.causal;
        return static_cast<std::size_t>(b / 8 * s.n_layer * s.capacity + spec_.sinks * 4.0 * kvd * s.n_layer);
    }
    double bits = kvd * (spec_.kbits + spec_.vbits) + (spec_.v_chan ? kvd * 32.0 / spec_.kgroup : meta(spec_.vgroup));
    bits += spec_.k_chan ? kvd * 32.0 / spec_.kgroup : meta(spec_.kgroup);
    const double quant = bits / 8 * s.n_layer * s.capacity;
    const int exact = spec_.sinks + spec_.window + (spec_.k_chan ? spec_.kgroup : 0);
    const double f16_row = 4.0 * kvd * s.n_layer;
    return static_cast<std::size_t>(quant + exact * f16_row);
}

}  // namespace kasten::llm
