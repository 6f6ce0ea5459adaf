#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "llm/gguf_value.h"
#include "llm/tensor_type.h"

namespace kasten::llm {

// Builds a GGUF v3 file: metadata in insertion order, then tensor infos, then the tensor data, each tensor at an
// offset aligned to `general.alignment` (32 when the key is absent). Tensor data is either given as bytes or
// produced by a filler at write time, so large models are streamed to disk without being held in memory.
// Not thread-safe.
class GgufWriter {
  public:
    // Fills exactly the tensor's byte size; a non-ok Status aborts write().
    using TensorFiller = std::function<Status(std::span<std::uint8_t> out)>;

    // Sets a metadata value, replacing an earlier value of the same key in place.
    void set(const std::string& key, GgufValue value);
    bool has(const std::string& key) const;

    // Adds a tensor. dims are ggml-ordered (ne0 first). kInvalidArgument for a duplicate or empty name, 0 or more
    // than 4 dims, ne0 not a multiple of the type's block size, or (bytes overload) a size that does not match.
    Status add_tensor(std::string name, TensorType type, std::vector<std::uint64_t> dims,
                      std::vector<std::uint8_t> bytes);
    Status add_tensor(std::string name, TensorType type, std::vector<std::uint64_t> dims, TensorFiller filler);

    std::size_t tensor_count() const { return tensors_.size(); }

    // Writes the file atomically (to `path`.tmp, then renamed). kInvalidArgument for malformed metadata (a
    // general.alignment that is not a u32 power of two, an array whose items do not have its element type),
    // kIOError when writing fails, or a filler's Status.
    Status write(const std::string& path) const;

  private:
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<std::uint64_t> dims;
        std::uint64_t n_bytes = 0;
        std::vector<std::uint8_t> bytes;  // empty when `filler` is set
        TensorFiller filler;
    };
    Status check_tensor(const std::string& name, TensorType type, const std::vector<std::uint64_t>& dims,
                        std::uint64_t* n_bytes) const;

    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::vector<Tensor> tensors_;
};

}  // namespace kasten::llm
