#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/dto/request_parser.h"
#include "common/result.h"

namespace kasten::api {

// One command-line flag: "--name VALUE" (or "--name=VALUE") when it takes a value, else "--name".
struct FlagSpec {
    std::string name;        // without dashes: "top-k"
    std::string value_name;  // "" = a switch without value; else shown in help ("N")
    std::string help;
};

// What the parser found.
struct ParsedArgs {
    std::map<std::string, std::string> values;  // flag -> value ("" for switches); the last one wins
    std::vector<std::string> positionals;       // in order; everything after "--" is positional
    bool help = false;                          // -h or --help was given

    bool has(const std::string& name) const { return values.count(name) != 0; }
    std::optional<std::string> get(const std::string& name) const;
};

// The global flags every command accepts: --data-dir, --config, --embedder, --log-level.
const std::vector<FlagSpec>& global_flags();

// Parses a command's arguments against its flags (plus the global ones). Unknown flags, a missing value and a value
// given to a switch are kInvalidArgument (the CLI exits 2 on them). Stateless; thread-safe.
class ArgParser {
  public:
    explicit ArgParser(std::vector<FlagSpec> flags);

    Result<ParsedArgs> parse(const std::vector<std::string>& args) const;

    // "  --top-k N         results to return (default 10)" lines, globals last.
    std::string flag_help() const;

  private:
    const FlagSpec* find(const std::string& name) const;
    std::vector<FlagSpec> flags_;
};

// Parses a whole number in [lo, hi] given to --flag; kInvalidArgument naming the flag otherwise.
Result<int> parse_int_flag(const std::string& flag, const std::string& text, int lo, int hi);
// Parses a number in [0, 1] given to --flag; kInvalidArgument naming the flag otherwise.
Result<double> parse_fraction_flag(const std::string& flag, const std::string& text);

// A listing's page from --limit 1..1000 (default 50) and --offset 0.. (default 0), the REST listing's Paging;
// kInvalidArgument naming the flag when either is out of range.
Result<Paging> parse_paging(const ParsedArgs& args);

}  // namespace kasten::api
