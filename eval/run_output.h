#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace kasten::eval {

// One file of an evaluation run directory: its name inside the directory and its full content.
struct RunOutputFile {
    std::string name;
    std::string content;
};

// Creates `out_dir` (and parents) when missing and writes each file in order, binary, replacing existing files.
// Stops at the first failure: kIOError naming the directory or the file.
[[nodiscard]] Status write_run_output(const std::string& out_dir, const std::vector<RunOutputFile>& files);

}  // namespace kasten::eval
