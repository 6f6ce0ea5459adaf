#include "llm/model_converter.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "llm/calibration_forward.h"
#include "llm/gguf_reader.h"
#include "llm/gguf_writer.h"
#include "llm/importance_matrix.h"
#include "llm/llama2c_checkpoint.h"
#include "llm/llama_model.h"
#include "llm/mixed_precision.h"
#include "llm/quantization.h"
#include "llm/sequential_quantizer.h"
#include "llm/tokenizer_factory.h"

namespace kasten::llm {
namespace {

// llama.cpp's llama_ftype for a file whose matrices are mostly `type`.
std::uint32_t file_type_of(TensorType type) {
    switch (type) {
        case TensorType::kF32:
            return 0;
        case TensorType::kF16:
            return 1;
        case TensorType::kQ4_0:
            return 2;
        case TensorType::kQ8_0:
            return 7;
        case TensorType::kQ4_K:
            return 14;  // Q4_K_S
        case TensorType::kQ6_K:
            return 18;
        default:
            return 0;
    }
}

bool is_quantized(TensorType type) {
    return type != TensorType::kF32 && type != TensorType::kF16;
}

Status check_target(TensorType type) {
    if (!is_compute_type(type)) {
        return Status::not_supported(
            fmt::format("cannot convert to {} (supported: F32, F16, Q8_0, Q4_0, Q4_K, Q6_K)", tensor_type_name(type)));
    }
    return Status::ok();
}

// The type the classifier gets for a file of `target` type: as llama.cpp does, 4-bit files keep the output
// matrix at Q6_K (Q8_0 when its width is not a multiple of 256), since output errors hit every logit directly.
TensorType classifier_type(TensorType target, std::uint64_t width) {
    if (target != TensorType::kQ4_0 && target != TensorType::kQ4_K) return target;
    return width % 256 == 0 ? TensorType::kQ6_K : TensorType::kQ8_0;
}

bool is_matrix(const TensorView& t) {
    return t.dims.size() == 2 && t.name.size() > 7 && t.name.ends_with(".weight");
}

// The type `t` is stored in within a file of `target` type: 2-D weights in the target (the classifier in
// classifier_type()), or F16 when their width does not fill the type's blocks; everything else as it is.
// `is_classifier` marks output.weight, or token_embd.weight when the output is tied to it.
Result<TensorType> stored_type(const TensorView& t, TensorType target, bool is_classifier) {
    if (!is_matrix(t)) return t.type;
    if (is_classifier) target = classifier_type(target, t.dims[0]);
    if (t.type == target) return t.type;
    if (!can_dequantize(t.type)) {
        return Status::not_supported(
            fmt::format("tensor '{}' has type {}, which cannot be converted", t.name, tensor_type_name(t.type)));
    }
    return t.dims[0] % tensor_type_traits(target).block_size == 0 ? target : TensorType::kF16;
}

// Adds `t` to the writer in `type` and counts it in the report: from `calibrated` when it holds the tensor,
// else copied (same type) or converted row by row (importance-weighted when `importance` has its columns).
Status add_tensor(GgufWriter& w, const TensorView& t, TensorType type, TensorType target,
                  std::map<std::string, QuantizedMatrix>& calibrated, const ImportanceMatrix* importance,
                  ConversionReport& report) {
    report.tensors++;
    report.bytes_in += t.n_bytes;
    if (type == t.type) {
        report.kept++;
        report.bytes_out += t.n_bytes;
        return w.add_tensor(t.name, t.type, t.dims, std::vector<std::uint8_t>(t.data, t.data + t.n_bytes));
    }
    if (type == TensorType::kF16 && target != TensorType::kF16 &&
        t.dims[0] % tensor_type_traits(target).block_size != 0) {
        report.fell_back++;
    } else {
        report.quantized++;
    }
    const auto cols = static_cast<std::size_t>(t.dims[0]);
    const std::size_t rows = t.rows();
    const std::size_t out_stride = row_bytes(type, cols);
    report.bytes_out += out_stride * rows;
    if (auto it = calibrated.find(t.name); it != calibrated.end()) {
        return w.add_tensor(t.name, it->second.type, t.dims, std::move(it->second.bytes));
    }
    const std::size_t in_stride = t.row_stride();
    const TensorType source = t.type;
    const std::uint8_t* data = t.data;
    std::vector<float> columns;
    if (importance != nullptr) {
        std::span<const float> c = importance->of(t.name);
        if (c.size() == cols) columns.assign(c.begin(), c.end());
    }
    return w.add_tensor(t.name, type, t.dims, [=](std::span<std::uint8_t> out) -> Status {
        std::vector<float> row(cols);
        const float* weights = columns.empty() ? nullptr : columns.data();
        for (std::size_t r = 0; r < rows; ++r) {
            dequantize_row(source, data + r * in_stride, cols, row.data());
            KASTEN_RETURN_IF_ERROR(quantize_row_weighted(type, row.data(), weights, cols, out.data() + r * out_stride));
        }
        return Status::ok();
    });
}

void set_file_type(GgufWriter& w, TensorType type, const ConversionReport& report) {
    w.set("general.file_type", GgufValue::u32(file_type_of(type)));
    if (is_quantized(type) && report.quantized > 0) w.set("general.quantization_version", GgufValue::u32(2));
}

constexpr int kCalibrationTokens = 4096;
constexpr int kMaxGenerate = 256;
constexpr int kMaxCalibrationChunk = 512;

// The model in a GGUF file and its calibration sequences.
struct Calibration {
    std::shared_ptr<const LlamaModel> model;
    std::vector<std::vector<int>> sequences;
    std::int64_t n_tokens = 0;
};

// True when the model is small enough for the calibrated GPTQ path (its second moments fit the budget).
bool fits_second_moments(const LlamaModel& model) {
    return 2 * ImportanceMatrix::second_moment_bytes(model.config()) <= ImportanceMatrix::kDefaultMaxSecondMomentBytes;
}

// Builds the options' calibration sequences for `model` (from the GGUF file at `path`). kNotSupported (and the
// reader's errors) when there is no tokenizer kasten can build.
Status build_calibration(const std::string& path, const RequantizeOptions& options, ThreadPool& pool, Calibration& c) {
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, load_gguf_tokenizer(path));
    if (options.calibration_text.empty()) {
        const std::vector<std::string> prompts = default_calibration_prompts();
        KASTEN_ASSIGN_OR_RETURN(c.sequences, generate_calibration(c.model, *tokenizer, prompts, kCalibrationTokens,
                                                                  kMaxGenerate, /*seed=*/1234, pool));
    } else {
        const int train = c.model->config().train_context;
        const int chunk = train > 0 ? std::min(train, kMaxCalibrationChunk) : kMaxCalibrationChunk;
        KASTEN_ASSIGN_OR_RETURN(c.sequences, calibration_from_text(*tokenizer, options.calibration_text, chunk));
    }
    for (const std::vector<int>& s : c.sequences) c.n_tokens += static_cast<std::int64_t>(s.size());
    return Status::ok();
}

// Calibrated quantization of the matrices `types` plans (see RequantizeOptions): fills `calibrated` (sequential
// GPTQ, after the mixed-precision rule may have raised some types) or `importance` (per-column statistics
// only, for models too large for second moments).
Status calibrate(const Calibration& cal, TensorType target, const RequantizeOptions& options, ThreadPool& pool,
                 std::map<std::string, TensorType>& types, std::map<std::string, QuantizedMatrix>& calibrated,
                 std::optional<ImportanceMatrix>& importance, ConversionReport& report) {
    const LlamaModel& model = *cal.model;
    report.calibration_tokens = cal.n_tokens;
    if (!fits_second_moments(model)) {
        KASTEN_ASSIGN_OR_RETURN(ImportanceMatrix im, ImportanceMatrix::collect(model, cal.sequences, &pool));
        importance = std::move(im);
        return Status::ok();
    }
    // Only the matrices the forward pass knows (all of a llama/qwen2 file) go through the calibrated path.
    const std::map<std::string, const WeightMatrix*> known = CalibrationForward::matrices(model);
    std::map<std::string, TensorType> plan;
    for (const auto& [name, type] : types) {
        if (known.contains(name)) plan[name] = type;
    }
    if (options.mixed_precision) {
        const bool q4 = target == TensorType::kQ4_0;
        const TensorType high = q4 ? TensorType::kQ8_0 : TensorType::kF16;
        Result<MixedPrecisionPlan> mix = plan_mixed_precision(
            model, plan, target, high, q4 ? options.max_kl_q4_0 : options.max_kl_q8_0, cal.sequences, &pool);
        if (mix.is_ok()) {
            plan = std::move(mix->types);
            report.promoted = static_cast<int>(mix->promoted.size());
            report.predicted_kl = mix->predicted_kl;
            for (const std::string& name : mix->promoted) types[name] = high;
        } else if (mix.status().code() != StatusCode::kNotSupported) {
            return mix.status();
        }
    }
    KASTEN_ASSIGN_OR_RETURN(calibrated, quantize_sequentially(model, plan, cal.sequences, &pool));
    return Status::ok();
}

}  // namespace

Result<ConversionReport> requantize_gguf(const std::string& in_path, const std::string& out_path, TensorType type,
                                         const RequantizeOptions& options) {
    KASTEN_RETURN_IF_ERROR(check_target(type));
    KASTEN_ASSIGN_OR_RETURN(GgufReader in, GgufReader::open(in_path));
    const bool tied = in.find_tensor("output.weight") == nullptr;
    // The stored type of every tensor; the matrices that change type are the ones to convert.
    std::map<std::string, TensorType> types, to_convert;
    for (const TensorView& t : in.tensors()) {
        const bool classifier = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
        KASTEN_ASSIGN_OR_RETURN(TensorType stored, stored_type(t, type, classifier));
        types[t.name] = stored;
        if (stored != t.type) to_convert[t.name] = stored;
    }
    ConversionReport report;
    std::map<std::string, QuantizedMatrix> calibrated;
    std::optional<ImportanceMatrix> importance;
    if (options.calibrate && (type == TensorType::kQ8_0 || type == TensorType::kQ4_0)) {
        Calibration cal;
        Result<std::shared_ptr<const LlamaModel>> model = LlamaModel::open(in_path);
        // The calibrated GPTQ path runs small models, whose products are too small to share among threads.
        ThreadPool pool(model.is_ok() && fits_second_moments(**model)
                            ? 1
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
        Status st = model.status();
        if (st.is_ok()) {
            cal.model = std::move(model.value());
            st = build_calibration(in_path, options, pool, cal);
        }
        if (st.is_ok()) {
            KASTEN_RETURN_IF_ERROR(calibrate(cal, type, options, pool, to_convert, calibrated, importance, report));
            for (const auto& [name, t] : to_convert) types[name] = t;
        } else if (!options.calibration_text.empty()) {
            return st;
        } else {
            log::info("requantize {}: plain scales, no calibration ({})", in_path, st.to_string());
        }
    }
    GgufWriter w;
    for (const auto& [key, value] : in.metadata()) w.set(key, value);
    for (const TensorView& t : in.tensors()) {
        KASTEN_RETURN_IF_ERROR(
            add_tensor(w, t, types.at(t.name), type, calibrated, importance ? &*importance : nullptr, report));
    }
    set_file_type(w, type, report);
    KASTEN_RETURN_IF_ERROR(w.write(out_path));  // fillers read `in`, which is alive until here
    return report;
}

Result<ConversionReport> convert_llama2c_to_gguf(const std::string& checkpoint_path, const std::string& tokenizer_path,
                                                 const std::string& out_path, TensorType type) {
    KASTEN_RETURN_IF_ERROR(check_target(type));
    KASTEN_ASSIGN_OR_RETURN(Llama2cCheckpoint ckpt, Llama2cCheckpoint::open(checkpoint_path));
    const ModelConfig& c = ckpt.config();
    KASTEN_ASSIGN_OR_RETURN(Llama2cVocab vocab, read_llama2c_vocab(tokenizer_path, c.n_vocab));
    const VocabData v = vocab_from_llama2c(vocab);

    GgufWriter w;
    auto u32 = [](int x) { return GgufValue::u32(static_cast<std::uint32_t>(x)); };
    w.set("general.architecture", GgufValue::string("llama"));
    w.set("general.name", GgufValue::string("llama2.c"));
    w.set("llama.context_length", u32(c.train_context));
    w.set("llama.embedding_length", u32(c.n_embd));
    w.set("llama.feed_forward_length", u32(c.n_ff));
    w.set("llama.block_count", u32(c.n_layer));
    w.set("llama.attention.head_count", u32(c.n_head));
    w.set("llama.attention.head_count_kv", u32(c.n_head_kv));
    w.set("llama.rope.dimension_count", u32(c.n_rot));
    w.set("llama.rope.freq_base", GgufValue::f32(c.rope_freq_base));
    w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(c.rms_eps));
    w.set("tokenizer.ggml.model", GgufValue::string(v.model));
    w.set("tokenizer.ggml.tokens", GgufValue::string_array(v.tokens));
    w.set("tokenizer.ggml.scores", GgufValue::f32_array(v.scores));
    w.set("tokenizer.ggml.token_type", GgufValue::i32_array(v.token_types));
    w.set("tokenizer.ggml.unknown_token_id", u32(v.special.unk));
    w.set("tokenizer.ggml.bos_token_id", u32(v.special.bos));
    w.set("tokenizer.ggml.eos_token_id", u32(v.special.eos));
    w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(true));
    w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(false));

    ConversionReport report;
    std::map<std::string, QuantizedMatrix> none;
    for (const TensorView& t : ckpt.tensors()) {
        const bool classifier = t.name == "output.weight" || (ckpt.tied_classifier() && t.name == "token_embd.weight");
        KASTEN_ASSIGN_OR_RETURN(TensorType stored, stored_type(t, type, classifier));
        KASTEN_RETURN_IF_ERROR(add_tensor(w, t, stored, type, none, nullptr, report));
    }
    set_file_type(w, type, report);
    KASTEN_RETURN_IF_ERROR(w.write(out_path));
    return report;
}

}  // namespace kasten::llm
