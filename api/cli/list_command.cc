#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/one_line.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "common/timestamp.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "list";

int run_list(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    auto cube = args.get("cube");
    const std::string what = args.get("what").value_or(cube ? "sessions" : "cubes");
    if (what != "cubes" && what != "sessions" && what != "notes" && what != "turns") {
        return usage_error(kName, "--what must be sessions, notes or turns");
    }
    if (what != "cubes" && (!cube || cube->empty())) return usage_error(kName, "--what " + what + " needs --cube");
    if (what == "cubes" && cube) return usage_error(kName, "--what cubes takes no --cube");
    Result<Paging> paging = parse_paging(args);
    if (!paging.is_ok()) return usage_error(kName, paging.status().message());
    const int limit = paging.value().limit;
    const int offset = paging.value().offset;
    std::optional<store::NoteStatus> status;
    if (auto v = args.get("status")) {
        if (what != "notes") return usage_error(kName, "--status applies to --what notes");
        store::NoteStatus s;
        if (!store::parse_note_status(*v, &s)) {
            return usage_error(kName, "--status must be active, superseded, archived or deleted");
        }
        status = s;
    }
    const bool json = args.has("json");

    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    memory::MemoryManager& m = *rt.value().memory;
    nlohmann::json out = nlohmann::json::array();
    if (what == "cubes") {
        auto cubes = m.list_cubes();
        if (!cubes.is_ok()) return failure(kName, cubes.status());
        for (const auto& c : cubes.value()) {
            if (json)
                out.push_back(cube_to_json(c));
            else
                std::cout << fmt::format("{}  {}  {}\n", c.id, format_timestamp(c.created_at), c.name);
        }
        if (!json && cubes.value().empty()) std::cout << "no cubes\n";
    } else if (what == "sessions") {
        auto sessions = m.list_sessions(*cube, limit, offset);
        if (!sessions.is_ok()) return failure(kName, sessions.status());
        for (const auto& s : sessions.value()) {
            if (json)
                out.push_back(session_to_json(s));
            else
                std::cout << fmt::format("{}  {}\n", s.external_id, format_timestamp(s.started_at));
        }
        if (!json && sessions.value().empty()) std::cout << "no sessions\n";
    } else if (what == "notes") {
        auto notes = m.list_notes(*cube, status, limit, offset);
        if (!notes.is_ok()) return failure(kName, notes.status());
        for (const auto& n : notes.value()) {
            if (json)
                out.push_back(note_to_json(n));
            else
                std::cout << fmt::format("{}  v{}  {}  {}  {}\n", n.id, n.version, store::note_status_name(n.status),
                                         n.kind, one_line(n.content, 100));
        }
        if (!json && notes.value().empty()) std::cout << "no notes\n";
    } else {
        auto turns = m.list_turns(*cube, limit, offset);
        if (!turns.is_ok()) return failure(kName, turns.status());
        for (const auto& t : turns.value()) {
            if (json)
                out.push_back(turn_to_json(t));
            else
                std::cout << fmt::format("{}  {}  {}: {}\n", t.id, format_timestamp(t.conv_time), t.role,
                                         one_line(t.content, 100));
        }
        if (!json && turns.value().empty()) std::cout << "no turns\n";
    }
    if (json) std::cout << dump_json({{what, std::move(out)}}, 2) << "\n";
    return kExitOk;
}

}  // namespace

Command list_command() {
    Command c;
    c.name = kName;
    c.summary = "List cubes, or a cube's sessions, notes or turns.";
    c.usage =
        "kasten list [--json]\n       kasten list --cube C [--what sessions|notes|turns] [--limit N] "
        "[--offset N] [--status S] [--json]";
    c.details =
        "Without --cube lists the cubes. With --cube lists its sessions (default), notes or turns, a page at\n"
        "a time (--limit 1..1000, default 50).";
    c.examples =
        "  kasten list\n"
        "  kasten list --cube alice\n"
        "  kasten list --cube alice --what notes --status active\n"
        "  kasten list --cube alice --what turns --limit 20 --offset 40 --json\n";
    c.flags = {
        {"cube", "C", "the cube whose content to list"},
        {"what", "KIND", "sessions | notes | turns (default sessions; cubes without --cube)"},
        {"limit", "N", "page size, 1..1000 (default 50)"},
        {"offset", "N", "entries to skip (default 0)"},
        {"status", "S", "notes only: active | superseded | archived | deleted"},
        {"json", "", "print JSON"},
    };
    c.run = run_list;
    return c;
}

}  // namespace kasten::api
