#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "common/timestamp.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "show";

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string time_or_dash(const std::optional<TimeMs>& t) {
    return t ? format_timestamp(*t) : "-";
}

void print_note(const store::NoteRecord& n) {
    std::cout << fmt::format(
        "note {}  (cube {}, version {}, {})\n"
        "status:       {}\nkind:         {}\nkeywords:     {}\ntags:         {}\ncontext:      {}\n"
        "valid:        {} .. {}  (world time)\nrecorded at:  {}\nsuperseded:   {}\n"
        "importance:   {:.2f}\nstrength:     {:.2f}  (last access {})\nsource turns: {}\n\n{}\n",
        n.id, n.cube_id, n.version, store::note_status_name(n.status), store::note_status_name(n.status), n.kind,
        join(n.keywords), join(n.tags), n.context.empty() ? "-" : n.context, time_or_dash(n.valid_from),
        time_or_dash(n.valid_to), format_timestamp(n.recorded_at),
        n.superseded_at || !n.superseded_by.empty()
            ? time_or_dash(n.superseded_at) + " by " + (n.superseded_by.empty() ? "-" : n.superseded_by)
            : "-",
        n.importance, n.strength, n.last_access > 0 ? format_timestamp(n.last_access) : "never",
        join(n.source_turn_ids), n.content);
}

int run_show(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required");
    const int targets = args.has("session") + args.has("turn") + args.has("note");
    if (targets > 1) return usage_error(kName, "give at most one of --session, --turn, --note");
    const bool json = args.has("json");

    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    memory::MemoryManager& m = *rt.value().memory;
    if (auto id = args.get("session")) {
        auto view = m.get_session(*cube, *id);
        if (!view.is_ok()) return failure(kName, view.status());
        if (json) {
            std::cout << dump_json(session_view_to_json(view.value()), 2) << "\n";
            return kExitOk;
        }
        const auto& s = view.value().session;
        std::cout << fmt::format("session {}  (cube {}, started {}, {} turns)\n", s.external_id, s.cube_id,
                                 format_timestamp(s.started_at), view.value().turns.size());
        if (!s.summary.empty()) std::cout << "summary: " << s.summary << "\n";
        for (const auto& t : view.value().turns) {
            std::cout << fmt::format("\n[{}] {} ({}):\n{}\n", format_timestamp(t.conv_time), t.role, t.id, t.content);
        }
    } else if (auto id = args.get("turn")) {
        auto turn = m.get_turn(*cube, *id);
        if (!turn.is_ok()) return failure(kName, turn.status());
        if (json) {
            std::cout << dump_json(turn_to_json(turn.value()), 2) << "\n";
            return kExitOk;
        }
        const auto& t = turn.value();
        std::cout << fmt::format("turn {}  (cube {}, session {}, #{}, {})\ntime: {}\n\n{}\n", t.id, t.cube_id,
                                 t.session_id, t.index, t.role, format_timestamp(t.conv_time), t.content);
    } else if (auto id = args.get("note")) {
        auto note = m.get_note(*cube, *id);
        if (!note.is_ok()) return failure(kName, note.status());
        if (json)
            std::cout << dump_json(note_to_json(note.value()), 2) << "\n";
        else
            print_note(note.value());
    } else {
        auto info = m.get_cube(*cube);
        if (!info.is_ok()) return failure(kName, info.status());
        if (json) {
            std::cout << dump_json(cube_info_to_json(info.value()), 2) << "\n";
            return kExitOk;
        }
        const auto& i = info.value();
        std::cout << fmt::format(
            "cube {}  {}\ncreated:  {}\nembedder: {}\nsessions: {}\nturns:    {}\nnotes:    {}\nlinks:    {}\n",
            i.cube.id, i.cube.name, format_timestamp(i.cube.created_at),
            i.cube.embedder_id.empty() ? "-" : i.cube.embedder_id, i.sessions, i.turns, i.notes, i.links);
    }
    return kExitOk;
}

}  // namespace

Command show_command() {
    Command c;
    c.name = kName;
    c.summary = "Show a cube (with counts), a session (with its turns), a turn or a note.";
    c.details =
        "A note shows its status (active, superseded, archived, deleted), the world time it is valid in\n"
        "(valid_from .. valid_to; a note closed by a newer one has valid_to and superseded by <note id>), its\n"
        "keywords, tags, context, importance and MemoryBank strength. Its versions: `kasten history`; its\n"
        "links: `kasten links`.";
    c.usage = "kasten show --cube C [--session S | --turn ID | --note ID] [--json]";
    c.examples =
        "  kasten show --cube alice\n"
        "  kasten show --cube alice --session trip\n"
        "  kasten show --cube alice --note n_3f9a0c1d2e4b5a69 --json\n";
    c.flags = {
        {"cube", "C", "the cube (required)"}, {"session", "S", "show this session (its caller-given id) and its turns"},
        {"turn", "ID", "show this turn"},     {"note", "ID", "show this note"},
        {"json", "", "print JSON"},
    };
    c.run = run_show;
    return c;
}

}  // namespace kasten::api
