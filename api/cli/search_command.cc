#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "common/timestamp.h"
#include "memory/score_calibrator.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "search";

// First `max` code points of one line of text, with "…" when cut.
std::string snippet(const std::string& text, size_t max) {
    std::string out;
    size_t points = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if ((c & 0xC0) != 0x80 && points++ == max) {
            out += "…";
            return out;
        }
        out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : text[i]);
    }
    return out;
}

int run_search(const ParsedArgs& args) {
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required");
    if (args.positionals.empty()) return usage_error(kName, "QUERY is required");
    memory::SearchRequest request;
    request.cube_id = *cube;
    for (size_t i = 0; i < args.positionals.size(); ++i) request.query += (i == 0 ? "" : " ") + args.positionals[i];
    if (auto g = args.get("granularity"); g && !memory::parse_granularity(*g, &request.granularity)) {
        return usage_error(kName, "--granularity must be turn, session or note");
    }
    if (auto r = args.get("retriever"); r && !memory::parse_retriever(*r, &request.retriever)) {
        return usage_error(kName, "--retriever must be lexical, vector or hybrid");
    }
    if (auto t = args.get("as-of")) {
        if (request.granularity != memory::Granularity::kNote)
            return usage_error(kName, "--as-of needs --granularity note");
        Result<TimeMs> as_of = parse_timestamp(*t);
        if (!as_of.is_ok()) return usage_error(kName, "--as-of: " + as_of.status().message());
        request.as_of = as_of.value();
    }
    request.min_score = memory::kDefaultMinScore;
    if (auto m = args.get("min-score")) {
        Result<double> min_score = parse_fraction_flag("min-score", *m);
        if (!min_score.is_ok()) return usage_error(kName, min_score.status().message());
        request.min_score = min_score.value();
    }
    request.note_keys = !args.has("no-note-keys");
    request.expand_links = !args.has("no-links");
    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    if (auto k = args.get("top-k")) {
        Result<int> top_k = parse_int_flag("top-k", *k, 1, rt.value().config.max_top_k);
        if (!top_k.is_ok()) return usage_error(kName, top_k.status().message());
        request.top_k = top_k.value();
    }
    Result<std::vector<memory::SearchHit>> hits = rt.value().memory->search(request);
    if (!hits.is_ok()) return failure(kName, hits.status());
    if (args.has("json")) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& h : hits.value()) out.push_back(hit_to_json(h));
        std::cout << dump_json({{"hits", std::move(out)}}, 2) << "\n";
        return kExitOk;
    }
    if (hits.value().empty()) {
        std::cout << "no results\n";
        return kExitOk;
    }
    int rank = 0;
    for (const auto& h : hits.value()) {
        std::string where = format_timestamp(h.time);
        if (!h.role.empty()) where += ", " + h.role;
        if (!h.session_id.empty()) where += ", session " + h.session_id;
        std::cout << fmt::format("{:>3}. {:.4f}  {}  ({})\n     {}\n", ++rank, h.score, h.id, where,
                                 snippet(h.text, 200));
    }
    return kExitOk;
}

}  // namespace

Command search_command() {
    Command c;
    c.name = kName;
    c.summary = "Search a cube's memory.";
    c.usage =
        "kasten search --cube C [--granularity G] [--top-k N] [--retriever R] [--min-score S] [--as-of T] "
        "[--no-note-keys] "
        "[--no-links] [--json] QUERY...";
    c.details =
        "Prints the best hits, best first: rank, score, id, time, role and session, and the text.\n"
        "The score is calibrated relevance in [0, 1] (docs/retrieval.md): 0 = no query term in the unit and no\n"
        "closer to the query than unrelated text; hits below --min-score (default 0.1) are not listed, so a query\n"
        "unrelated to the cube prints \"no results\".\n"
        "Turns and sessions are also found through the notes built from them (--no-note-keys: their own text only).\n"
        "Notes: the current (active) ones, plus the notes linked to the hits (--no-links: direct hits only); with\n"
        "--as-of T, the notes valid at world time T (valid_from <= T < valid_to), superseded ones included.";
    c.examples =
        "  kasten search --cube alice where do I live\n"
        "  kasten search --cube alice --granularity session --top-k 3 \"trip to Portugal\"\n"
        "  kasten search --cube alice --retriever lexical --json Lisbon\n"
        "  kasten search --cube alice --granularity note --as-of 2023-02-01 where does the user live\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"granularity", "G", "turn | session | note (default turn)"},
        {"top-k", "N", "number of hits (default 10)"},
        {"retriever", "R", "lexical | vector | hybrid (default hybrid)"},
        {"min-score", "S", "list only hits scoring at least S, in [0, 1] (default 0.1; 0 = the full ranking)"},
        {"as-of", "T", "notes: as they stood at world time T (ISO-8601)"},
        {"no-note-keys", "", "turns/sessions: do not match through their notes"},
        {"no-links", "", "notes: do not add linked notes"},
        {"json", "", "print the hits as JSON"},
    };
    c.run = run_search;
    return c;
}

}  // namespace kasten::api
