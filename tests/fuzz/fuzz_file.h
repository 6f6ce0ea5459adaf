#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

// An in-memory file (memfd) for fuzz targets whose code under test opens a path (GGUF, KVEC and KUSE readers map
// their file): one per process, rewritten for every input, so there is no disk I/O per input.
namespace kasten::fuzz {

class FuzzFile {
  public:
    // The process's file; aborts when no memfd can be created.
    static FuzzFile& get() {
        static FuzzFile file;
        return file;
    }

    // A path that opens the file (through /proc/self/fd).
    const std::string& path() const { return path_; }

    // Bytes written at an offset of the file.
    struct Piece {
        std::size_t offset = 0;
        const std::uint8_t* data = nullptr;
        std::size_t size = 0;
    };

    // Makes the file `size` zero bytes with `pieces` written over them (each must end within size). Zeros cost no
    // writes: only bytes an earlier input wrote are zeroed again, and the file keeps its pages while it does not
    // shrink, so large mostly-zero files stay cheap. False when a write fails.
    bool write(std::size_t size, std::initializer_list<Piece> pieces) {
        for (const Piece& p : pieces) {
            if (p.offset > size || p.size > size - p.offset) return false;
        }
        for (const auto& [offset, n] : dirty_) {
            static const std::uint8_t kZeros[4096] = {};
            for (std::size_t at = offset; at < offset + n && at < size;) {
                const std::size_t len = std::min({sizeof(kZeros), offset + n - at, size - at});
                if (!write_at(kZeros, len, at)) return false;
                at += len;
            }
        }
        dirty_.clear();
        if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return false;
        for (const Piece& p : pieces) {
            if (!write_at(p.data, p.size, p.offset)) return false;
            dirty_.emplace_back(p.offset, p.size);
        }
        return true;
    }
    // The file holds exactly data[0, size).
    bool write(const std::uint8_t* data, std::size_t size) { return write(size, {Piece{0, data, size}}); }

  private:
    FuzzFile() {
        fd_ = ::memfd_create("kasten-fuzz", 0);
        if (fd_ < 0) std::abort();
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }

    bool write_at(const std::uint8_t* data, std::size_t n, std::size_t offset) {
        for (std::size_t done = 0; done < n;) {
            const ssize_t w = ::pwrite(fd_, data + done, n - done, static_cast<off_t>(offset + done));
            if (w <= 0) return false;
            done += static_cast<std::size_t>(w);
        }
        return true;
    }

    int fd_ = -1;
    std::string path_;
    std::vector<std::pair<std::size_t, std::size_t>> dirty_;  // (offset, size) of bytes that may be non-zero
};

}  // namespace kasten::fuzz
