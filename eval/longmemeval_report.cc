#include "eval/longmemeval_report.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/markdown_table.h"
#include "eval/recall_chart.h"
#include "eval/report_json.h"
#include "eval/retriever_order.h"
#include "eval/run_output.h"

namespace kasten::eval {

namespace {

using ordered_json = nlohmann::ordered_json;

const char* kStrictNote =
    "strict: skips abstention (_abs) questions and questions without user-side evidence (run_retrieval.py)";
const char* kNoAbsNote =
    "no_abs: skips abstention questions only; questions without gold enter with recall_all 1, recall_any 0, "
    "ndcg_any 0 (print_retrieval_metrics.py)";

std::string short_type(const std::string& type) {
    static const std::map<std::string, std::string> kShort = {
        {"single-session-user", "SSU"}, {"single-session-assistant", "SSA"}, {"single-session-preference", "SSP"},
        {"multi-session", "MS"},        {"knowledge-update", "KU"},          {"temporal-reasoning", "TR"}};
    auto it = kShort.find(type);
    return it == kShort.end() ? type : it->second;
}

std::string retriever_description(const std::string& name) {
    if (name == "bm25") {
        return "official baseline: rank_bm25 BM25Okapi (k1 1.5, b 0.75, ε 0.25) over the official user-turn "
               "documents, whitespace tokens, raw question as query";
    }
    if (name == "lexical") return "kasten: Xapian BM25 (stemmed, stopwords) through MemoryManager";
    if (name == "vector") return "kasten: vector index (the run's embedder) through MemoryManager";
    if (name == "hybrid")
        return "kasten: lexical ∪ vector candidates, min-max normalised scores summed with equal weights, through "
               "MemoryManager";
    return "";
}

// Worker seconds summed over a run's questions.
struct WorkerTotals {
    double ingest = 0;
    double notes = 0;
    double construction = 0;
    double ranking = 0;  // every retriever, the bm25 baseline included
    std::int64_t notes_built = 0;
    std::map<std::string, double> per_retriever;
};

WorkerTotals worker_totals(const LongMemEvalRun& run) {
    WorkerTotals t;
    for (const auto& q : run.questions) {
        t.ingest += q.ingest_seconds;
        t.notes += q.notes_seconds;
        t.construction += q.notes_construction_seconds;
        t.notes_built += q.notes_built;
        for (const auto& r : q.retrievers) {
            t.per_retriever[r.retriever] += r.seconds;
            t.ranking += r.seconds;
        }
    }
    return t;
}

const std::vector<std::string> kMainColumns = {"recall_all@1",  "recall_all@3",  "recall_all@5", "recall_all@10",
                                               "recall_all@30", "recall_all@50", "ndcg_any@5",   "ndcg_any@10",
                                               "recall_any@5",  "recall_any@10"};
const std::vector<std::string> kTypeColumns = {"recall_all@5", "ndcg_any@5", "recall_all@10", "ndcg_any@10",
                                               "recall_any@5"};

ordered_json qa_json(const LongMemEvalRun& run, const LongMemEvalQaAccuracy& acc) {
    const QaRunInfo& info = *run.qa;
    ordered_json j;
    j["reader"] = info.reader;
    j["judge"] = info.judge;
    j["retriever"] = info.retriever;
    j["top_k"] = info.top_k;
    j["reader_prompt"] =
        "Chain-of-Note (REFERENCE.md §1.1), history as JSON sessions sorted by date; greedy, 800 tokens";
    j["judge_rule"] =
        "official per-type prompts (evaluate_qa.py), temperature 0, max_tokens 10, correct iff 'yes' in reply";
    j["hypotheses"] = "hypotheses.jsonl";
    std::int64_t answered = 0;
    for (const auto& q : run.questions) answered += q.qa ? 1 : 0;
    j["answered"] = answered;
    if (!info.judge.empty()) {
        ordered_json by_type = ordered_json::object();
        for (const auto& type : longmemeval_question_types()) {
            auto it = acc.by_type.find(type);
            if (it == acc.by_type.end()) continue;
            by_type[type] = {{"n", it->second.n}, {"accuracy", it->second.accuracy()}};
        }
        j["by_type"] = by_type;
        j["task_averaged"] = acc.task_averaged;
        j["overall"] = {{"n", acc.overall.n}, {"accuracy", acc.overall.accuracy()}};
        j["abstention"] = {{"n", acc.abstention.n}, {"accuracy", acc.abstention.accuracy()}};
    }
    j["cache"] = qa_cache_json(info);
    return j;
}

std::string qa_markdown(const LongMemEvalRun& run, const LongMemEvalQaAccuracy& acc) {
    const QaRunInfo& info = *run.qa;
    std::string md = "## QA\n\n";
    md += fmt::format(
        "- reader `{}` on the top {} items of `{}` (Chain-of-Note prompt, history as JSON sorted by date, "
        "greedy, at most 800 tokens); hypotheses in `hypotheses.jsonl` (official format)\n",
        info.reader, info.top_k, info.retriever);
    md += fmt::format("- model calls: reader {} (+{} cached), judge {} (+{} cached); cache `{}`\n\n", info.reader_calls,
                      info.reader_cache_hits, info.judge_calls, info.judge_cache_hits, info.cache_path);
    if (info.judge.empty()) return md + "No judge given: accuracy not computed.\n\n";
    md += fmt::format(
        "Judge `{}` with the official per-type prompts (temperature 0, max_tokens 10, correct iff 'yes' in "
        "the reply), accuracy as print_qa_metrics.py reports it:\n\n",
        info.judge);
    md += "| type | n | accuracy |\n|---|---:|---:|\n";
    for (const auto& type : longmemeval_question_types()) {
        auto it = acc.by_type.find(type);
        if (it == acc.by_type.end()) continue;
        md += fmt::format("| {} | {} | {:.4f} |\n", short_type(type), it->second.n, it->second.accuracy());
    }
    md += fmt::format("| **task-averaged** (mean of {} types) | | {:.4f} |\n", acc.by_type.size(), acc.task_averaged);
    md += fmt::format("| **overall** | {} | {:.4f} |\n", acc.overall.n, acc.overall.accuracy());
    md += fmt::format("| abstention (`_abs`) | {} | {:.4f} |\n\n", acc.abstention.n, acc.abstention.accuracy());
    return md;
}

}  // namespace

LongMemEvalReport::LongMemEvalReport(const LongMemEvalRun& run, std::string command)
    : run_(run), command_(std::move(command)) {
    std::map<std::string, std::map<std::string, LongMemEvalAverager>> acc;
    for (const auto& q : run_.questions) {
        for (const auto& r : q.retrievers) {
            for (const auto& [level, metrics] : r.metrics) {
                acc[r.retriever][level].add(q.question_type, q.abstention, q.user_side_evidence, metrics);
            }
        }
    }
    for (const auto& [retriever, levels] : acc) {
        for (const auto& [level, averager] : levels) averages_[retriever][level] = averager.result();
    }
}

std::vector<std::string> LongMemEvalReport::levels() const {
    if (run_.options.granularity == CorpusGranularity::kTurn) return {"turn", "session"};
    return {"session"};
}

std::vector<std::string> LongMemEvalReport::retrievers() const {
    return baseline_first(run_.options.retrievers);
}

std::string LongMemEvalReport::metrics_json() const {
    ordered_json j;
    j["benchmark"] = "longmemeval";
    j["data"] = run_.options.data_path;
    j["data_sha256"] = run_.data_sha256;
    j["command"] = command_;
    j["granularity"] = corpus_granularity_name(run_.options.granularity);
    std::int64_t abstention = 0, no_evidence = 0;
    for (const auto& q : run_.questions) {
        abstention += q.abstention ? 1 : 0;
        no_evidence += (!q.abstention && !q.user_side_evidence) ? 1 : 0;
    }
    j["questions"] = {{"in_file", run_.questions_in_file},
                      {"evaluated", static_cast<std::int64_t>(run_.questions.size())},
                      {"abstention", abstention},
                      {"without_user_side_evidence", no_evidence}};
    if (!run_.options.types.empty()) j["types"] = run_.options.types;
    if (run_.options.limit > 0) j["limit"] = run_.options.limit;
    j["embedder"] = run_.embedder_id;
    j["tuning"] = run_.options.tuning.to_json();  // search settings changed from the defaults
    j["averages"] = {{"strict", kStrictNote}, {"no_abs", kNoAbsNote}};

    const std::vector<std::string> names = retrieval_metric_names();
    ordered_json retrievers = ordered_json::object();
    for (const auto& name : this->retrievers()) {
        ordered_json per_level = ordered_json::object();
        auto it = averages_.find(name);
        for (const auto& level : levels()) {
            ordered_json l;
            if (run_.options.granularity == CorpusGranularity::kTurn && level == "session") {
                l["source"] = "turn ranking scored at session level (official turn2session, k enlarged to k sessions)";
            }
            AverageSet a;
            if (it != averages_.end() && it->second.count(level)) a = it->second.at(level);
            l["strict"] = metric_average_json(a.strict, names);
            l["no_abs"] = metric_average_json(a.no_abs, names);
            ordered_json by_type = ordered_json::object();
            for (const auto& type : longmemeval_question_types()) {
                bool in_strict = a.strict_by_type.count(type) != 0;
                bool in_no_abs = a.no_abs_by_type.count(type) != 0;
                if (!in_strict && !in_no_abs) continue;
                by_type[type]["strict"] =
                    metric_average_json(in_strict ? a.strict_by_type.at(type) : MetricAverage{}, names);
                by_type[type]["no_abs"] =
                    metric_average_json(in_no_abs ? a.no_abs_by_type.at(type) : MetricAverage{}, names);
            }
            l["by_type"] = by_type;
            per_level[level] = l;
        }
        retrievers[name] = per_level;
    }
    j["retrievers"] = retrievers;
    if (run_.qa) j["qa"] = qa_json(run_, qa_accuracy());

    ordered_json timing;
    timing["wall_seconds"] = run_.wall_seconds;
    timing["prescan_seconds"] = run_.prescan_seconds;
    timing["threads"] = run_.options.threads;
    timing["questions_per_second"] =
        run_.wall_seconds > 0 ? static_cast<double>(run_.questions.size()) / run_.wall_seconds : 0.0;
    WorkerTotals t = worker_totals(run_);
    timing["kasten_ingest_seconds"] = t.ingest;
    timing["note_building_seconds"] = t.notes;
    timing["note_construction_seconds"] = t.construction;
    timing["notes_built"] = t.notes_built;
    if (run_.options.notes.builder) timing["note_builder"] = run_.options.notes.builder->id();
    ordered_json rs = ordered_json::object();
    for (const auto& name : this->retrievers()) rs[name] = t.per_retriever[name];
    timing["ranking_seconds"] = rs;
    if (t.notes > 0) {
        // The cost of notes against the retrieval run (kasten ingest + every retriever's ranking, bm25 included)
        // and against kasten's ingest alone.
        timing["note_jobs_per_retrieval_run"] = t.ingest + t.ranking > 0 ? t.notes / (t.ingest + t.ranking) : 0.0;
        timing["note_jobs_per_kasten_ingest"] = t.ingest > 0 ? t.notes / t.ingest : 0.0;
    }
    timing["note"] = "ingest and ranking seconds are summed over questions (worker time, not wall time)";
    j["timing"] = timing;
    return json_document(j);
}

std::string LongMemEvalReport::per_question_jsonl() const {
    std::string out;
    for (const auto& q : run_.questions) {
        ordered_json j;
        j["question_id"] = q.question_id;
        j["question_type"] = q.question_type;
        j["question"] = q.question;
        j["answer"] = q.answer;
        j["question_date"] = q.question_date;
        j["abstention"] = q.abstention;
        j["user_side_evidence"] = q.user_side_evidence;
        j["documents"] = q.documents;
        j["gold_ids"] = q.gold_ids;
        ordered_json rs = ordered_json::object();
        for (const auto& r : q.retrievers) {
            ordered_json rj;
            rj["ranked_ids"] = r.ranked_ids;
            rj["retrieved"] = r.retrieved;
            ordered_json m = ordered_json::object();
            for (const auto& level : levels()) {
                auto it = r.metrics.find(level);
                if (it == r.metrics.end()) continue;
                ordered_json lm;
                for (const auto& name : retrieval_metric_names()) {
                    auto v = it->second.find(name);
                    if (v != it->second.end()) lm[name] = v->second;
                }
                m[level] = lm;
            }
            rj["metrics"] = m;
            rs[r.retriever] = rj;
        }
        j["retrievers"] = rs;
        if (!q.contexts.empty()) {
            j["contexts"] = context_coverage_json(q.contexts);
        }
        if (q.qa) {
            ordered_json qa;
            qa["retriever"] = q.qa->retriever;
            qa["context_items"] = q.qa->context_items;
            qa["prompt_chars"] = q.qa->prompt_chars;
            qa["hypothesis"] = q.qa->hypothesis;
            qa["reader_cached"] = q.qa->reader_cached;
            if (q.qa->correct) {
                qa["judge_reply"] = q.qa->judge_reply;
                qa["correct"] = *q.qa->correct;
                qa["judge_cached"] = q.qa->judge_cached;
            }
            j["qa"] = qa;
        }
        out += json_line(j);
    }
    return out;
}

std::string LongMemEvalReport::markdown() const {
    const auto& o = run_.options;
    std::int64_t abstention = 0, no_evidence = 0;
    for (const auto& q : run_.questions) {
        abstention += q.abstention ? 1 : 0;
        no_evidence += (!q.abstention && !q.user_side_evidence) ? 1 : 0;
    }
    std::string md = fmt::format("# LongMemEval retrieval — {} level\n\n", corpus_granularity_name(o.granularity));
    md += fmt::format("- data: `{}` (sha256 `{}`)\n", o.data_path, run_.data_sha256);
    md += fmt::format(
        "- questions: {} evaluated of {} in the file ({} abstention, {} more without user-side "
        "evidence){}\n",
        run_.questions.size(), run_.questions_in_file, abstention, no_evidence,
        o.types.empty() ? "" : "; types: " + fmt::format("{}", fmt::join(o.types, ", ")));
    md += fmt::format("- command: `{}`\n", command_);
    if (!run_.embedder_id.empty()) md += fmt::format("- embedder: `{}`\n", run_.embedder_id);
    md += "- retrievers:\n";
    for (const auto& r : retrievers()) {
        md += fmt::format("  - `{}` — {}\n", r, describe_with_notes(r, retriever_description));
    }
    md += "- averages (each table says which, with its n):\n";
    md +=
        "  - **strict** (run_retrieval.py): skips abstention (`_abs`) questions and questions without user-side "
        "evidence;\n";
    md +=
        "  - **no_abs** (print_retrieval_metrics.py): skips abstention questions only; questions without gold enter "
        "with recall_all 1, recall_any 0, ndcg_any 0.\n";
    md +=
        "- metrics as in the official code (eval_utils.py): recall_all@k = all gold ids in the top k, recall_any@k "
        "= some gold id in the top k, ndcg_any@k = binary nDCG; documents are the user turns only.\n";
    md += fmt::format("- time: {:.1f} s wall ({:.1f} questions/s, {} threads; prescan {:.2f} s)\n", run_.wall_seconds,
                      run_.wall_seconds > 0 ? static_cast<double>(run_.questions.size()) / run_.wall_seconds : 0.0,
                      o.threads, run_.prescan_seconds);
    {
        const WorkerTotals t = worker_totals(run_);
        md += fmt::format("- worker time summed over questions: kasten ingest {:.2f} s, ranking {:.2f} s", t.ingest,
                          t.ranking);
        if (o.notes.builder) {
            md += fmt::format(
                ", note jobs {:.2f} s ({} notes, builder {}; construction {:.2f} s, the rest deduplication, "
                "embedding, linking, storage and indexing)",
                t.notes, t.notes_built, o.notes.builder->id(), t.construction);
            if (t.notes > 0 && t.ingest > 0) {
                md += fmt::format(
                    "; note jobs cost {:.2f} x the retrieval run (ingest + ranking) and {:.2f} x kasten "
                    "ingest alone",
                    t.notes / (t.ingest + t.ranking), t.notes / t.ingest);
            }
        }
        md += "\n\n";
    }

    for (const auto& level : levels()) {
        std::string level_title = level;
        if (o.granularity == CorpusGranularity::kTurn && level == "session") {
            level_title = "session (from the turn ranking, official turn→session scoring)";
        }
        for (const char* avg : {"strict", "no_abs"}) {
            bool strict = std::string(avg) == "strict";
            md += fmt::format("## {} level — {} average\n\n", level_title, avg);
            md += markdown_header_row("retriever", kMainColumns);
            for (const auto& r : retrievers()) {
                auto it = averages_.find(r);
                if (it == averages_.end() || !it->second.count(level)) continue;
                const AverageSet& a = it->second.at(level);
                md += markdown_metric_row(retriever_label(r), strict ? a.strict : a.no_abs, kMainColumns);
            }
            md += "\n";
        }
        for (const char* avg : {"strict", "no_abs"}) {
            bool strict = std::string(avg) == "strict";
            md += fmt::format("### {} level by question type — {} average\n\n", level_title, avg);
            md += markdown_header_row("type · retriever", kTypeColumns);
            for (const auto& type : longmemeval_question_types()) {
                for (const auto& r : retrievers()) {
                    auto it = averages_.find(r);
                    if (it == averages_.end() || !it->second.count(level)) continue;
                    const AverageSet& a = it->second.at(level);
                    const auto& by_type = strict ? a.strict_by_type : a.no_abs_by_type;
                    auto t = by_type.find(type);
                    if (t == by_type.end()) continue;
                    md += markdown_metric_row(short_type(type) + " · " + retriever_label(r), t->second, kTypeColumns);
                }
            }
            md += "\n";
        }
    }
    if (run_.qa) md += qa_markdown(run_, qa_accuracy());
    md +=
        "Types: SSU single-session-user, SSA single-session-assistant, SSP single-session-preference, MS "
        "multi-session, KU knowledge-update, TR temporal-reasoning. A type is absent from a table when no question "
        "of it enters that average. Kasten retrievers rank what they return, then the rest of the corpus in "
        "haystack order (per_question.jsonl `retrieved` gives the count returned).\n\n";
    md += "![recall_all@k](recall.svg)\n";
    return md;
}

LongMemEvalQaAccuracy LongMemEvalReport::qa_accuracy() const {
    LongMemEvalQaScorer scorer;
    for (const auto& q : run_.questions) {
        if (q.qa && q.qa->correct) scorer.add(q.question_type, q.abstention, *q.qa->correct);
    }
    return scorer.result();
}

std::string LongMemEvalReport::hypotheses_jsonl() const {
    std::string out;
    for (const auto& q : run_.questions) {
        if (!q.qa) continue;
        ordered_json j;
        j["question_id"] = q.question_id;
        j["hypothesis"] = q.qa->hypothesis;
        out += json_line(j);
    }
    return out;
}

std::string LongMemEvalReport::recall_svg() const {
    std::vector<ChartSeries> series;
    int color = 0;
    for (const auto& r : retrievers()) {
        auto it = averages_.find(r);
        if (it == averages_.end()) continue;
        for (const auto& level : levels()) {
            if (!it->second.count(level)) continue;
            const MetricAverage& a = it->second.at(level).strict;
            ChartSeries s;
            s.name = levels().size() > 1 ? r + " (" + level + ")" : r;
            s.dashed = level == "turn";
            s.color = color;
            for (int k : kRetrievalCutoffs) {
                auto v = a.mean.find("recall_all@" + std::to_string(k));
                if (v != a.mean.end()) s.points.emplace_back(k, v->second);
            }
            series.push_back(std::move(s));
        }
        ++color;
    }
    std::int64_t n = 0;
    if (!averages_.empty() && !averages_.begin()->second.empty())
        n = averages_.begin()->second.begin()->second.strict.n;
    return render_recall_chart(fmt::format("LongMemEval {} run — recall_all@k, strict average (n = {})",
                                           corpus_granularity_name(run_.options.granularity), n),
                               "recall_all@k", series);
}

Status LongMemEvalReport::write(const std::string& out_dir) const {
    std::vector<RunOutputFile> files = {{"per_question.jsonl", per_question_jsonl()},
                                        {"metrics.json", metrics_json()},
                                        {"report.md", markdown()},
                                        {"recall.svg", recall_svg()}};
    if (run_.qa) files.push_back({"hypotheses.jsonl", hypotheses_jsonl()});
    return write_run_output(out_dir, files);
}

}  // namespace kasten::eval
