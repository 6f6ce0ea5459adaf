#include "eval/run_output.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace kasten::eval {

namespace {

Status write_file(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return Status::io_error("cannot write '" + path.string() + "'");
    out << content;
    out.flush();
    if (!out) return Status::io_error("writing '" + path.string() + "' failed");
    return Status::ok();
}

}  // namespace

Status write_run_output(const std::string& out_dir, const std::vector<RunOutputFile>& files) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) return Status::io_error("cannot create '" + out_dir + "': " + ec.message());
    const std::filesystem::path dir(out_dir);
    for (const auto& file : files) KASTEN_RETURN_IF_ERROR(write_file(dir / file.name, file.content));
    return Status::ok();
}

}  // namespace kasten::eval
