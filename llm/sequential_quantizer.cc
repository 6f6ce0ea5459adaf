#include "llm/sequential_quantizer.h"

#include <fmt/format.h>

#include "llm/calibration_forward.h"
#include "llm/dot_kernels.h"
#include "llm/gptq.h"
#include "llm/quantization.h"

namespace kasten::llm {

Result<WeightMatrix> QuantizedMatrix::view(const std::string& name, int rows, int cols, KernelIsa isa) const {
    TensorView t;
    t.name = name;
    t.type = type;
    t.dims = {static_cast<std::uint64_t>(cols), static_cast<std::uint64_t>(rows)};
    t.data = bytes.data();
    t.n_bytes = bytes.size();
    return WeightMatrix::from_tensor(t, isa);
}

Result<QuantizedMatrix> quantize_matrix(std::span<const float> w, std::size_t rows, std::size_t cols, TensorType type,
                                        std::span<const float> second_moment) {
    if (w.size() != rows * cols) return Status::invalid_argument("matrix size does not match its shape");
    QuantizedMatrix q{type, std::vector<std::uint8_t>(rows * row_bytes(type, cols))};
    if (!second_moment.empty() && (type == TensorType::kQ8_0 || type == TensorType::kQ4_0)) {
        KASTEN_RETURN_IF_ERROR(quantize_matrix_gptq(type, w.data(), rows, cols, second_moment, q.bytes.data()));
        return q;
    }
    const std::size_t stride = row_bytes(type, cols);
    for (std::size_t r = 0; r < rows; ++r) {
        KASTEN_RETURN_IF_ERROR(quantize_row(type, w.data() + r * cols, cols, q.bytes.data() + r * stride));
    }
    return q;
}

std::vector<float> matrix_to_float(const WeightMatrix& m) {
    const auto cols = static_cast<std::size_t>(m.cols());
    std::vector<float> w(static_cast<std::size_t>(m.rows()) * cols);
    for (int r = 0; r < m.rows(); ++r) m.row_to_float(r, w.data() + static_cast<std::size_t>(r) * cols);
    return w;
}

Result<std::map<std::string, QuantizedMatrix>> quantize_sequentially(const LlamaModel& model,
                                                                     const std::map<std::string, TensorType>& plan,
                                                                     std::span<const std::vector<int>> sequences,
                                                                     ThreadPool* pool) {
    std::int64_t total = 0;
    for (const std::vector<int>& s : sequences) {
        for (int t : s) {
            if (t < 0 || t >= model.config().n_vocab) {
                return Status::invalid_argument(fmt::format("calibration token {} is outside the vocabulary", t));
            }
        }
        total += static_cast<std::int64_t>(s.size());
    }
    if (total == 0) return Status::invalid_argument("no calibration tokens");
    const std::map<std::string, const WeightMatrix*> source = CalibrationForward::matrices(model);
    for (const auto& [name, type] : plan) {
        auto it = source.find(name);
        if (it == source.end()) return Status::invalid_argument(fmt::format("no matrix '{}' in the model", name));
        if (it->second->cols() % static_cast<int>(tensor_type_traits(type).block_size) != 0) {
            return Status::invalid_argument(fmt::format("'{}' (width {}) does not fill {} blocks", name,
                                                        it->second->cols(), tensor_type_name(type)));
        }
    }

    std::map<std::string, QuantizedMatrix> out;
    std::map<std::string, WeightMatrix> views;  // the quantized matrices as the decoder reads them
    CalibrationForward reference(model, pool);
    CalibrationForward quantized(model, pool);
    auto publish = [&](const std::string& name, QuantizedMatrix q) -> Status {
        const QuantizedMatrix& stored = out[name] = std::move(q);
        const WeightMatrix& like = *source.at(name);
        KASTEN_ASSIGN_OR_RETURN(WeightMatrix m, stored.view(name, like.rows(), like.cols(), model.isa()));
        quantized.substitute(name, &(views[name] = m));
        return Status::ok();
    };
    if (!model.tied_output() && plan.contains("token_embd.weight")) {
        const WeightMatrix& e = model.token_embedding();
        KASTEN_ASSIGN_OR_RETURN(QuantizedMatrix q,
                                quantize_matrix(matrix_to_float(e), static_cast<std::size_t>(e.rows()),
                                                static_cast<std::size_t>(e.cols()), plan.at("token_embd.weight"), {}));
        KASTEN_RETURN_IF_ERROR(publish("token_embd.weight", std::move(q)));
    }

    // Both models advance every calibration sequence block by block, in lockstep.
    std::vector<CalibrationForward::Sequence> ref_seqs, q_seqs;
    for (const std::vector<int>& s : sequences) {
        if (s.empty()) continue;
        ref_seqs.push_back(reference.start(s));
        q_seqs.push_back(quantized.start(s));
    }
    const double inv = 1.0 / static_cast<double>(total);
    // The reference model's input of every site of the current block, per sequence: the float model does not
    // change, so it runs each block once, recording both sites.
    std::map<std::string, std::vector<std::vector<float>>> ref_in;
    auto record = [&](std::size_t i) {
        return [&, i](std::span<const std::string> names, const float* in, int n, int w) {
            auto& per_seq = ref_in[names.front()];
            per_seq.resize(ref_seqs.size());
            per_seq[i].assign(in, in + static_cast<std::size_t>(n) * static_cast<std::size_t>(w));
            return true;
        };
    };
    // Quantizes the planned matrices of `site`; `capture(forward, seq, target, dst)` fills dst with the site's
    // input [tokens × width] in the quantized model for one sequence and returns the width.
    auto quantize_site = [&](const std::vector<std::string>& site, auto&& capture) -> Status {
        bool planned = false;
        for (const std::string& name : site) planned = planned || plan.contains(name);
        if (!planned) return Status::ok();
        // H̃ = E[x̃·x̃ᵀ] and C = E[x·x̃ᵀ] of the site's input, x from the float model and x̃ from the quantized one.
        std::vector<double> h, c;
        std::vector<float> xq, hs, cs;  // hs, cs: one sequence's sums, in float for speed
        std::size_t width = 0;
        for (std::size_t i = 0; i < ref_seqs.size(); ++i) {
            const std::vector<float>& x = ref_in.at(site.front())[i];
            width = capture(quantized, q_seqs[i], site.front(), xq);
            hs.assign(width * width, 0.0f);
            cs.assign(width * width, 0.0f);
            for (std::size_t t = 0; t < ref_seqs[i].tokens.size(); ++t) {
                const float* a = &x[t * width];
                const float* b = &xq[t * width];
                for (std::size_t r = 0; r < width; ++r) {
                    axpy_f32(b[r], b, &hs[r * width], r + 1);  // H̃ is symmetric: lower half
                    axpy_f32(a[r], b, &cs[r * width], width);
                }
            }
            if (h.empty()) {
                h.assign(width * width, 0.0);
                c.assign(width * width, 0.0);
            }
            for (std::size_t k = 0; k < h.size(); ++k) {
                h[k] += hs[k];
                c[k] += cs[k];
            }
        }
        for (std::size_t r = 0; r < width; ++r) {
            for (std::size_t j = r + 1; j < width; ++j) h[r * width + j] = h[j * width + r];
        }
        std::vector<float> hf(h.size()), cf(c.size());
        for (std::size_t i = 0; i < h.size(); ++i) {
            hf[i] = static_cast<float>(h[i] * inv);
            cf[i] = static_cast<float>(c[i] * inv);
        }
        for (const std::string& name : site) {
            auto it = plan.find(name);
            if (it == plan.end()) continue;
            const WeightMatrix& src = *source.at(name);
            const auto rows = static_cast<std::size_t>(src.rows()), cols = static_cast<std::size_t>(src.cols());
            std::vector<float> w = matrix_to_float(src);
            const bool tied_classifier = model.tied_output() && name == "token_embd.weight";
            if (!tied_classifier) KASTEN_RETURN_IF_ERROR(correct_for_quantized_inputs(w.data(), rows, cols, cf, hf));
            KASTEN_ASSIGN_OR_RETURN(QuantizedMatrix q, quantize_matrix(w, rows, cols, it->second, hf));
            KASTEN_RETURN_IF_ERROR(publish(name, std::move(q)));
        }
        return Status::ok();
    };
    // A hook that copies the input of site `target` into dst and stops the block there.
    auto grab = [](const std::string& target, std::vector<float>& dst, std::size_t& width) {
        return [&dst, &width, target](std::span<const std::string> names, const float* in, int n, int w) {
            if (names.front() != target) return true;
            width = static_cast<std::size_t>(w);
            dst.assign(in, in + static_cast<std::size_t>(n) * width);
            return false;
        };
    };
    auto in_block = [&](CalibrationForward& f, CalibrationForward::Sequence& s, const std::string& target,
                        std::vector<float>& dst) {
        std::size_t width = 0;
        f.run_block(s, grab(target, dst, width));  // stops at the site: s is unchanged
        return width;
    };
    auto at_classifier = [&](CalibrationForward& f, CalibrationForward::Sequence& s, const std::string& target,
                             std::vector<float>& dst) {
        std::size_t width = 0;
        f.finish(s, grab(target, dst, width), nullptr);
        return width;
    };
    const std::vector<std::vector<std::string>> sites = CalibrationForward::sites(model);
    const auto pass = [](std::span<const std::string>, const float*, int, int) { return true; };
    for (int b = 0; b < reference.n_blocks(); ++b) {
        ref_in.clear();
        for (std::size_t i = 0; i < ref_seqs.size(); ++i) reference.run_block(ref_seqs[i], record(i));
        KASTEN_RETURN_IF_ERROR(quantize_site(sites[static_cast<std::size_t>(2 * b)], in_block));
        KASTEN_RETURN_IF_ERROR(quantize_site(sites[static_cast<std::size_t>(2 * b + 1)], in_block));
        for (std::size_t i = 0; i < q_seqs.size(); ++i) quantized.run_block(q_seqs[i], pass);
    }
    ref_in.clear();
    for (std::size_t i = 0; i < ref_seqs.size(); ++i) reference.finish(ref_seqs[i], record(i), nullptr);
    KASTEN_RETURN_IF_ERROR(quantize_site(sites.back(), at_classifier));
    return out;
}

}  // namespace kasten::llm
