#include "api/cli/cli.h"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "api/cli/bench_command.h"
#include "api/cli/command.h"
#include "api/cli/eval_command.h"
#include "api/cli/model_command.h"

namespace kasten::api {
namespace {

const std::vector<Command>& commands() {
    static const std::vector<Command> kCommands = {
        serve_command(),   chat_command(),    add_command(),        search_command(),
        context_command(), list_command(),    show_command(),       history_command(),
        links_command(),   jobs_command(),    forget_command(),     export_command(),
        import_command(),  reindex_command(), embeddings_command(), mcp_command(),
    };
    return kCommands;
}

const Command* find_command(const std::string& name) {
    for (const auto& c : commands()) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

std::string main_help() {
    std::string out = "kasten " KASTEN_VERSION
                      " - long-term memory for chat assistants\n\n"
                      "Usage: kasten [global options] COMMAND [options] [arguments]\n\nCommands:\n";
    for (const auto& c : commands()) out += fmt::format("  {:<12} {}\n", c.name, c.summary);
    out += fmt::format("  {:<12} {}\n", "eval", "Run LongMemEval retrieval evaluations (kasten eval --help).");
    out += fmt::format("  {:<12} {}\n", "bench",
                       "Benchmark search, appends, HTTP load and decoding (kasten bench --help).");
    out += fmt::format("  {:<12} {}\n", "model", "Inspect, convert and run language models (kasten model --help).");
    out += fmt::format("  {:<12} {}\n", "help", "Show help for a command.");
    out += "\nGlobal options (also accepted after the command):\n";
    for (const auto& f : global_flags()) {
        out += fmt::format("  {:<22} {}\n", "--" + f.name + " " + f.value_name, f.help);
    }
    out += fmt::format("  {:<22} {}\n", "--version", "print the version");
    out +=
        "\nExamples:\n"
        "  kasten serve --port 8420\n"
        "  kasten add --cube alice \"I moved to Lisbon last spring\"\n"
        "  kasten search --cube alice where do I live\n"
        "  kasten list --cube alice --what notes\n"
        "  kasten jobs --cube alice\n"
        "  kasten help search\n"
        "\nRun 'kasten help COMMAND' or 'kasten COMMAND --help' for a command's options.\n";
    return out;
}

bool is_global_value_flag(const std::string& name) {
    for (const auto& f : global_flags()) {
        if (f.name == name) return true;
    }
    return false;
}

// Runs a command implemented outside the Command table (bench, eval) with argv = {name, rest..., globals...}.
int run_external(const char* name, int (*fn)(int, char**), const std::vector<std::string>& rest,
                 const std::vector<std::string>& globals) {
    std::vector<std::string> args = {name};
    args.insert(args.end(), rest.begin(), rest.end());
    args.insert(args.end(), globals.begin(), globals.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return fn(static_cast<int>(args.size()), argv.data());
}

int run_bench(const std::vector<std::string>& rest, const std::vector<std::string>& globals) {
    return run_external("bench", run_bench_command, rest, globals);
}

int run_eval(const std::vector<std::string>& rest, const std::vector<std::string>& globals) {
    return run_external("eval", run_eval_command, rest, globals);
}

int run_model(const std::vector<std::string>& rest, const std::vector<std::string>& globals) {
    return run_external("model", run_model_command, rest, globals);
}

int dispatch(const std::vector<std::string>& args) {
    // Global options before the command.
    std::vector<std::string> globals;
    size_t i = 0;
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
        const std::string& a = args[i];
        if (a == "-h" || a == "--help") {
            std::cout << main_help();
            return kExitOk;
        }
        if (a == "--version") {
            std::cout << "kasten " KASTEN_VERSION "\n";
            return kExitOk;
        }
        const std::string name =
            a.rfind("--", 0) == 0 ? a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2)
                                  : a;
        if (!is_global_value_flag(name)) {
            std::cerr << "kasten: unknown option '" << a << "'\nRun 'kasten --help' for usage.\n";
            return kExitUsage;
        }
        globals.push_back(a);
        if (a.find('=') == std::string::npos) {
            if (i + 1 >= args.size()) {
                std::cerr << "kasten: option '" << a << "' needs a value\n";
                return kExitUsage;
            }
            globals.push_back(args[++i]);
        }
        ++i;
    }
    if (i >= args.size()) {
        std::cerr << main_help();
        return kExitUsage;
    }
    const std::string name = args[i++];
    std::vector<std::string> rest(args.begin() + static_cast<long>(i), args.end());

    if (name == "help") {
        if (rest.empty()) {
            std::cout << main_help();
            return kExitOk;
        }
        if (rest[0] == "model") {
            std::vector<std::string> sub(rest.begin() + 1, rest.end());
            sub.push_back("--help");
            return run_model(sub, {});
        }
        if (rest.size() > 1) {
            std::cerr << "kasten help: give one command\n";
            return kExitUsage;
        }
        if (rest[0] == "bench") return run_bench({"--help"}, {});
        if (rest[0] == "eval") return run_eval({"--help"}, {});
        const Command* c = find_command(rest[0]);
        if (c == nullptr) {
            std::cerr << "kasten help: unknown command '" << rest[0] << "'\nRun 'kasten --help' for the list.\n";
            return kExitUsage;
        }
        std::cout << command_help(*c);
        return kExitOk;
    }
    if (name == "bench") return run_bench(rest, globals);
    if (name == "eval") return run_eval(rest, globals);
    if (name == "model") return run_model(rest, globals);

    const Command* c = find_command(name);
    if (c == nullptr) {
        std::cerr << "kasten: unknown command '" << name << "'\nRun 'kasten --help' for the list of commands.\n";
        return kExitUsage;
    }
    std::vector<std::string> all = globals;
    all.insert(all.end(), rest.begin(), rest.end());
    Result<ParsedArgs> parsed = ArgParser(c->flags).parse(all);
    if (!parsed.is_ok()) return usage_error(c->name, parsed.status().message());
    if (parsed.value().help) {
        std::cout << command_help(*c);
        return kExitOk;
    }
    return c->run(parsed.value());
}

}  // namespace

int run_cli(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    try {
        return dispatch(args);
    } catch (const std::exception& e) {
        std::cerr << "kasten: internal error: " << e.what() << "\n";
        return kExitFailure;
    }
}

}  // namespace kasten::api
