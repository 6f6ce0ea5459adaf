#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "llm/mapped_file.h"
#include "llm/use_lite_format.h"

namespace kasten::llm {

// A memory-mapped, validated KUSE file (llm/use_lite_format.h): the SentencePiece pieces with their scores and the
// encoder's float32 tensors. Immutable after load(); all methods are thread-safe.
class UseLiteModel {
  public:
    // Maps and validates the file: magic, version, header and section sizes, CRC-32C, piece offsets.
    // kNotFound: no file; kNotSupported: a newer format version; kCorruption: anything inconsistent (truncated,
    // a wrong checksum); kIOError: unreadable.
    static Result<std::unique_ptr<UseLiteModel>> load(const std::string& path);

    std::size_t piece_count() const { return piece_count_; }
    // id < piece_count().
    std::string_view piece(std::size_t id) const;
    double score(std::size_t id) const;
    // A tensor's rows x cols floats, row-major (rows and cols as in kUseLiteTensors).
    const float* tensor(UseLiteTensor t) const { return tensors_[static_cast<std::size_t>(t)]; }
    const std::string& path() const { return file_.path(); }

  private:
    UseLiteModel() = default;

    MappedFile file_;
    std::size_t piece_count_ = 0;
    const std::uint8_t* scores_ = nullptr;  // f64 little-endian; possibly unaligned for doubles
    const std::uint8_t* offsets_ = nullptr;
    const char* strings_ = nullptr;
    std::array<const float*, kUseLiteTensors.size()> tensors_{};
};

}  // namespace kasten::llm
