#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace kasten::llm::testing {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
  public:
    TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const { return path_; }
    // path()/name as a string.
    std::string file(std::string_view name) const;
    // Names of the entries in the directory, sorted.
    std::vector<std::string> entries() const;

  private:
    std::filesystem::path path_;
};

// Whole-file helpers for tests; failures abort the test via gtest assertions in the caller's checks.
void write_file(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

}  // namespace kasten::llm::testing
