#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kasten::llm {

// A read-only memory mapping of a whole file (RAII: unmapped on destruction). Move-only.
// The bytes stay valid for the object's lifetime; concurrent reads are safe.
class MappedFile {
  public:
    enum class Access { kNormal, kSequential, kRandom };

    // Maps `path`. kNotFound when it does not exist, kIOError when it cannot be opened or mapped.
    // populate=true pre-faults every page (worth it when the whole file is about to be read).
    static Result<MappedFile> open(const std::string& path, Access access = Access::kNormal, bool populate = false);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const std::uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::string_view bytes() const { return {reinterpret_cast<const char*>(data_), size_}; }
    const std::string& path() const { return path_; }

  private:
    void reset();

    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::string path_;
};

}  // namespace kasten::llm
