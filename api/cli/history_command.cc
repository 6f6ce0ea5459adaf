#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "common/timestamp.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "history";

int run_history(const ParsedArgs& args) {
    Result<NoteTarget> target = parse_note_target(args);
    if (!target.is_ok()) return usage_error(kName, target.status().message());
    const std::string* cube = &target.value().cube;
    const std::string* note = &target.value().note;
    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    auto versions = rt.value().memory->note_history(*cube, *note);
    if (!versions.is_ok()) return failure(kName, versions.status());
    if (args.has("json")) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& v : versions.value()) out.push_back(note_version_to_json(v));
        std::cout << dump_json({{"note_id", *note}, {"versions", std::move(out)}}, 2) << "\n";
        return kExitOk;
    }
    std::cout << "note " << *note << ": " << versions.value().size() << " version(s), oldest first\n";
    auto time_or_dash = [](const std::optional<TimeMs>& t) { return t ? format_timestamp(*t) : std::string("-"); };
    for (const auto& v : versions.value()) {
        std::cout << fmt::format("\nv{}  {}  {}  by {}  ({}, {}, valid {} .. {})\n{}\n", v.version,
                                 format_timestamp(v.created_at), v.reason, v.actor, store::note_status_name(v.status),
                                 v.kind, time_or_dash(v.valid_from), time_or_dash(v.valid_to), v.content);
    }
    return kExitOk;
}

}  // namespace

Command history_command() {
    Command c;
    c.name = kName;
    c.summary = "Show every version of a note, oldest first.";
    c.details =
        "Each version is a state the note had, with the reason it changed and who changed it: create, evolution\n"
        "(tags or context rewritten when a related note arrived), superseded (closed by a newer note on the same\n"
        "subject: valid_to set), user_edit (PATCH), ...; actor is cli, a key name, or scheduler (note jobs).";
    c.usage = "kasten history --cube C (--note ID | NOTE_ID) [--json]";
    c.examples =
        "  kasten history --cube alice n_3f9a0c1d2e4b5a69\n"
        "  kasten history --cube alice --note n_3f9a0c1d2e4b5a69 --json\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"note", "ID", "the note"},
        {"json", "", "print JSON"},
    };
    c.run = run_history;
    return c;
}

}  // namespace kasten::api
