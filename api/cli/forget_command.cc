#include <iostream>

#include "api/cli/command.h"
#include "api/cli/runtime.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "forget";

int run_forget(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required");
    const int targets = args.has("note") + args.has("session") + args.has("turn") + args.has("all");
    if (targets != 1) return usage_error(kName, "give exactly one of --note, --session, --turn, --all");

    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    memory::MemoryManager& m = *rt.value().memory;
    const std::string actor = "cli";
    if (auto id = args.get("note")) {
        if (Status st = m.delete_note(*cube, *id, actor); !st.is_ok()) return failure(kName, st);
        std::cout << "deleted note " << *id << " (with its versions and links) from cube " << *cube << "\n";
    } else if (auto id = args.get("session")) {
        auto view = m.get_session(*cube, *id);
        if (!view.is_ok()) return failure(kName, view.status());
        if (Status st = m.delete_session(*cube, *id, actor); !st.is_ok()) return failure(kName, st);
        std::cout << "deleted session " << *id << " (" << view.value().turns.size() << " turns) from cube " << *cube
                  << "\n";
    } else if (auto id = args.get("turn")) {
        if (Status st = m.delete_turn(*cube, *id, actor); !st.is_ok()) return failure(kName, st);
        std::cout << "deleted turn " << *id << " from cube " << *cube << "\n";
    } else {
        auto info = m.get_cube(*cube);
        if (!info.is_ok()) return failure(kName, info.status());
        if (Status st = m.delete_cube(*cube, actor); !st.is_ok()) return failure(kName, st);
        const auto& i = info.value();
        std::cout << "deleted cube " << *cube << ": " << i.sessions << " sessions, " << i.turns << " turns, " << i.notes
                  << " notes, " << i.links << " links\n";
    }
    return kExitOk;
}

}  // namespace

Command forget_command() {
    Command c;
    c.name = kName;
    c.summary = "Delete a note, a session, a turn or a whole cube, everywhere (store and indexes).";
    c.usage = "kasten forget --cube C (--note ID | --session S | --turn ID | --all)";
    c.details = "Deletes at once, without asking, and prints what it deleted. --all deletes the cube itself.";
    c.examples =
        "  kasten forget --cube alice --note n_3f9a0c1d2e4b5a69\n"
        "  kasten forget --cube alice --session trip\n"
        "  kasten forget --cube alice --all\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"note", "ID", "delete this note, its versions and links"},
        {"session", "S", "delete this session and its turns"},
        {"turn", "ID", "delete this turn"},
        {"all", "", "delete the whole cube"},
    };
    c.run = run_forget;
    return c;
}

}  // namespace kasten::api
