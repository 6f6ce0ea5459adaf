#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/cli/command.h"
#include "api/cli/runtime.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "export";

int run_export(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required");
    auto out_path = args.get("out");
    if (out_path && out_path->empty()) return usage_error(kName, "--out needs a file name");

    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    if (!out_path || *out_path == "-") {
        Status st = rt.value().memory->export_cube(*cube, std::cout);
        std::cout.flush();
        if (!st.is_ok()) return failure(kName, st);
        if (!std::cout) return failure(kName, Status::io_error("writing to stdout failed"));
        return kExitOk;
    }
    // Written beside the target and renamed, so --out is either untouched or complete.
    const std::string tmp = *out_path + ".partial";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return failure(kName, Status::io_error("cannot write " + tmp));
        Status st = rt.value().memory->export_cube(*cube, out);
        out.flush();
        if (st.is_ok() && !out) st = Status::io_error("writing " + tmp + " failed");
        if (!st.is_ok()) {
            out.close();
            std::remove(tmp.c_str());
            return failure(kName, st);
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, *out_path, ec);
    if (ec) return failure(kName, Status::io_error("cannot rename " + tmp + " to " + *out_path + ": " + ec.message()));
    std::cerr << "exported cube " << *cube << " to " << *out_path << "\n";
    return kExitOk;
}

}  // namespace

Command export_command() {
    Command c;
    c.name = kName;
    c.summary = "Export a cube as JSON Lines (docs/export-format.md).";
    c.usage = "kasten export --cube C [--out FILE]";
    c.details =
        "Writes the cube, its sessions, turns, notes, note versions and links, one JSON object per line, to\n"
        "FILE (default: standard output). Embeddings are not exported; they are rebuilt on import.";
    c.examples =
        "  kasten export --cube alice > alice.jsonl\n"
        "  kasten export --cube alice --out alice.jsonl\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"out", "FILE", "output file (default standard output)"},
    };
    c.run = run_export;
    return c;
}

}  // namespace kasten::api
