#include "llm/combined_embedder.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

#include <fmt/format.h>

namespace kasten::llm {
namespace {

bool all_zero(std::span<const float> v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; });
}

}  // namespace

CombinedEmbedder::CombinedEmbedder(std::shared_ptr<const Embedder> a, std::shared_ptr<const Embedder> b, double w)
    : a_(std::move(a)),
      b_(std::move(b)),
      w_(w),
      scale_a_(static_cast<float>(std::sqrt(w))),
      scale_b_(static_cast<float>(std::sqrt(1.0 - w))) {
    assert(a_ != nullptr && b_ != nullptr);
    assert(w > 0.0 && w < 1.0);
    id_ = fmt::format("combined-w{:.2f}-{}+{}", w_, a_->id(), b_->id());
}

void CombinedEmbedder::weigh(std::span<float> v) const {
    const auto da = static_cast<std::size_t>(a_->dim());
    const std::span<float> a = v.first(da);
    const std::span<float> b = v.subspan(da);
    const bool a_zero = all_zero(a);
    const bool b_zero = all_zero(b);
    if (a_zero || b_zero) return;  // one part alone keeps norm 1; none stays zeros
    for (float& x : a) x *= scale_a_;
    for (float& x : b) x *= scale_b_;
}

void CombinedEmbedder::embed(std::string_view text, std::span<float> out) const {
    const auto da = static_cast<std::size_t>(a_->dim());
    a_->embed(text, out.first(da));
    b_->embed(text, out.subspan(da, static_cast<std::size_t>(b_->dim())));
    weigh(out.first(da + static_cast<std::size_t>(b_->dim())));
}

void CombinedEmbedder::embed_batch(std::span<const std::string_view> texts, std::span<float> out) const {
    const auto da = static_cast<std::size_t>(a_->dim());
    const auto db = static_cast<std::size_t>(b_->dim());
    const std::size_t d = da + db;
    const std::size_t n = std::min(texts.size(), out.size() / d);
    std::vector<float> va(n * da);
    std::vector<float> vb(n * db);
    a_->embed_batch(texts.first(n), va);
    b_->embed_batch(texts.first(n), vb);
    for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(va.begin() + static_cast<std::ptrdiff_t>(i * da), da,
                    out.begin() + static_cast<std::ptrdiff_t>(i * d));
        std::copy_n(vb.begin() + static_cast<std::ptrdiff_t>(i * db), db,
                    out.begin() + static_cast<std::ptrdiff_t>(i * d + da));
        weigh(out.subspan(i * d, d));
    }
}

void CombinedEmbedder::accumulate(std::string_view text, std::span<float> sum) const {
    const auto da = static_cast<std::size_t>(a_->dim());
    a_->accumulate(text, sum.first(da));
    b_->accumulate(text, sum.subspan(da, static_cast<std::size_t>(b_->dim())));
}

void CombinedEmbedder::finish(std::span<const float> sum, std::span<float> out) const {
    const auto da = static_cast<std::size_t>(a_->dim());
    const auto db = static_cast<std::size_t>(b_->dim());
    a_->finish(sum.first(da), out.first(da));
    b_->finish(sum.subspan(da, db), out.subspan(da, db));
    weigh(out.first(da + db));
}

}  // namespace kasten::llm
