#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/cli/arg_parser.h"
#include "common/result.h"
#include "common/status.h"

namespace kasten::api {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // operational errors (not found, busy, I/O, ...)
inline constexpr int kExitUsage = 2;    // unknown commands or flags, missing or conflicting arguments

// One `kasten` subcommand: its help text, its flags and what it runs. run() gets the parsed arguments (help already
// handled) and returns the process exit code; it prints results on stdout and errors on stderr.
struct Command {
    std::string name;
    std::string summary;   // one line, for `kasten --help`
    std::string usage;     // "kasten add --cube C [--session S] TEXT..."
    std::string details;   // paragraphs after the usage line
    std::string examples;  // one example per line
    std::vector<FlagSpec> flags;
    std::function<int(const ParsedArgs&)> run;
};

// The full help of a command: usage, details, flags (with the global ones) and examples.
std::string command_help(const Command& command);

// Prints "kasten <command>: <message>" and a pointer to the help on stderr; returns kExitUsage.
int usage_error(const std::string& command, const std::string& message);
// Prints "kasten <command>: error: <message>" on stderr; returns kExitFailure. A bad flag value reported by
// load_config ("flag --port: ...") goes to usage_error instead.
int failure(const std::string& command, const Status& status);

// The note a command works on: --cube C and one note id, given as --note ID or as the single positional NOTE_ID.
struct NoteTarget {
    std::string cube;
    std::string note;
};
// kInvalidArgument with the message for usage_error when --cube or the note id is missing or doubled.
Result<NoteTarget> parse_note_target(const ParsedArgs& args);

// The commands, one factory per file (api/cli/<name>_command.cc).
Command serve_command();
Command add_command();
Command search_command();
Command context_command();
Command chat_command();
Command list_command();
Command show_command();
Command history_command();
Command links_command();
Command jobs_command();
Command forget_command();
Command export_command();
Command import_command();
Command reindex_command();
Command embeddings_command();
Command mcp_command();

}  // namespace kasten::api
