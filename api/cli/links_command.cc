#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/one_line.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "links";

int run_links(const ParsedArgs& args) {
    Result<NoteTarget> target = parse_note_target(args);
    if (!target.is_ok()) return usage_error(kName, target.status().message());
    const std::string* cube = &target.value().cube;
    const std::string* note = &target.value().note;
    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    memory::MemoryManager& m = *rt.value().memory;
    auto links = m.note_links(*cube, *note);
    if (!links.is_ok()) return failure(kName, links.status());
    if (args.has("json")) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& l : links.value()) out.push_back(link_to_json(l));
        std::cout << dump_json({{"note_id", *note}, {"links", std::move(out)}}, 2) << "\n";
        return kExitOk;
    }
    if (links.value().empty()) {
        std::cout << "note " << *note << " has no links\n";
        return kExitOk;
    }
    std::cout << "note " << *note << ": " << links.value().size()
              << " link(s); out = this note <relation> other, in = other <relation> this note\n\n";
    std::cout << fmt::format("{:<12} {:<4} {:<20} {:>6}  {:<32} {}\n", "RELATION", "DIR", "OTHER NOTE", "WEIGHT",
                             "REASON", "OTHER NOTE'S CONTENT");
    for (const auto& l : links.value()) {
        const bool out = l.src_note_id == *note;
        const std::string& other = out ? l.dst_note_id : l.src_note_id;
        auto other_note = m.get_note(*cube, other);
        std::string content = "(not found)";
        if (other_note.is_ok()) {
            content = one_line(other_note.value().content, 60);
            if (other_note.value().status != store::NoteStatus::kActive) {
                content = std::string("[") + store::note_status_name(other_note.value().status) + "] " + content;
            }
        }
        std::cout << fmt::format("{:<12} {:<4} {:<20} {:>6.2f}  {:<32} {}\n", l.relation, out ? "out" : "in", other,
                                 l.weight, one_line(l.reason, 32), content);
    }
    return kExitOk;
}

}  // namespace

Command links_command() {
    Command c;
    c.name = kName;
    c.summary = "Show a note's links to other notes (relation, direction, weight, reason).";
    c.usage = "kasten links --cube C (--note ID | NOTE_ID) [--json]";
    c.details =
        "Links are made when notes are built: related, supports, updates, contradicts, follows, part_of. A link\n"
        "reads \"source <relation> destination\"; DIR is out when this note is the source. An \"updates\" or\n"
        "\"contradicts\" link usually closed the older note (see `kasten show --note` and `kasten history`).";
    c.examples =
        "  kasten links --cube alice n_3f9a0c1d2e4b5a69\n"
        "  kasten links --cube alice --note n_3f9a0c1d2e4b5a69 --json\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"note", "ID", "the note"},
        {"json", "", "print JSON"},
    };
    c.run = run_links;
    return c;
}

}  // namespace kasten::api
