#include "llm/model_converter.h"

#include <memory>
#include <vector>

#include <fmt/format.h>

#include "llm/gguf_reader.h"
#include "llm/gguf_writer.h"
#include "llm/llama2c_checkpoint.h"
#include "llm/quantization.h"
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

// Adds `t` to the writer, converted to `target` when it is a 2-D weight; updates the report. `is_classifier`
// marks output.weight, or token_embd.weight when the output is tied to it.
Status add_converted(GgufWriter& w, const TensorView& t, TensorType target, bool is_classifier,
                     ConversionReport& report) {
    report.tensors++;
    report.bytes_in += t.n_bytes;
    const bool matrix = t.dims.size() == 2 && t.name.size() > 7 && t.name.ends_with(".weight");
    if (matrix && is_classifier) target = classifier_type(target, t.dims[0]);
    TensorType type = t.type;
    if (matrix && t.type != target) {
        if (!can_dequantize(t.type)) {
            return Status::not_supported(
                fmt::format("tensor '{}' has type {}, which cannot be converted", t.name, tensor_type_name(t.type)));
        }
        if (t.dims[0] % tensor_type_traits(target).block_size == 0) {
            type = target;
            report.quantized++;
        } else {
            type = TensorType::kF16;
            report.fell_back++;
        }
    } else {
        report.kept++;
    }
    if (type == t.type) {
        report.bytes_out += t.n_bytes;
        return w.add_tensor(t.name, t.type, t.dims, std::vector<std::uint8_t>(t.data, t.data + t.n_bytes));
    }
    const auto cols = static_cast<std::size_t>(t.dims[0]);
    const std::size_t rows = t.rows();
    const std::size_t in_stride = t.row_stride();
    const std::size_t out_stride = row_bytes(type, cols);
    report.bytes_out += out_stride * rows;
    const TensorType source = t.type;
    const std::uint8_t* data = t.data;
    return w.add_tensor(t.name, type, t.dims, [=](std::span<std::uint8_t> out) -> Status {
        std::vector<float> row(cols);
        for (std::size_t r = 0; r < rows; ++r) {
            dequantize_row(source, data + r * in_stride, cols, row.data());
            KASTEN_RETURN_IF_ERROR(quantize_row(type, row.data(), cols, out.data() + r * out_stride));
        }
        return Status::ok();
    });
}

void set_file_type(GgufWriter& w, TensorType type, const ConversionReport& report) {
    w.set("general.file_type", GgufValue::u32(file_type_of(type)));
    if (is_quantized(type) && report.quantized > 0) w.set("general.quantization_version", GgufValue::u32(2));
}

}  // namespace

Result<ConversionReport> requantize_gguf(const std::string& in_path, const std::string& out_path, TensorType type) {
    KASTEN_RETURN_IF_ERROR(check_target(type));
    KASTEN_ASSIGN_OR_RETURN(GgufReader in, GgufReader::open(in_path));
    GgufWriter w;
    for (const auto& [key, value] : in.metadata()) w.set(key, value);
    ConversionReport report;
    const bool tied = in.find_tensor("output.weight") == nullptr;
    for (const TensorView& t : in.tensors()) {
        const bool classifier = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
        KASTEN_RETURN_IF_ERROR(add_converted(w, t, type, classifier, report));
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
    for (const TensorView& t : ckpt.tensors()) {
        const bool classifier = t.name == "output.weight" || (ckpt.tied_classifier() && t.name == "token_embd.weight");
        KASTEN_RETURN_IF_ERROR(add_converted(w, t, type, classifier, report));
    }
    set_file_type(w, type, report);
    KASTEN_RETURN_IF_ERROR(w.write(out_path));
    return report;
}

}  // namespace kasten::llm
