#include "api/cli/eval_command.h"

#include <fmt/format.h>

#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/cli/arg_parser.h"
#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "eval/longmemeval_report.h"
#include "eval/longmemeval_runner.h"

namespace kasten::api {
namespace {

constexpr const char* kEvalUsage = R"(usage: kasten eval BENCHMARK [options]

Runs a benchmark's official evaluation protocol against kasten. Benchmarks:
  longmemeval   LongMemEval retrieval (kasten eval longmemeval --help)
)";

constexpr const char* kLongMemEvalUsage = R"(usage: kasten eval longmemeval --data FILE --out DIR [options]

Official LongMemEval retrieval evaluation (xiaowu0162/LongMemEval, src/retrieval). The data file (longmemeval_s,
_m or _oracle; a JSON array) is streamed one question at a time. For each question the official corpus is built
(user turns only; session or turn documents; the noans rewrite), every retriever ranks it, and the rankings are
scored with the official recall_any@k, recall_all@k and ndcg_any@k (k = 1, 3, 5, 10, 30, 50). Kasten retrievers
ingest the question's haystack into a fresh in-memory cube (sessions in date order, with their dates) through
MemoryManager. Two averages are reported, each labelled: strict (skips abstention questions and questions without
user-side evidence) and no_abs (skips abstention questions only), overall and per question type. The bm25
baseline always runs beside the others.

Writes DIR/per_question.jsonl, DIR/metrics.json, DIR/report.md and DIR/recall.svg; prints a summary.

options:
  --data FILE           the official JSON file (required)
  --out DIR             output directory, created when missing (required)
  --granularity G       session | turn (default session); turn runs are also scored at session level
  --retriever LIST      comma-separated: bm25, lexical, vector, hybrid (default bm25,hybrid)
  --limit N             evaluate the first N selected questions only
  --types LIST          comma-separated question types, full or short: ssu, ssa, ssp, ms, ku, tr
  --threads N           questions evaluated in parallel (default: the number of cores)
  --quiet               no progress bar
  --embedder KIND       auto | glove | hashing (global option; default from the configuration)

example:
  kasten eval longmemeval --data longmemeval_s.json --out runs/lme-s --retriever bm25,hybrid
)";

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        size_t b = item.find_first_not_of(' ');
        size_t e = item.find_last_not_of(' ');
        if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    }
    return out;
}

std::string quote_arg(const std::string& a) {
    if (!a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos) return a;
    std::string q = "'";
    for (char c : a) {
        if (c == '\'')
            q += "'\\''";
        else
            q.push_back(c);
    }
    return q + "'";
}

// Like usage_error(), pointing at this subcommand's own --help.
int eval_usage_error(const std::string& message) {
    std::cerr << "kasten eval longmemeval: " << message << "\nRun 'kasten eval longmemeval --help' for usage.\n";
    return kExitUsage;
}

std::vector<FlagSpec> longmemeval_flags() {
    return {{"data", "FILE", "the official JSON file (required)"},
            {"out", "DIR", "output directory (required)"},
            {"granularity", "G", "session | turn (default session)"},
            {"retriever", "LIST", "bm25, lexical, vector, hybrid (default bm25,hybrid)"},
            {"limit", "N", "evaluate the first N selected questions only"},
            {"types", "LIST", "question types: ssu, ssa, ssp, ms, ku, tr (or full names)"},
            {"threads", "N", "questions in parallel (default: number of cores)"},
            {"quiet", "", "no progress bar"}};
}

int run_longmemeval(int argc, char** argv, const std::string& command_line) {
    const std::string name = "eval longmemeval";
    std::vector<std::string> raw(argv + 2, argv + argc);
    auto parsed = ArgParser(longmemeval_flags()).parse(raw);
    if (!parsed) return eval_usage_error(parsed.status().message());
    const ParsedArgs& args = *parsed;
    if (args.help) {
        std::cout << kLongMemEvalUsage;
        return kExitOk;
    }
    if (!args.positionals.empty()) return eval_usage_error("unexpected argument '" + args.positionals[0] + "'");
    auto data = args.get("data");
    auto out = args.get("out");
    if (!data || data->empty()) return eval_usage_error("--data FILE is required");
    if (!out || out->empty()) return eval_usage_error("--out DIR is required");

    eval::LongMemEvalOptions options;
    options.data_path = *data;
    if (auto g = args.get("granularity")) {
        if (!eval::parse_corpus_granularity(*g, &options.granularity)) {
            return eval_usage_error("--granularity must be session or turn, not '" + *g + "'");
        }
    }
    if (auto r = args.get("retriever")) {
        options.retrievers = split_list(*r);
        if (options.retrievers.empty()) return eval_usage_error("--retriever needs at least one retriever");
        for (const auto& x : options.retrievers) {
            if (!eval::is_longmemeval_retriever(x)) {
                return eval_usage_error("unknown retriever '" + x + "' (available: bm25, lexical, vector, hybrid)");
            }
        }
        if (std::find(options.retrievers.begin(), options.retrievers.end(), "bm25") == options.retrievers.end()) {
            options.retrievers.insert(options.retrievers.begin(), "bm25");
            std::cerr << "kasten eval longmemeval: the bm25 baseline runs beside " << *r << "\n";
        }
    }
    if (auto l = args.get("limit")) {
        auto v = parse_int_flag("limit", *l, 1, 1000000000);
        if (!v) return eval_usage_error(v.status().message());
        options.limit = *v;
    }
    if (auto t = args.get("types")) {
        for (const auto& x : split_list(*t)) {
            auto type = eval::canonical_question_type(x);
            if (!type) {
                return eval_usage_error("unknown question type '" + x + "' (ssu, ssa, ssp, ms, ku, tr or full names)");
            }
            options.types.push_back(*type);
        }
    }
    options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (auto t = args.get("threads")) {
        auto v = parse_int_flag("threads", *t, 1, 256);
        if (!v) return eval_usage_error(v.status().message());
        options.threads = *v;
    }
    options.progress = !args.has("quiet");

    auto config = load_cli_config(args, {}, false);
    if (!config) return failure(name, config.status());
    bool kasten_retriever = false;
    for (const auto& r : options.retrievers) kasten_retriever = kasten_retriever || r != "bm25";
    if (kasten_retriever) {
        auto embedder = create_configured_embedder(*config);
        if (!embedder) return failure(name, embedder.status());
        options.embedder = *embedder;
        std::cerr << "kasten eval longmemeval: embedder " << options.embedder->id() << "\n";
    }

    auto run = eval::run_longmemeval(options);
    if (!run) return failure(name, run.status());
    eval::LongMemEvalReport report(*run, command_line);
    Status st = report.write(*out);
    if (!st.is_ok()) return failure(name, st);

    const char* primary = options.granularity == eval::CorpusGranularity::kTurn ? "turn" : "session";
    std::cout << fmt::format("LongMemEval {} run: {} questions in {:.1f} s\n", primary, run->questions.size(),
                             run->wall_seconds);
    std::vector<std::string> levels = {primary};
    if (options.granularity == eval::CorpusGranularity::kTurn) levels.push_back("session");
    for (const auto& level : levels) {
        for (const char* avg : {"strict", "no_abs"}) {
            for (const auto& [retriever, per_level] : report.averages()) {
                auto it = per_level.find(level);
                if (it == per_level.end()) continue;
                const auto& a = std::string(avg) == "strict" ? it->second.strict : it->second.no_abs;
                auto m = [&](const char* k) {
                    auto v = a.mean.find(k);
                    return v == a.mean.end() ? 0.0 : v->second;
                };
                std::cout << fmt::format(
                    "  {:<8} {:<7} {:<6} n={:<4} recall_all@5 {:.3f}  ndcg_any@5 {:.3f}  recall_all@10 {:.3f}  "
                    "ndcg_any@10 {:.3f}\n",
                    level, retriever, avg, a.n, m("recall_all@5"), m("ndcg_any@5"), m("recall_all@10"),
                    m("ndcg_any@10"));
            }
        }
    }
    std::cout << "outputs: " << *out << "/{per_question.jsonl, metrics.json, report.md, recall.svg}\n";
    return kExitOk;
}

}  // namespace

int run_eval_command(int argc, char** argv) {
    // argv[0] = "eval"
    std::string command_line = "kasten";
    for (int i = 0; i < argc; ++i) command_line += " " + quote_arg(argv[i]);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
        std::string(argv[1]) == "help") {
        std::cout << kEvalUsage;
        return argc < 2 ? kExitUsage : kExitOk;
    }
    const std::string benchmark = argv[1];
    if (benchmark == "longmemeval") return run_longmemeval(argc, argv, command_line);
    std::cerr << "kasten eval: unknown benchmark '" << benchmark << "'\n" << kEvalUsage;
    return kExitUsage;
}

}  // namespace kasten::api
