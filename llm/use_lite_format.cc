#include "llm/use_lite_format.h"

#include "llm/kvec_format.h"

namespace kasten::llm {
namespace {

#define KASTEN_USE_ENC "module_apply_default/Encoder_en/KonaTransformer/Encode/"
#define KASTEN_USE_STACK KASTEN_USE_ENC "TransformerStack/"

constexpr int kE = kUseLiteEmbedDim;
constexpr int kM = kUseLiteModelDim;
constexpr int kF = kUseLiteFfnDim;

}  // namespace

// clang-format off
const std::array<UseLiteTensorSpec, 30> kUseLiteTensors = {{
    {UseLiteTensor::kEmbeddings, "module/Embeddings_en", kUseLiteEmbeddingRows, kE},
    {UseLiteTensor::kTimingInvTimescales, KASTEN_USE_STACK "Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 1, kUseLiteTimescales},
    {UseLiteTensor::kL0AttnNormScale, KASTEN_USE_ENC "Layer_0/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, kE},
    {UseLiteTensor::kL0AttnNormBias, KASTEN_USE_ENC "Layer_0/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, kE},
    {UseLiteTensor::kL0Qkv, "module/Encoder_en/KonaTransformer/Encode/Layer_0/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0", kE, 3 * kE},
    {UseLiteTensor::kL0QkvBias, KASTEN_USE_ENC "Layer_0/TransformerLayer/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 1, 3 * kE},
    {UseLiteTensor::kL0Out, "module/Encoder_en/KonaTransformer/Encode/Layer_0/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0", kE, kM},
    {UseLiteTensor::kL0OutBias, KASTEN_USE_ENC "Layer_0/TransformerLayer/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL0Residual, KASTEN_USE_ENC "Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat", kE, kM},
    {UseLiteTensor::kL0ResidualBias, KASTEN_USE_ENC "Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL0FfnNormScale, KASTEN_USE_ENC "Layer_0/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL0FfnNormBias, KASTEN_USE_ENC "Layer_0/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL0Ffn1, KASTEN_USE_STACK "Layer_0/TransformerLayer/FFN/conv1/Tensordot/Reshape_1", kM, kF},
    {UseLiteTensor::kL0Ffn1Bias, KASTEN_USE_ENC "Layer_0/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat", 1, kF},
    {UseLiteTensor::kL0Ffn2, KASTEN_USE_STACK "Layer_0/TransformerLayer/FFN/conv2/Tensordot/Reshape_1", kF, kM},
    {UseLiteTensor::kL0Ffn2Bias, KASTEN_USE_ENC "Layer_0/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL1AttnNormScale, KASTEN_USE_ENC "Layer_1/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL1AttnNormBias, KASTEN_USE_ENC "Layer_1/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL1Qkv, "module/Encoder_en/KonaTransformer/Encode/Layer_1/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0", kM, 3 * kM},
    {UseLiteTensor::kL1QkvBias, KASTEN_USE_ENC "Layer_1/TransformerLayer/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 1, 3 * kM},
    {UseLiteTensor::kL1Out, "module/Encoder_en/KonaTransformer/Encode/Layer_1/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0", kM, kM},
    {UseLiteTensor::kL1OutBias, KASTEN_USE_ENC "Layer_1/TransformerLayer/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL1FfnNormScale, KASTEN_USE_ENC "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL1FfnNormBias, KASTEN_USE_ENC "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kL1Ffn1, KASTEN_USE_STACK "Layer_1/TransformerLayer/FFN/conv1/Tensordot/Reshape_1", kM, kF},
    {UseLiteTensor::kL1Ffn1Bias, KASTEN_USE_ENC "Layer_1/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat", 1, kF},
    {UseLiteTensor::kL1Ffn2, KASTEN_USE_STACK "Layer_1/TransformerLayer/FFN/conv2/Tensordot/Reshape_1", kF, kM},
    {UseLiteTensor::kL1Ffn2Bias, KASTEN_USE_ENC "Layer_1/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat", 1, kM},
    {UseLiteTensor::kHidden, "module/Encoder_en/hidden_layers/tanh_layer_0/weights", kM, kM},
    {UseLiteTensor::kHiddenBias, "module/Encoder_en/hidden_layers/tanh_layer_0/bias", 1, kM},
}};

const std::array<UseLiteGraphScalar, 10> kUseLiteGraphScalars = {{
    {KASTEN_USE_STACK "Layer_0/TransformerLayer/MultiheadAttention/mul/y", 0.125},
    {KASTEN_USE_STACK "Layer_1/TransformerLayer/MultiheadAttention/mul/y", 0.0883883461356163},
    {KASTEN_USE_STACK "Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y", -1e9},
    {KASTEN_USE_STACK "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x", 1e-6},
    {"module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y", 1e-12},
    {"module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y", kUseLiteMaxTokens},
    {KASTEN_USE_ENC "SparseToDense/default_value", -1},
    {KASTEN_USE_STACK "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2", kUseLiteHeads},
    {KASTEN_USE_STACK "Layer_0/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3", kE / kUseLiteHeads},
    {KASTEN_USE_STACK "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3", kM / kUseLiteHeads},
}};
// clang-format on

#undef KASTEN_USE_STACK
#undef KASTEN_USE_ENC

std::array<std::uint8_t, kUseLiteHeaderSize> encode_use_lite_header(const UseLiteHeader& header) {
    std::array<std::uint8_t, kUseLiteHeaderSize> b{};
    for (std::size_t i = 0; i < kUseLiteMagic.size(); ++i) b[i] = static_cast<std::uint8_t>(kUseLiteMagic[i]);
    store_le32(b.data() + 4, header.version);
    store_le32(b.data() + 8, header.header_size);
    store_le32(b.data() + 12, header.vocab_count);
    store_le32(b.data() + 16, header.tensor_count);
    store_le64(b.data() + 24, header.file_size);
    store_le64(b.data() + 32, header.vocab_offset);
    store_le64(b.data() + 40, header.tensors_offset);
    store_le64(b.data() + 48, header.tensors_bytes);
    return b;
}

UseLiteHeader decode_use_lite_header(const std::uint8_t* bytes) {
    UseLiteHeader h;
    h.version = load_le32(bytes + 4);
    h.header_size = load_le32(bytes + 8);
    h.vocab_count = load_le32(bytes + 12);
    h.tensor_count = load_le32(bytes + 16);
    h.file_size = load_le64(bytes + 24);
    h.vocab_offset = load_le64(bytes + 32);
    h.tensors_offset = load_le64(bytes + 40);
    h.tensors_bytes = load_le64(bytes + 48);
    return h;
}

std::size_t use_lite_tensor_stride(const UseLiteTensorSpec& spec) {
    const std::size_t bytes = static_cast<std::size_t>(spec.rows) * static_cast<std::size_t>(spec.cols) * 4;
    return (bytes + kUseLiteTensorAlignment - 1) / kUseLiteTensorAlignment * kUseLiteTensorAlignment;
}

std::size_t use_lite_tensors_bytes() {
    std::size_t total = 0;
    for (const UseLiteTensorSpec& spec : kUseLiteTensors) total += use_lite_tensor_stride(spec);
    return total;
}

}  // namespace kasten::llm
