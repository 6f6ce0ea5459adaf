#include "api/cli/eval_cv_command.h"

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/cli/arg_parser.h"
#include "api/cli/command.h"
#include "api/cli/split_list.h"
#include "eval/cross_validation.h"

namespace kasten::api {
namespace {

constexpr const char* kCvUsage = R"(usage: kasten eval cv --runs DIR,DIR[,...] --retriever NAME --metric PATH [options]

k-fold cross-validation of choosing among runs of one benchmark on one data file, e.g. runs that differ in one
search setting (kasten eval ... --tune note_key_weight=0.25). The questions scored in every run are shuffled (--seed)
and dealt to --folds folds; for each fold the run with the best mean on the other folds is chosen and scored on the
held-out fold. Prints each run's mean, each fold's choice with its training and held-out score, the held-out
estimate of the choice with the folds' standard deviation, and the recommendation: the run every fold chose, or,
when the folds disagree, the first run (list the default first: where the folds disagree, keep it simple).

options:
  --runs LIST        output directories of `kasten eval` runs, comma-separated, the default first (required)
  --retriever NAME   the retriever whose scores are compared, e.g. hybrid+notes (required)
  --metric PATH      dotted path under retrievers.NAME in per_question.jsonl (required):
                     LongMemEval metrics.session.recall_all@5, LoCoMo dialogue.recall@10, ConvoMem message.recall@10
  --where FILTERS    keep records whose top-level fields have these JSON values: field=v1,v2 joined by ';'
                     (LongMemEval strict: "abstention=false;user_side_evidence=true"; LoCoMo categories 1-4:
                     "category=1,2,3,4")
  --folds K          folds (default 5)
  --seed N           shuffle seed (default 1)
  --out FILE         also write the result as JSON
)";

Result<std::vector<eval::CvWhere>> parse_where(const std::string& text) {
    std::vector<eval::CvWhere> out;
    for (const auto& part : split_list(text, ';')) {
        const std::size_t eq = part.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) {
            return Status::invalid_argument("--where: '" + part + "' is not field=value[,value...]");
        }
        eval::CvWhere w;
        w.field = part.substr(0, eq);
        for (const auto& v : split_list(part.substr(eq + 1), ',')) {
            // Bare words that are not JSON (question types) are compared as JSON strings.
            const auto parsed = nlohmann::json::parse(v, nullptr, /*allow_exceptions=*/false);
            w.values.push_back(parsed.is_discarded() ? nlohmann::json(v).dump() : parsed.dump());
        }
        out.push_back(std::move(w));
    }
    return out;
}

}  // namespace

int run_eval_cv(int argc, char** argv) {
    const std::string name = "eval cv";
    std::vector<std::string> raw(argv + 1, argv + argc);
    const std::vector<FlagSpec> flags = {{"runs", "LIST", "run output directories, the default first"},
                                         {"retriever", "NAME", "retriever compared"},
                                         {"metric", "PATH", "dotted metric path under retrievers.NAME"},
                                         {"where", "FILTERS", "field=v1,v2;field=v"},
                                         {"folds", "K", "folds (default 5)"},
                                         {"seed", "N", "shuffle seed (default 1)"},
                                         {"out", "FILE", "JSON output"}};
    auto parsed = ArgParser(flags).parse(raw);
    if (!parsed) return usage_error(name, parsed.status().message());
    const ParsedArgs& args = *parsed;
    if (args.help) {
        std::cout << kCvUsage;
        return kExitOk;
    }
    if (!args.positionals.empty()) return usage_error(name, "unexpected argument '" + args.positionals[0] + "'");
    const auto runs_flag = args.get("runs");
    const auto retriever = args.get("retriever");
    const auto metric = args.get("metric");
    if (!runs_flag || split_list(*runs_flag, ',').empty()) return usage_error(name, "--runs DIR,DIR is required");
    if (!retriever || retriever->empty()) return usage_error(name, "--retriever NAME is required");
    if (!metric || metric->empty()) return usage_error(name, "--metric PATH is required");
    int folds = 5;
    if (auto f = args.get("folds")) {
        auto v = parse_int_flag("folds", *f, 2, 1000);
        if (!v) return usage_error(name, v.status().message());
        folds = *v;
    }
    int seed = 1;
    if (auto s = args.get("seed")) {
        auto v = parse_int_flag("seed", *s, 0, 1 << 30);
        if (!v) return usage_error(name, v.status().message());
        seed = *v;
    }
    std::vector<eval::CvWhere> where;
    if (auto w = args.get("where")) {
        auto v = parse_where(*w);
        if (!v) return usage_error(name, v.status().message());
        where = *v;
    }

    std::vector<eval::CvRun> runs;
    for (const auto& dir : split_list(*runs_flag, ',')) {
        auto run = eval::load_cv_run(dir, *retriever, *metric, where);
        if (!run) return failure(name, run.status());
        runs.push_back(std::move(*run));
    }
    auto result = eval::cross_validate(runs, folds, static_cast<std::uint64_t>(seed));
    if (!result) return failure(name, result.status());
    const eval::CvResult& cv = *result;

    std::cout << fmt::format("{} of {} ({}), {} questions in every run, {} folds, seed {}\n", *metric, *retriever,
                             where.empty() ? "all records" : *args.get("where"), cv.questions, folds, seed);
    for (std::size_t r = 0; r < runs.size(); ++r) {
        std::cout << fmt::format("  run {}: mean {:.4f}, chosen by {} of {} folds  {}\n", r, cv.run_means[r],
                                 cv.times_chosen[r], folds, runs[r].label);
    }
    for (std::size_t f = 0; f < cv.folds.size(); ++f) {
        const auto& fold = cv.folds[f];
        std::cout << fmt::format("  fold {}: {} held out, chose run {} (training {:.4f}), held-out {:.4f}\n", f,
                                 fold.questions, fold.chosen, fold.train_score, fold.test_score);
    }
    std::cout << fmt::format("held-out estimate of the choice: {:.4f} (fold sd {:.4f}); run 0 alone: {:.4f}\n",
                             cv.estimate, cv.fold_sd, cv.run_means[0]);
    std::cout << (cv.folds_agree ? fmt::format("the folds agree: run {}\n", cv.recommended)
                                 : std::string("the folds disagree: keep run 0 (the default)\n"));

    if (auto out = args.get("out")) {
        nlohmann::ordered_json j;
        j["metric"] = *metric;
        j["retriever"] = *retriever;
        j["where"] = args.get("where").value_or("");
        j["folds"] = folds;
        j["seed"] = seed;
        j["questions"] = cv.questions;
        nlohmann::ordered_json rs = nlohmann::ordered_json::array();
        for (std::size_t r = 0; r < runs.size(); ++r) {
            rs.push_back({{"label", runs[r].label}, {"mean", cv.run_means[r]}, {"times_chosen", cv.times_chosen[r]}});
        }
        j["runs"] = rs;
        nlohmann::ordered_json fs = nlohmann::ordered_json::array();
        for (const auto& fold : cv.folds) {
            fs.push_back({{"held_out", fold.questions},
                          {"chosen", fold.chosen},
                          {"train_score", fold.train_score},
                          {"test_score", fold.test_score}});
        }
        j["per_fold"] = fs;
        j["estimate"] = cv.estimate;
        j["fold_sd"] = cv.fold_sd;
        j["folds_agree"] = cv.folds_agree;
        j["recommended"] = cv.recommended;
        std::ofstream f(*out);
        f << j.dump(2) << "\n";
        if (!f) return failure(name, Status::io_error("cannot write " + *out));
    }
    return kExitOk;
}

}  // namespace kasten::api
