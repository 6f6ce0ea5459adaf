#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace kasten::store::testing {

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
  public:
    TempDir() {
        std::string tmpl = "/tmp/kasten_store_test_XXXXXX";
        char* made = mkdtemp(tmpl.data());
        path_ = made != nullptr ? std::filesystem::path(made) : std::filesystem::path();
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }

    bool ok() const { return !path_.empty(); }
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

  private:
    std::filesystem::path path_;
};

}  // namespace kasten::store::testing
