#include "eval/locomo_report.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/evidence_recall.h"
#include "eval/grouped_means.h"
#include "eval/kasten_retriever_spec.h"
#include "eval/markdown_table.h"
#include "eval/recall_chart.h"
#include "eval/report_json.h"
#include "eval/retriever_order.h"
#include "eval/run_output.h"

namespace kasten::eval {

namespace {

using ordered_json = nlohmann::ordered_json;

const std::vector<std::string> kGroups = {"all", "cats_1_4", "1", "2", "3", "4", "5"};

std::string group_title(const std::string& g) {
    if (g == "all") return "all categories";
    if (g == "cats_1_4") return "categories 1–4";
    const int c = std::stoi(g);
    return fmt::format("{} {}", g, locomo_category_name(c));
}

const std::vector<int>& cutoffs_of(const std::string& level) {
    return level == "dialogue" ? kLocomoDialogueCutoffs : kLocomoSessionCutoffs;
}

std::string retriever_description(const std::string& name) {
    if (name == "bm25") {
        return "baseline: rank_bm25 BM25Okapi over the dialogue texts, whitespace tokens, raw question (LoCoMo's own "
               "retrievers are dense models — DPR, Contriever, Dragon — and are not reproduced)";
    }
    if (name == "lexical") return "kasten: Xapian BM25 (stemmed, stopwords) through MemoryManager";
    if (name == "vector") return "kasten: vector index (the run's embedder) through MemoryManager";
    if (name == "hybrid") return "kasten: lexical ∪ vector candidates, fused, through MemoryManager";
    return "";
}

}  // namespace

LocomoReport::LocomoReport(const LocomoRun& run, std::string command) : run_(run), command_(std::move(command)) {
    std::map<std::string, std::map<std::string, GroupedMeans>> acc;
    std::map<std::string, GroupedMeans> qa_acc;
    for (const auto& q : run_.questions) {
        const std::string cat = std::to_string(q.category);
        for (const auto& r : q.retrievers) {
            for (const auto& [level, metrics] : {std::pair<std::string, const MetricMap*>{"dialogue", &r.dialogue},
                                                 std::pair<std::string, const MetricMap*>{"session", &r.session}}) {
                GroupedMeans& g = acc[r.retriever][level];
                g.add("all", *metrics);
                if (q.category >= 1 && q.category <= 4) g.add("cats_1_4", *metrics);
                g.add(cat, *metrics);
            }
        }
        for (const auto& p : q.qa) {
            MetricMap m;
            m["f1"] = p.f1;
            if (p.judge_correct) m["judge"] = *p.judge_correct ? 1.0 : 0.0;
            GroupedMeans& g = qa_acc[p.context];
            g.add("all", m);
            if (q.category >= 1 && q.category <= 4) g.add("cats_1_4", m);
            g.add(cat, m);
        }
    }
    for (auto& [r, levels] : acc) {
        for (auto& [level, g] : levels) averages_[r][level] = g.result();
    }
    for (auto& [path, g] : qa_acc) qa_averages_[path] = g.result();
}

std::vector<std::string> LocomoReport::retrievers() const {
    return baseline_first(run_.options.retrievers);
}

std::string LocomoReport::metrics_json() const {
    const auto& o = run_.options;
    ordered_json j;
    j["benchmark"] = "locomo";
    j["data"] = o.data_path;
    j["data_sha256"] = run_.data_sha256;
    j["command"] = command_;
    j["embedder"] = run_.embedder_id;
    j["tuning"] = run_.options.tuning.to_json();  // search settings changed from the defaults
    j["categories"] = {
        {"1", "multi-hop"}, {"2", "temporal"}, {"3", "open-domain"}, {"4", "single-hop"}, {"5", "adversarial"}};
    j["category_note"] =
        "official category ids with their real meanings (task_eval/evaluation.py; snap-research/locomo #29); "
        "Mem0-lineage tables label ids 1/3/4 single-hop/multi-hop/open-domain instead";
    std::map<int, std::int64_t> per_cat;
    for (const auto& q : run_.questions) ++per_cat[q.category];
    ordered_json qs;
    qs["in_file"] = run_.questions_in_file;
    qs["evaluated"] = static_cast<std::int64_t>(run_.questions.size());
    ordered_json bc = ordered_json::object();
    for (const auto& [c, n] : per_cat) bc[std::to_string(c)] = n;
    qs["by_category"] = bc;
    j["questions"] = qs;
    j["conversation"] = {{"samples", run_.samples}, {"sessions", run_.sessions}, {"turns", run_.turns}};
    j["recall"] =
        "official evidence recall: share of the question's evidence dia_ids (as written) among the top k dialogues; "
        "session level: share of evidence whose session (ev.split(':')[0][1:]) is among the top k sessions; 1 without "
        "evidence; recall_all@k = all evidence in the top k";

    ordered_json rs = ordered_json::object();
    for (const auto& name : retrievers()) {
        ordered_json per_level;
        auto it = averages_.find(name);
        for (const std::string level : {"dialogue", "session"}) {
            const auto names = evidence_metric_names(cutoffs_of(level));
            ordered_json lj;
            if (it != averages_.end() && it->second.count(level)) {
                const auto& groups = it->second.at(level);
                for (const std::string g : {"all", "cats_1_4"}) {
                    if (groups.count(g)) lj[g] = metric_average_json(groups.at(g), names);
                }
                ordered_json by = ordered_json::object();
                for (int c = 1; c <= 5; ++c) {
                    if (groups.count(std::to_string(c)))
                        by[std::to_string(c)] = metric_average_json(groups.at(std::to_string(c)), names);
                }
                lj["by_category"] = by;
            }
            per_level[level] = lj;
        }
        rs[name] = per_level;
    }
    j["retrievers"] = rs;

    if (run_.qa) {
        const QaRunInfo& info = *run_.qa;
        ordered_json qa;
        qa["reader"] = info.reader;
        qa["judge"] = info.judge;
        qa["retriever"] = info.retriever;
        qa["top_k"] = info.top_k;
        qa["reader_prompt"] =
            "official evaluate_gpts.py QA_PROMPT / QA_PROMPT_CAT_5 (batch size 1), 32 tokens, temperature 0";
        qa["f1"] =
            "official: normalize (commas, case, punctuation, a/an/the/and), NLTK Porter stems, token F1; cat 1 "
            "comma-split best match; cat 3 gold cut at ';'; cat 5 = 'no information available' or 'not "
            "mentioned' in the answer";
        qa["judge_rule"] =
            "Mem0 J prompt (llm_judge.py), temperature 0, one run, categories 1–4; a reply without a "
            "JSON label counts as WRONG";
        ordered_json paths = ordered_json::object();
        for (const auto& [path, groups] : qa_averages_) {
            ordered_json pj;
            for (const auto& g : kGroups) {
                if (groups.count(g)) pj[g] = metric_average_json(groups.at(g), {"f1", "judge"});
            }
            paths[path] = pj;
        }
        qa["paths"] = paths;
        qa["cache"] = qa_cache_json(info);
        j["qa"] = qa;
    }

    ordered_json timing;
    timing["wall_seconds"] = run_.wall_seconds;
    timing["kasten_ingest_seconds"] = run_.ingest_seconds;
    timing["kasten_note_jobs_seconds"] = run_.notes_seconds;
    timing["threads"] = run_.options.threads;
    std::map<std::string, double> per_retriever;
    for (const auto& q : run_.questions) {
        for (const auto& r : q.retrievers) per_retriever[r.retriever] += r.seconds;
    }
    ordered_json rt = ordered_json::object();
    for (const auto& name : retrievers()) rt[name] = per_retriever[name];
    timing["ranking_seconds"] = rt;
    timing["note"] = "ingest and ranking seconds are summed over samples/questions (worker time)";
    j["timing"] = timing;
    return json_document(j);
}

std::string LocomoReport::per_question_jsonl() const {
    std::string out;
    for (const auto& q : run_.questions) {
        ordered_json j;
        j["id"] = q.id;
        j["sample_id"] = q.sample_id;
        j["qa_index"] = q.qa_index;
        j["category"] = q.category;
        j["category_name"] = locomo_category_name(q.category);
        j["question"] = q.question;
        j["answer"] = q.answer;
        j["evidence"] = q.evidence;
        ordered_json rs = ordered_json::object();
        for (const auto& r : q.retrievers) {
            ordered_json rj;
            rj["dialogue_ranked"] = r.dialogue_ranked;
            rj["session_ranked"] = r.session_ranked;
            rj["retrieved"] = r.retrieved;
            rj["dialogue"] = r.dialogue;
            rj["session"] = r.session;
            rs[r.retriever] = rj;
        }
        j["retrievers"] = rs;
        if (!q.contexts.empty()) {
            j["contexts"] = context_coverage_json(q.contexts);
        }
        if (!q.qa.empty()) {
            ordered_json qa = ordered_json::object();
            for (const auto& p : q.qa) {
                ordered_json pj;
                pj["prompt_chars"] = p.prompt_chars;
                pj["reply"] = p.reply;
                pj["answer"] = p.answer;
                pj["f1"] = p.f1;
                pj["reader_cached"] = p.reader_cached;
                if (p.judge_correct) {
                    pj["judge_reply"] = p.judge_reply;
                    pj["judge_correct"] = *p.judge_correct;
                    pj["judge_unparsed"] = p.judge_unparsed;
                    pj["judge_cached"] = p.judge_cached;
                }
                qa[p.context] = pj;
            }
            j["qa"] = qa;
        }
        out += json_line(j);
    }
    return out;
}

std::string LocomoReport::markdown() const {
    const auto& o = run_.options;
    std::map<int, std::int64_t> per_cat;
    for (const auto& q : run_.questions) ++per_cat[q.category];
    std::string md = "# LoCoMo — evidence retrieval";
    md += run_.qa ? " and QA\n\n" : "\n\n";
    md += fmt::format("- data: `{}` (sha256 `{}`): {} samples, {} sessions, {} turns\n", o.data_path, run_.data_sha256,
                      run_.samples, run_.sessions, run_.turns);
    md += fmt::format("- questions: {} evaluated of {} in the file —", run_.questions.size(), run_.questions_in_file);
    for (const auto& [c, n] : per_cat) md += fmt::format(" cat {} {}: {};", c, locomo_category_name(c), n);
    md += "\n";
    md +=
        "- categories under their real meanings (official ids, `task_eval/evaluation.py`): 1 multi-hop, 2 temporal, "
        "3 open-domain, 4 single-hop, 5 adversarial. Mem0-lineage tables call id 1 single-hop, 3 multi-hop, 4 "
        "open-domain.\n";
    md += fmt::format("- command: `{}`\n", command_);
    if (!run_.embedder_id.empty()) md += fmt::format("- embedder: `{}`\n", run_.embedder_id);
    md +=
        "- each sample is one fresh in-memory cube; sessions ingested in order with their parsed `date_time`; a turn "
        "is indexed as `<speaker> said, \"<text>\"` (+ `[shares <caption>]` for images), both speakers with role user "
        "(both are people); the query is the raw question\n";
    md += "- retrievers:\n";
    for (const auto& r : retrievers()) {
        md += fmt::format("  - `{}` — {}\n", r, describe_with_notes(r, retriever_description));
    }
    md +=
        "- recall@k (official): share of the evidence dia_ids in the top k dialogues (session level: of their "
        "sessions in the top k sessions); questions without evidence count 1; recall_all@k: every evidence item in "
        "the top k\n";
    md += fmt::format("- time: {:.1f} s wall, {} threads (kasten ingest {:.1f} s{} summed)\n\n", run_.wall_seconds,
                      o.threads, run_.ingest_seconds,
                      run_.notes_seconds > 0 ? fmt::format(", note jobs {:.1f} s", run_.notes_seconds) : "");

    for (const std::string level : {"dialogue", "session"}) {
        const auto& cut = cutoffs_of(level);
        std::vector<std::string> cols;
        for (int k : cut) cols.push_back("recall@" + std::to_string(k));
        for (int k : {5, 10}) {
            if (std::find(cut.begin(), cut.end(), k) != cut.end()) cols.push_back("recall_all@" + std::to_string(k));
        }
        for (const std::string group : {"all", "cats_1_4"}) {
            md += fmt::format("## {} level — {}\n\n", level, group_title(group));
            md += markdown_header_row("retriever", cols);
            for (const auto& r : retrievers()) {
                auto it = averages_.find(r);
                if (it == averages_.end() || !it->second.count(level) || !it->second.at(level).count(group)) continue;
                const MetricAverage& a = it->second.at(level).at(group);
                md += markdown_metric_row(retriever_label(r), a, cols);
            }
            md += "\n";
        }
        md += fmt::format("### {} level by category\n\n", level);
        const std::string k1 = level == "dialogue" ? "recall@5" : "recall@1";
        const std::string k2 = level == "dialogue" ? "recall@10" : "recall@3";
        const std::string k3 = level == "dialogue" ? "recall@25" : "recall@5";
        md += markdown_header_row("category · retriever", {k1, k2, k3});
        for (int c = 1; c <= 5; ++c) {
            for (const auto& r : retrievers()) {
                auto it = averages_.find(r);
                if (it == averages_.end() || !it->second.count(level)) continue;
                auto g = it->second.at(level).find(std::to_string(c));
                if (g == it->second.at(level).end()) continue;
                md += markdown_metric_row(fmt::format("{} {} · {}", c, locomo_category_name(c), retriever_label(r)),
                                          g->second, {k1, k2, k3});
            }
        }
        md += "\n";
    }

    if (run_.qa) {
        const QaRunInfo& info = *run_.qa;
        md += "## QA\n\n";
        md += fmt::format(
            "- reader `{}`: official prompts (`evaluate_gpts.py`, batch size 1; cat 2 gets the DATE hint, "
            "cat 5 the (a)/(b) choice with \"Not mentioned in the conversation\"), temperature 0, 32 "
            "tokens; retrieval context = top {} dialogues of `{}` as `<date_time>: <speaker> said, "
            "\"<text>\"` lines in rank order; full context = the whole conversation "
            "(`get_input_context`, no truncation)\n",
            info.reader, info.top_k, info.retriever);
        md +=
            "- F1: official (normalised, NLTK-Porter-stemmed token F1; cat 1 comma-split best match; cat 3 gold cut at "
            "';'; cat 5 = abstains with \"no information available\"/\"not mentioned\")\n";
        if (!info.judge.empty()) {
            md += fmt::format(
                "- J: judge `{}` with Mem0's prompt (`llm_judge.py`), temperature 0, one run, cats 1–4 "
                "(cat 5 not judged)\n",
                info.judge);
        }
        md += fmt::format("- model calls: reader {} (+{} cached), judge {} (+{} cached); cache `{}`\n\n",
                          info.reader_calls, info.reader_cache_hits, info.judge_calls, info.judge_cache_hits,
                          info.cache_path);
        md += markdown_header_row("context · group", {"F1", "J"});
        for (const auto& [path, groups] : qa_averages_) {
            for (const auto& g : kGroups) {
                auto it = groups.find(g);
                if (it == groups.end()) continue;
                md += markdown_metric_row(path + " · " + group_title(g), it->second, {"f1", "judge"});
            }
        }
        md += "\nReport categories 1–4 and category 5 apart: category 5 F1 measures abstention only.\n\n";
    }
    md += "![recall@k](recall.svg)\n";
    return md;
}

std::string LocomoReport::recall_svg() const {
    std::vector<ChartSeries> series;
    int color = 0;
    for (const auto& r : retrievers()) {
        auto it = averages_.find(r);
        if (it == averages_.end()) continue;
        for (const std::string level : {"dialogue", "session"}) {
            if (!it->second.count(level) || !it->second.at(level).count("all")) continue;
            const MetricAverage& a = it->second.at(level).at("all");
            ChartSeries s;
            s.name = r + " (" + level + ")";
            s.dashed = level == "session";
            s.color = color;
            for (int k : cutoffs_of(level)) {
                auto v = a.mean.find("recall@" + std::to_string(k));
                if (v != a.mean.end()) s.points.emplace_back(k, v->second);
            }
            series.push_back(std::move(s));
        }
        ++color;
    }
    return render_recall_chart(fmt::format("LoCoMo evidence recall@k, all categories (n = {})", run_.questions.size()),
                               "recall@k", series);
}

Status LocomoReport::write(const std::string& out_dir) const {
    std::vector<RunOutputFile> files = {{"per_question.jsonl", per_question_jsonl()},
                                        {"metrics.json", metrics_json()},
                                        {"report.md", markdown()},
                                        {"recall.svg", recall_svg()}};
    return write_run_output(out_dir, files);
}

}  // namespace kasten::eval
