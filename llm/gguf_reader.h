#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "llm/gguf_value.h"
#include "llm/mapped_file.h"
#include "llm/tensor_view.h"

namespace kasten::llm {

inline constexpr std::uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr std::size_t kGgufDefaultAlignment = 32;
inline constexpr std::size_t kGgufMaxDims = 4;

// A parsed, memory-mapped GGUF file (versions 2 and 3, little-endian; REFERENCE.md §3.2).
//
// open() validates everything before returning: magic, version, every count against the bytes that remain (so
// a corrupt count never causes a huge allocation), value types, nesting depth, duplicate keys and tensor names,
// dims and their product, the alignment, and that each tensor's data lies inside the file at an aligned offset.
// Errors: kNotFound / kIOError (file), kNotSupported (v1, newer versions, big-endian files, unknown tensor
// types), kCorruption (anything malformed or truncated). Tensor data is not copied: TensorView::data points into
// the mapping, which lives as long as this object (moving keeps the addresses). Immutable; thread-safe to read.
class GgufReader {
  public:
    static Result<GgufReader> open(const std::string& path);

    GgufReader(GgufReader&&) noexcept = default;
    GgufReader& operator=(GgufReader&&) noexcept = default;

    std::uint32_t version() const { return version_; }
    std::size_t alignment() const { return alignment_; }
    // Byte offset of the tensor data section in the file.
    std::uint64_t data_offset() const { return data_offset_; }
    const std::string& path() const { return file_.path(); }
    std::uint64_t file_size() const { return file_.size(); }

    // Metadata in file order.
    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
    // nullptr when absent.
    const GgufValue* find(std::string_view key) const;

    // Typed getters: kNotFound when absent, kInvalidArgument when present with an incompatible type.
    Result<std::uint64_t> get_uint(std::string_view key) const;
    Result<double> get_float(std::string_view key) const;
    Result<bool> get_bool(std::string_view key) const;
    Result<std::string> get_string(std::string_view key) const;
    Result<std::vector<std::string>> get_string_array(std::string_view key) const;
    Result<std::vector<float>> get_float_array(std::string_view key) const;
    Result<std::vector<std::int64_t>> get_int_array(std::string_view key) const;

    // Tensors in file order.
    const std::vector<TensorView>& tensors() const { return tensors_; }
    // nullptr when absent.
    const TensorView* find_tensor(std::string_view name) const;
    // Offset of a tensor's data relative to the data section. REQUIRES: `t` is one of tensors().
    std::uint64_t tensor_offset(const TensorView& t) const {
        return static_cast<std::uint64_t>(t.data - file_.data()) - data_offset_;
    }

  private:
    GgufReader() = default;
    Status parse();

    MappedFile file_;
    std::uint32_t version_ = 0;
    std::size_t alignment_ = kGgufDefaultAlignment;
    std::uint64_t data_offset_ = 0;
    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::unordered_map<std::string, std::size_t> metadata_index_;
    std::vector<TensorView> tensors_;
    std::unordered_map<std::string, std::size_t> tensor_index_;
};

}  // namespace kasten::llm
