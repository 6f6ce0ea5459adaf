#include "api/cli/arg_parser.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

namespace kasten::api {

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
}

const std::vector<FlagSpec>& global_flags() {
    static const std::vector<FlagSpec> kFlags = {
        {"data-dir", "DIR", "data directory (default $KASTEN_HOME or ~/.local/share/kasten)"},
        {"config", "FILE", "JSON configuration file (default <data-dir>/config.json when present)"},
        {"embedder", "KIND", "auto | glove | use | glove+use | hashing (default auto: GloVe when its file exists)"},
        {"log-level", "LEVEL", "debug | info | warn | error | off"},
    };
    return kFlags;
}

ArgParser::ArgParser(std::vector<FlagSpec> flags) : flags_(std::move(flags)) {
    for (const auto& g : global_flags()) flags_.push_back(g);
}

const FlagSpec* ArgParser::find(const std::string& name) const {
    auto it = std::find_if(flags_.begin(), flags_.end(), [&](const FlagSpec& f) { return f.name == name; });
    return it == flags_.end() ? nullptr : &*it;
}

Result<ParsedArgs> ArgParser::parse(const std::vector<std::string>& args) const {
    ParsedArgs out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {
            out.positionals.insert(out.positionals.end(), args.begin() + static_cast<long>(i) + 1, args.end());
            break;
        }
        if (a == "-h" || a == "--help") {
            out.help = true;
            continue;
        }
        if (a.size() < 2 || a[0] != '-' || a == "-") {
            out.positionals.push_back(a);
            continue;
        }
        if (a.rfind("--", 0) != 0) return Status::invalid_argument("unknown option '" + a + "'");
        std::string name = a.substr(2);
        std::optional<std::string> inline_value;
        if (size_t eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const FlagSpec* spec = find(name);
        if (spec == nullptr) return Status::invalid_argument("unknown option '--" + name + "'");
        if (spec->value_name.empty()) {
            if (inline_value) return Status::invalid_argument("option '--" + name + "' takes no value");
            out.values[name] = "";
            continue;
        }
        if (inline_value) {
            out.values[name] = *inline_value;
        } else {
            if (i + 1 >= args.size()) {
                return Status::invalid_argument("option '--" + name + "' needs a value (" + spec->value_name + ")");
            }
            out.values[name] = args[++i];
        }
    }
    return out;
}

std::string ArgParser::flag_help() const {
    std::string out;
    for (const auto& f : flags_) {
        std::string left = "--" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
        out += fmt::format("  {:<22} {}\n", left, f.help);
    }
    out += fmt::format("  {:<22} {}\n", "-h, --help", "show this help");
    return out;
}

Result<Paging> parse_paging(const ParsedArgs& args) {
    Paging paging;
    if (auto v = args.get("limit")) {
        KASTEN_ASSIGN_OR_RETURN(paging.limit, parse_int_flag("limit", *v, 1, 1000));
    }
    if (auto v = args.get("offset")) {
        KASTEN_ASSIGN_OR_RETURN(paging.offset, parse_int_flag("offset", *v, 0, 2000000000));
    }
    return paging;
}

Result<double> parse_fraction_flag(const std::string& flag, const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !(v >= 0.0 && v <= 1.0)) {
        return Status::invalid_argument(fmt::format("--{} expects a number between 0 and 1, got '{}'", flag, text));
    }
    return v;
}

Result<int> parse_int_flag(const std::string& flag, const std::string& text, int lo, int hi) {
    const std::string want = fmt::format("--{} expects a whole number between {} and {}", flag, lo, hi);
    if (text.empty() || text.size() > 10) return Status::invalid_argument(want + ", got '" + text + "'");
    long long v = 0;
    size_t i = 0;
    bool neg = text[0] == '-';
    if (neg) i = 1;
    if (i == text.size()) return Status::invalid_argument(want + ", got '" + text + "'");
    for (; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return Status::invalid_argument(want + ", got '" + text + "'");
        v = v * 10 + (text[i] - '0');
    }
    if (neg) v = -v;
    if (v < lo || v > hi) return Status::invalid_argument(want + ", got " + text);
    return static_cast<int>(v);
}

}  // namespace kasten::api
