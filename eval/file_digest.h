#pragma once

#include <string>

#include "common/result.h"

namespace kasten::eval {

// Lower-case hex SHA-256 of a file's bytes, read in 1 MiB blocks. kNotFound when it cannot be opened, kIOError on a
// read error. Every evaluation run records the digest of its data file.
[[nodiscard]] Result<std::string> file_sha256(const std::string& path);

}  // namespace kasten::eval
