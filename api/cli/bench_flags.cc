#include "api/cli/bench_flags.h"

#include <iostream>

#include "api/cli/bench_support.h"

namespace kasten::api {

BenchFlags::BenchFlags(std::string command, std::string usage)
    : command_(std::move(command)), usage_(std::move(usage)) {}

void BenchFlags::integer(const std::string& name, long long* value) {
    flags_.push_back({name, Kind::kInteger, value, nullptr, nullptr, true});
}

void BenchFlags::text(const std::string& name, std::string* value) {
    flags_.push_back({name, Kind::kText, nullptr, value, nullptr, true});
}

void BenchFlags::toggle(const std::string& name, bool* value, bool when_given) {
    flags_.push_back({name, Kind::kToggle, nullptr, nullptr, value, when_given});
}

const BenchFlags::Flag* BenchFlags::find(const std::string& name) const {
    for (const auto& f : flags_) {
        if (f.name == name) return &f;
    }
    return nullptr;
}

BenchFlags::Outcome BenchFlags::parse(int argc, char** argv, int first) const {
    auto fail = [&](const std::string& message) {
        std::cerr << "kasten " << command_ << ": " << message << "\n" << usage_;
        return Outcome::kError;
    };
    for (int i = first; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << usage_;
            return Outcome::kHelp;
        }
        if (a == "--data-dir" || a == "--config" || a == "--log-level") {
            if (i + 1 >= argc) return fail(a + " needs a value");
            ++i;
            continue;
        }
        const Flag* f = find(a);
        if (f == nullptr) return fail("unknown option '" + a + "'");
        if (f->kind == Kind::kToggle) {
            *f->toggle = f->when_given;
            continue;
        }
        if (i + 1 >= argc) return fail(a + " needs a value");
        const char* value = argv[++i];
        if (f->kind == Kind::kText) {
            *f->text = value;
        } else if (!parse_long(value, f->integer)) {
            return fail(a + " needs an integer, not '" + value + "'");
        }
    }
    return Outcome::kParsed;
}

}  // namespace kasten::api
