#include "api/cli/command.h"

#include <iostream>

namespace kasten::api {

std::string command_help(const Command& command) {
    std::string out = "Usage: " + command.usage + "\n\n" + command.summary + "\n";
    if (!command.details.empty()) out += "\n" + command.details + "\n";
    out += "\nOptions:\n" + ArgParser(command.flags).flag_help();
    if (!command.examples.empty()) out += "\nExamples:\n" + command.examples;
    if (!out.empty() && out.back() != '\n') out += "\n";
    return out;
}

int usage_error(const std::string& command, const std::string& message) {
    std::cerr << "kasten " << command << ": " << message << "\nRun 'kasten help " << command << "' for usage.\n";
    return kExitUsage;
}

Result<NoteTarget> parse_note_target(const ParsedArgs& args) {
    NoteTarget target;
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return Status::invalid_argument("--cube is required");
    target.cube = *cube;
    std::optional<std::string> note = args.get("note");
    if (!note && args.positionals.size() == 1) note = args.positionals[0];
    if (!note || note->empty() || args.positionals.size() > (args.has("note") ? 0u : 1u)) {
        return Status::invalid_argument("give one note id (--note ID or NOTE_ID)");
    }
    target.note = *note;
    return target;
}

int failure(const std::string& command, const Status& status) {
    // A bad flag value (load_config names it "flag --x: ...") is a usage error.
    if (status.code() == StatusCode::kInvalidArgument && status.message().rfind("flag --", 0) == 0) {
        return usage_error(command, status.message());
    }
    std::cerr << "kasten " << command << ": error: " << status.message() << " (" << status_code_name(status.code())
              << ")\n";
    return kExitFailure;
}

}  // namespace kasten::api
