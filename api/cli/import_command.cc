#include <fstream>
#include <iostream>

#include "api/cli/command.h"
#include "api/cli/runtime.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "import";

int run_import(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required (the id of the new cube)");
    auto in_path = args.get("in");
    if (!in_path || in_path->empty()) return usage_error(kName, "--in is required");

    std::ifstream file;
    std::istream* in = &std::cin;
    if (*in_path != "-") {
        file.open(*in_path, std::ios::binary);
        if (!file) return failure(kName, Status::not_found("cannot read " + *in_path));
        in = &file;
    }
    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    const memory::ImportIds ids = args.has("new-ids") ? memory::ImportIds::kReassign : memory::ImportIds::kKeep;
    auto summary = rt.value().memory->import_cube(*in, *cube, "cli", ids);
    if (!summary.is_ok()) return failure(kName, summary.status());
    const auto& s = summary.value();
    std::cout << "imported cube " << s.cube_id << ": " << s.sessions << " sessions, " << s.turns << " turns, "
              << s.notes << " notes, " << s.note_versions << " note versions, " << s.links << " links"
              << (ids == memory::ImportIds::kReassign ? " (new ids)" : "") << "\n";
    if (s.dropped_references > 0) {
        std::cout << "dropped " << s.dropped_references
                  << " note reference(s) to turns or notes the export does not hold\n";
    }
    return kExitOk;
}

}  // namespace

Command import_command() {
    Command c;
    c.name = kName;
    c.summary = "Import a cube exported by `kasten export` (or GET /v1/cubes/{cube}/export).";
    c.usage = "kasten import --cube C --in FILE";
    c.details =
        "Creates cube C from the export (C may differ from the exported cube's id) and indexes it with the\n"
        "active embedder. Nothing is stored unless the whole file is valid. By default the export's ids are\n"
        "kept (a restore: an existing cube or clashing ids are an error); --new-ids gives every session, turn\n"
        "and note a fresh id (a copy beside its original). --in - reads standard input.";
    c.examples =
        "  kasten import --cube alice-copy --new-ids --in alice.jsonl\n"
        "  kasten export --cube alice | kasten --data-dir /other import --cube alice --in -\n";
    c.flags = {
        {"cube", "C", "id of the cube to create (required)"},
        {"in", "FILE", "the export file, or - for standard input (required)"},
        {"new-ids", "", "give every session, turn and note a fresh id instead of the export's"},
    };
    c.run = run_import;
    return c;
}

}  // namespace kasten::api
