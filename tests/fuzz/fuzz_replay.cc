// Replays fuzz corpora without libFuzzer: `fuzz_replay <target> <file or directory>...` runs the target's
// LLVMFuzzerTestOneInput (each target's source is compiled with that symbol renamed to kasten_fuzz_<target>, see
// tests/fuzz/CMakeLists.txt) on every file given or found (recursively) in the directories, in name order.
// Exit status 0 when every input ran; 1 for a usage error, an unknown target, an unreadable path or no input at all.
// A crash or a failed check in the target aborts the process, which fails the test.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#define KASTEN_FUZZ_TARGET(name) extern "C" int kasten_fuzz_##name(const std::uint8_t* data, std::size_t size);
#include "tests/fuzz/fuzz_targets.inc"
#undef KASTEN_FUZZ_TARGET

namespace {

using TargetFn = int (*)(const std::uint8_t*, std::size_t);
struct Target {
    std::string_view name;
    TargetFn fn;
};
constexpr Target kTargets[] = {
#define KASTEN_FUZZ_TARGET(name) {#name, &kasten_fuzz_##name},
#include "tests/fuzz/fuzz_targets.inc"
#undef KASTEN_FUZZ_TARGET
};

}  // namespace

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    if (argc < 3) {
        std::fprintf(stderr, "usage: fuzz_replay <target> <file or directory>...\ntargets:");
        for (const Target& t : kTargets) std::fprintf(stderr, " %.*s", static_cast<int>(t.name.size()), t.name.data());
        std::fprintf(stderr, "\n");
        return 1;
    }
    const std::string_view wanted = argv[1];
    const auto it =
        std::find_if(std::begin(kTargets), std::end(kTargets), [&](const Target& t) { return t.name == wanted; });
    if (it == std::end(kTargets)) {
        std::fprintf(stderr, "fuzz_replay: unknown target %s\n", argv[1]);
        return 1;
    }
    std::vector<fs::path> files;
    for (int i = 2; i < argc; ++i) {
        std::error_code ec;
        const fs::path p = argv[i];
        if (fs::is_directory(p, ec)) {
            for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
                if (e.is_regular_file()) files.push_back(e.path());
            }
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        }
        if (ec) {
            std::fprintf(stderr, "fuzz_replay: cannot read %s: %s\n", argv[i], ec.message().c_str());
            return 1;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "fuzz_replay: no input files\n");
        return 1;
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) {
            std::fprintf(stderr, "fuzz_replay: cannot read %s\n", f.c_str());
            return 1;
        }
        std::fprintf(stderr, "%s\n", f.c_str());
        it->fn(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("fuzz_replay %s: %zu inputs, no crash\n", argv[1], files.size());
    return 0;
}
