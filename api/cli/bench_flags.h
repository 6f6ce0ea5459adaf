#pragma once

#include <string>
#include <vector>

namespace kasten::api {

// The command line of one `kasten bench` benchmark: "--name N" integers, "--name VALUE" strings and "--name"
// switches, each bound to a variable that keeps its default when the flag is absent. The global flags
// (--data-dir, --config, --log-level) are accepted and ignored (benchmarks use temporary data dirs of their own).
class BenchFlags {
  public:
    // `command` names the benchmark in messages ("bench search"); `usage` is printed for --help and on errors.
    BenchFlags(std::string command, std::string usage);

    void integer(const std::string& name, long long* value);
    void text(const std::string& name, std::string* value);
    // Sets *value to `when_given` when the switch is present.
    void toggle(const std::string& name, bool* value, bool when_given = true);

    enum class Outcome { kParsed, kHelp, kError };
    // Parses argv[first..argc). kHelp: usage printed on stdout (exit 0); kError: the problem and the usage printed
    // on stderr (exit 2).
    Outcome parse(int argc, char** argv, int first) const;
    // The exit code for an outcome other than kParsed.
    static int exit_code(Outcome outcome) { return outcome == Outcome::kHelp ? 0 : 2; }

  private:
    enum class Kind { kInteger, kText, kToggle };
    struct Flag {
        std::string name;  // with dashes: "--turns"
        Kind kind;
        long long* integer = nullptr;
        std::string* text = nullptr;
        bool* toggle = nullptr;
        bool when_given = true;
    };
    const Flag* find(const std::string& name) const;

    std::string command_;
    std::string usage_;
    std::vector<Flag> flags_;
};

}  // namespace kasten::api
