#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "eval/progress_bar.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "reindex";

// At most 10 ids per line of the report; --json lists them all.
void print_ids(const char* what, const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    std::string shown;
    for (size_t i = 0; i < ids.size() && i < 10; ++i) shown += (i ? ", " : "") + ids[i];
    if (ids.size() > 10) shown += fmt::format(", … ({} more)", ids.size() - 10);
    std::cout << fmt::format("    {} {}: {}\n", ids.size(), what, shown);
}

void print_report(const memory::ConsistencyReport& report) {
    if (report.consistent()) {
        std::cout << "consistency: OK (store, lexical index and vector index hold the same unit ids in every cube)\n";
        return;
    }
    std::cout << "consistency: MISMATCHES\n";
    std::cout << fmt::format("  {:<24} {:<8} {:>8} {:>8} {:>8}\n", "cube", "unit", "store", "lexical", "vector");
    for (const auto& e : report.mismatches) {
        std::cout << fmt::format("  {:<24} {:<8} {:>8} {:>8} {:>8}\n", e.cube_id, e.unit_type, e.store_count,
                                 e.lexical_count, e.vector_count);
        print_ids("missing from the lexical index", e.missing_lexical);
        print_ids("extra in the lexical index", e.extra_lexical);
        print_ids("missing from the vector index", e.missing_vector);
        print_ids("extra in the vector index", e.extra_vector);
    }
}

int run_reindex(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    const std::string cube = args.get("cube").value_or("");
    if (args.has("cube") && cube.empty()) return usage_error(kName, "--cube needs a cube id");
    const bool check_only = args.has("check-only");
    if (check_only && args.has("cube")) return usage_error(kName, "--check-only checks every cube; drop --cube");
    // --check-only must see the indexes as they are, so the open-time repair is skipped.
    Result<Runtime> rt = open_runtime(args, OpenOptions{/*verify_on_open=*/!check_only});
    if (!rt.is_ok()) return failure(kName, rt.status());
    memory::MemoryManager& m = *rt.value().memory;

    std::optional<memory::ReindexSummary> summary;
    if (!check_only) {
        // The total is known at the first progress call.
        std::optional<eval::ProgressBar> bar;
        auto done = m.reindex(cube, [&](std::int64_t n, std::int64_t total) {
            if (!bar)
                bar.emplace("reindexing " + (cube.empty() ? std::string("all cubes") : "cube " + cube), total, "units");
            if (n > bar->done()) bar->advance(n - bar->done());
        });
        if (bar) bar->finish();
        if (!done.is_ok()) return failure(kName, done.status());
        summary = done.value();
    }
    auto report = m.check_consistency();
    if (!report.is_ok()) return failure(kName, report.status());

    if (args.has("json")) {
        nlohmann::json out = {{"consistency", consistency_report_to_json(report.value())}};
        if (summary) out["reindex"] = reindex_summary_to_json(*summary);
        std::cout << dump_json(out, 2) << "\n";
    } else {
        if (summary) {
            std::cout << fmt::format("reindexed {} cube(s): {} units, {} re-embedded with {}\n", summary->cubes,
                                     summary->units, summary->reembedded, m.embedder_id());
        }
        print_report(report.value());
    }
    if (!report.value().consistent()) {
        std::cerr << "kasten reindex: the indexes disagree with the store"
                  << (check_only ? " (run 'kasten reindex' to rebuild them)\n" : "\n");
        return kExitFailure;
    }
    return kExitOk;
}

}  // namespace

Command reindex_command() {
    Command c;
    c.name = kName;
    c.summary = "Rebuild the lexical and vector indexes from the store, then check them.";
    c.usage = "kasten reindex [--cube C | --check-only] [--json]";
    c.details =
        "Re-indexes one cube (or all), re-embedding vectors that came from another embedder, with progress on\n"
        "stderr, then compares every cube's store counts with both indexes and prints the report. Exits 1 when\n"
        "any disagreement remains. --check-only compares without rebuilding (or repairing at open).";
    c.examples =
        "  kasten reindex\n"
        "  kasten reindex --cube alice --embedder glove\n"
        "  kasten reindex --check-only\n";
    c.flags = {
        {"cube", "C", "only this cube (default: all)"},
        {"check-only", "", "only compare the indexes with the store; rebuild nothing"},
        {"json", "", "print the summary and the consistency report as JSON"},
    };
    c.run = run_reindex;
    return c;
}

}  // namespace kasten::api
