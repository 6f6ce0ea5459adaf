#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace kasten::llm {

// KVEC: a word-vector file, written by convert_glove_json() and memory-mapped by GloveEmbedder.
// All integers little-endian; vectors IEEE-754 float32 little-endian. Layout, version 1:
//
//   offset  size  field
//   0       4     magic "KVEC"
//   4       4     u32 format version (kKvecVersion)
//   8       4     u32 header size in bytes (64)
//   12      4     u32 element type (1 = float32)
//   16      4     u32 dim
//   20      4     u32 count (vocabulary size; rows are in frequency-rank order, most frequent first)
//   24      8     u64 file size in bytes, trailer included
//   32      8     u64 offsets_offset: u32 offsets[count + 1] (byte offsets of each word in the string
//                 blob; offsets[0] = 0, non-decreasing, offsets[count] = blob size)
//   40      8     u64 strings_offset: the UTF-8 words, concatenated without separators
//   48      8     u64 vectors_offset (multiple of 64): float32[count][dim], row i is word i's vector
//   56      8     reserved, 0
//   ...           zero padding before vectors_offset
//   end-8   4     u32 CRC-32C of every byte before it
//   end-4   4     end magic "KEND"
//
// A reader refuses versions newer than it knows (kNotSupported) and any inconsistency (kCorruption).

inline constexpr std::array<char, 4> kKvecMagic = {'K', 'V', 'E', 'C'};
inline constexpr std::array<char, 4> kKvecEndMagic = {'K', 'E', 'N', 'D'};
inline constexpr std::uint32_t kKvecVersion = 1;
inline constexpr std::size_t kKvecHeaderSize = 64;
inline constexpr std::size_t kKvecTrailerSize = 8;
inline constexpr std::size_t kKvecVectorAlignment = 64;
inline constexpr std::uint32_t kKvecElementFloat32 = 1;
inline constexpr std::uint32_t kKvecMaxDim = 65536;

// Byte offsets of the header fields, for readers, writers and tests that patch files.
inline constexpr std::size_t kKvecVersionOffset = 4;
inline constexpr std::size_t kKvecDimOffset = 16;
inline constexpr std::size_t kKvecCountOffset = 20;

struct KvecHeader {
    std::uint32_t version = kKvecVersion;
    std::uint32_t header_size = kKvecHeaderSize;
    std::uint32_t element_type = kKvecElementFloat32;
    std::uint32_t dim = 0;
    std::uint32_t count = 0;
    std::uint64_t file_size = 0;
    std::uint64_t offsets_offset = 0;
    std::uint64_t strings_offset = 0;
    std::uint64_t vectors_offset = 0;
};

// Serialises a header (magic included) into its 64 on-disk bytes.
std::array<std::uint8_t, kKvecHeaderSize> encode_kvec_header(const KvecHeader& header);
// Reads the fields of a 64-byte header; the magic is not checked here.
KvecHeader decode_kvec_header(const std::uint8_t* bytes);

inline void store_le32(std::uint8_t* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline std::uint32_t load_le32(const std::uint8_t* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
inline std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

}  // namespace kasten::llm
