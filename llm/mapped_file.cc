#include "llm/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace kasten::llm {
namespace {

// Closes a file descriptor on scope exit.
class FdGuard {
  public:
    explicit FdGuard(int fd) : fd_(fd) {}
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    ~FdGuard() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path, Access access, bool populate) {
    FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        int err = errno;
        std::string message = fmt::format("cannot open '{}': {}", path, std::strerror(err));
        if (err == ENOENT) return Status::not_found(std::move(message));
        return Status::io_error(std::move(message));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return Status::io_error(fmt::format("cannot stat '{}': {}", path, std::strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) return Status::io_error(fmt::format("'{}' is not a regular file", path));

    MappedFile file;
    file.path_ = path;
    file.size_ = static_cast<std::size_t>(st.st_size);
    if (file.size_ == 0) return file;  // mmap rejects empty mappings; an empty view is the right answer

    int flags = MAP_PRIVATE;
    if (populate) flags |= MAP_POPULATE;
    void* addr = ::mmap(nullptr, file.size_, PROT_READ, flags, fd.get(), 0);
    if (addr == MAP_FAILED) {
        return Status::io_error(fmt::format("cannot map '{}': {}", path, std::strerror(errno)));
    }
    file.data_ = static_cast<const std::uint8_t*>(addr);
    if (access == Access::kSequential) ::madvise(addr, file.size_, MADV_SEQUENTIAL);
    if (access == Access::kRandom) ::madvise(addr, file.size_, MADV_RANDOM);
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)), path_(std::move(other.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        reset();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        path_ = std::move(other.path_);
    }
    return *this;
}

MappedFile::~MappedFile() {
    reset();
}

void MappedFile::reset() {
    if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

}  // namespace kasten::llm
