#include "eval/cross_validation.h"

#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

namespace kasten::eval {
namespace {

double mean_of(const CvRun& run, const std::vector<std::string>& ids) {
    if (ids.empty()) return 0;
    double sum = 0;
    for (const auto& id : ids) sum += run.scores.at(id);
    return sum / static_cast<double>(ids.size());
}

}  // namespace

Result<CvResult> cross_validate(const std::vector<CvRun>& runs, int folds, std::uint64_t seed) {
    if (runs.empty()) return Status::invalid_argument("cross-validation needs at least one run");
    if (folds < 2) return Status::invalid_argument("cross-validation needs at least 2 folds");
    std::vector<std::string> ids;
    for (const auto& [id, score] : runs.front().scores) {
        bool everywhere = true;
        for (std::size_t r = 1; r < runs.size() && everywhere; ++r) everywhere = runs[r].scores.count(id) > 0;
        if (everywhere) ids.push_back(id);
    }
    if (ids.size() < static_cast<std::size_t>(folds)) {
        return Status::invalid_argument("cross-validation: " + std::to_string(ids.size()) +
                                        " questions are scored in every run, fewer than the " + std::to_string(folds) +
                                        " folds");
    }
    std::mt19937_64 rng(seed);
    for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng() % i]);

    CvResult out;
    out.questions = ids.size();
    for (const auto& run : runs) out.run_means.push_back(mean_of(run, ids));
    out.times_chosen.assign(runs.size(), 0);
    std::vector<double> tests;
    double weighted = 0;
    for (int f = 0; f < folds; ++f) {
        std::vector<std::string> train, test;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            (static_cast<int>(i % static_cast<std::size_t>(folds)) == f ? test : train).push_back(ids[i]);
        }
        CvFold fold;
        fold.questions = test.size();
        fold.train_score = -1;
        for (std::size_t r = 0; r < runs.size(); ++r) {
            const double score = mean_of(runs[r], train);
            if (score > fold.train_score) {
                fold.train_score = score;
                fold.chosen = r;
            }
        }
        fold.test_score = mean_of(runs[fold.chosen], test);
        ++out.times_chosen[fold.chosen];
        weighted += fold.test_score * static_cast<double>(test.size());
        tests.push_back(fold.test_score);
        out.folds.push_back(fold);
    }
    out.estimate = weighted / static_cast<double>(ids.size());
    double mean = 0;
    for (double t : tests) mean += t;
    mean /= static_cast<double>(tests.size());
    double var = 0;
    for (double t : tests) var += (t - mean) * (t - mean);
    out.fold_sd = std::sqrt(var / static_cast<double>(tests.size() - 1));
    out.folds_agree = true;
    for (const auto& fold : out.folds) out.folds_agree = out.folds_agree && fold.chosen == out.folds.front().chosen;
    out.recommended = out.folds_agree ? out.folds.front().chosen : 0;
    return out;
}

Result<CvRun> load_cv_run(const std::string& dir, const std::string& retriever, const std::string& metric,
                          const std::vector<CvWhere>& where) {
    const std::string path = dir + "/per_question.jsonl";
    std::ifstream in(path);
    if (!in) return Status::not_found("cannot read " + path);
    std::vector<std::string> steps;
    for (std::size_t start = 0;;) {
        const std::size_t dot = metric.find('.', start);
        steps.push_back(metric.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    CvRun run;
    run.label = dir;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json record;
        try {
            record = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
            return Status::invalid_argument(path + ":" + std::to_string(n) + ": not valid JSON (at byte " +
                                            std::to_string(e.byte) + " of the line)");
        }
        if (!record.is_object()) {
            return Status::invalid_argument(path + ":" + std::to_string(n) + ": not a JSON object");
        }
        bool keep = true;
        for (const auto& w : where) {
            auto it = record.find(w.field);
            const std::string text = it == record.end() ? "" : it->dump();
            bool any = false;
            for (const auto& v : w.values) any = any || v == text;
            keep = keep && any;
        }
        if (!keep) continue;
        const auto id = record.contains("question_id") ? record["question_id"] : record.value("id", nlohmann::json());
        if (!id.is_string() && !id.is_number()) continue;
        const nlohmann::json* node = nullptr;
        if (auto rs = record.find("retrievers"); rs != record.end() && rs->is_object()) {
            if (auto r = rs->find(retriever); r != rs->end()) node = &*r;
        }
        for (const auto& step : steps) {
            if (node == nullptr || !node->is_object()) {
                node = nullptr;
                break;
            }
            auto next = node->find(step);
            node = next == node->end() ? nullptr : &*next;
        }
        if (node == nullptr || !node->is_number()) continue;
        run.scores[id.is_string() ? id.get<std::string>() : id.dump()] = node->get<double>();
    }
    if (run.scores.empty()) {
        return Status::invalid_argument(path + ": no record has a number at retrievers." + retriever + "." + metric +
                                        " (check --retriever, --metric and --where)");
    }
    std::ifstream metrics_file(dir + "/metrics.json");
    if (metrics_file) {
        const auto metrics = nlohmann::json::parse(metrics_file, nullptr, /*allow_exceptions=*/false);
        if (metrics.is_object() && metrics.contains("tuning") && metrics["tuning"].is_object() &&
            !metrics["tuning"].empty()) {
            run.label += " " + metrics["tuning"].dump();
        }
    }
    return run;
}

}  // namespace kasten::eval
