#include "eval/convomem_report.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/evidence_recall.h"
#include "eval/grouped_means.h"
#include "eval/markdown_table.h"
#include "eval/recall_chart.h"
#include "eval/report_json.h"
#include "eval/retriever_order.h"
#include "eval/run_output.h"

namespace kasten::eval {

namespace {

using ordered_json = nlohmann::ordered_json;

const std::vector<int>& cutoffs_of(const std::string& level) {
    return level == "message" ? kConvoMemMessageCutoffs : kConvoMemConversationCutoffs;
}

std::string context_group(int size) {
    return fmt::format("context:{:04d}", size);
}

std::string group_label(const std::string& g) {
    if (g.rfind("context:", 0) == 0) return std::to_string(std::stoi(g.substr(8))) + " conversations";
    if (g.rfind("category:", 0) == 0) return g.substr(9);
    return g;
}

// The LoCoMo meaning of "locomo_category_<id>" categories.
std::string category_note(const std::string& category) {
    const std::string p = "locomo_category_";
    if (category.rfind(p, 0) != 0 || category.size() != p.size() + 1) return "";
    switch (category.back()) {
        case '1':
            return " (LoCoMo multi-hop)";
        case '2':
            return " (LoCoMo temporal)";
        case '3':
            return " (LoCoMo open-domain)";
        case '4':
            return " (LoCoMo single-hop)";
        case '5':
            return " (LoCoMo adversarial)";
        default:
            return "";
    }
}

}  // namespace

ConvoMemReport::ConvoMemReport(const ConvoMemRun& run, std::string command) : run_(run), command_(std::move(command)) {
    std::map<std::string, std::map<std::string, GroupedMeans>> acc;
    std::map<std::string, GroupedMeans> qa_acc;
    GroupedMeans paths;
    for (const auto& item : run_.items) {
        evidence_messages_ += item.evidence_messages;
        unlocated_evidence_ += item.evidence_unlocated;
        const std::vector<std::string> gs = {"all", "category:" + item.category, context_group(item.context_size)};
        if (item.evidence_messages == 0) {
            ++without_evidence_;
        } else {
            for (const auto& r : item.retrievers) {
                for (const auto& g : gs) {
                    acc[r.retriever]["message"].add(g, r.message);
                    acc[r.retriever]["conversation"].add(g, r.conversation);
                }
            }
            MetricMap p;
            p["full_chars"] = static_cast<double>(item.full_prompt_chars);
            p["retrieval_chars"] = static_cast<double>(item.retrieval_prompt_chars);
            p["retrieval_recall"] = item.retrieval_evidence_recall;
            for (const auto& g : gs) paths.add(g, p);
        }
        for (const auto& q : item.qa) {
            if (!q.correct) continue;
            MetricMap m;
            m["accuracy"] = *q.correct ? 1.0 : 0.0;
            for (const auto& g : gs) qa_acc[q.context].add(g, m);
        }
    }
    for (auto& [r, levels] : acc) {
        for (auto& [level, g] : levels) averages_[r][level] = g.result();
    }
    for (auto& [p, g] : qa_acc) qa_averages_[p] = g.result();
    context_paths_ = paths.result();
}

std::vector<std::string> ConvoMemReport::retrievers() const {
    return baseline_first(run_.options.retrievers);
}

std::vector<std::string> ConvoMemReport::groups(const std::string& prefix) const {
    std::set<std::string> out;
    for (const auto& [r, levels] : averages_) {
        for (const auto& [level, groups] : levels) {
            for (const auto& [g, a] : groups) {
                if (g.rfind(prefix, 0) == 0) out.insert(g);
            }
        }
    }
    for (const auto& [p, groups] : qa_averages_) {
        for (const auto& [g, a] : groups) {
            if (g.rfind(prefix, 0) == 0) out.insert(g);
        }
    }
    return {out.begin(), out.end()};
}

std::string ConvoMemReport::metrics_json() const {
    const auto& o = run_.options;
    ordered_json j;
    j["benchmark"] = "convomem";
    j["data"] = o.data_path;
    j["data_sha256"] = run_.data_sha256;
    j["data_files"] = run_.files;
    j["command"] = command_;
    j["embedder"] = run_.embedder_id;
    j["tuning"] = run_.options.tuning.to_json();  // search settings changed from the defaults
    j["items"] = {
        {"in_data", run_.items_in_data},           {"evaluated", static_cast<std::int64_t>(run_.items.size())},
        {"test_cases", run_.test_cases},           {"without_evidence", without_evidence_},
        {"evidence_messages", evidence_messages_}, {"evidence_unlocated", unlocated_evidence_}};
    j["recall"] =
        "share of the item's evidence messages (located by text) among the top k messages; conversation "
        "level: of their conversations among the top k conversations; items without evidence are skipped";
    ordered_json rs = ordered_json::object();
    for (const auto& name : retrievers()) {
        ordered_json per_level;
        auto it = averages_.find(name);
        for (const std::string level : {"message", "conversation"}) {
            const auto names = evidence_metric_names(cutoffs_of(level));
            ordered_json lj;
            if (it != averages_.end() && it->second.count(level)) {
                const auto& gs = it->second.at(level);
                if (gs.count("all")) lj["all"] = metric_average_json(gs.at("all"), names);
                ordered_json bc = ordered_json::object(), bs = ordered_json::object();
                for (const auto& [g, a] : gs) {
                    if (g.rfind("category:", 0) == 0) bc[g.substr(9)] = metric_average_json(a, names);
                    if (g.rfind("context:", 0) == 0)
                        bs[std::to_string(std::stoi(g.substr(8)))] = metric_average_json(a, names);
                }
                lj["by_category"] = bc;
                lj["by_context_size"] = bs;
            }
            per_level[level] = lj;
        }
        rs[name] = per_level;
    }
    j["retrievers"] = rs;

    ordered_json cp;
    cp["retriever"] = o.reader_retriever;
    cp["top_k_messages"] = o.reader_top_k;
    cp["note"] =
        "mean answer-prompt size in characters over the whole context (full) and over the top-k retrieved "
        "messages (retrieval), and the share of evidence the retrieval context holds (full: 1)";
    const std::vector<std::string> cp_names = {"full_chars", "retrieval_chars", "retrieval_recall"};
    if (context_paths_.count("all")) cp["all"] = metric_average_json(context_paths_.at("all"), cp_names);
    ordered_json cps = ordered_json::object();
    for (const auto& [g, a] : context_paths_) {
        if (g.rfind("context:", 0) == 0) cps[std::to_string(std::stoi(g.substr(8)))] = metric_average_json(a, cp_names);
    }
    cp["by_context_size"] = cps;
    j["context_paths"] = cp;

    if (run_.qa) {
        const QaRunInfo& info = *run_.qa;
        ordered_json qa;
        qa["reader"] = info.reader;
        qa["judge"] = info.judge;
        qa["retriever"] = info.retriever;
        qa["top_k"] = info.top_k;
        qa["reader_prompt"] = "official getModelAnswerPrompt (EvaluationUtils.scala), temperature 0";
        qa["judge_rule"] =
            "official per-category prompts (AnsweringEvaluation.scala); RIGHT iff 'right' and not 'wrong' "
            "in the reply; a reply with neither counts as wrong";
        ordered_json ps = ordered_json::object();
        for (const auto& [p, gs] : qa_averages_) {
            ordered_json pj;
            if (gs.count("all")) pj["all"] = metric_average_json(gs.at("all"), {"accuracy"});
            ordered_json bc = ordered_json::object(), bs = ordered_json::object();
            for (const auto& [g, a] : gs) {
                if (g.rfind("category:", 0) == 0) bc[g.substr(9)] = metric_average_json(a, {"accuracy"});
                if (g.rfind("context:", 0) == 0)
                    bs[std::to_string(std::stoi(g.substr(8)))] = metric_average_json(a, {"accuracy"});
            }
            pj["by_category"] = bc;
            pj["by_context_size"] = bs;
            ps[p] = pj;
        }
        qa["paths"] = ps;
        qa["cache"] = qa_cache_json(info);
        j["qa"] = qa;
    }

    ordered_json timing;
    timing["wall_seconds"] = run_.wall_seconds;
    timing["kasten_ingest_seconds"] = run_.ingest_seconds;
    timing["kasten_note_jobs_seconds"] = run_.notes_seconds;
    timing["threads"] = o.threads;
    std::map<std::string, double> per_retriever;
    for (const auto& item : run_.items) {
        for (const auto& r : item.retrievers) per_retriever[r.retriever] += r.seconds;
    }
    ordered_json rt = ordered_json::object();
    for (const auto& name : retrievers()) rt[name] = per_retriever[name];
    timing["ranking_seconds"] = rt;
    timing["note"] = "ingest and ranking seconds are summed over test cases/items (worker time)";
    j["timing"] = timing;
    return json_document(j);
}

std::string ConvoMemReport::per_question_jsonl() const {
    std::string out;
    for (const auto& item : run_.items) {
        ordered_json j;
        j["id"] = item.id;
        j["label"] = item.label;
        j["category"] = item.category;
        j["judge"] = convomem_judge_name(item.judge);
        j["context_size"] = item.context_size;
        j["question"] = item.question;
        j["answer"] = item.answer;
        j["evidence_keys"] = item.evidence_keys;
        j["evidence_messages"] = item.evidence_messages;
        j["evidence_unlocated"] = item.evidence_unlocated;
        ordered_json rs = ordered_json::object();
        for (const auto& r : item.retrievers) {
            ordered_json rj;
            rj["message_ranked"] = r.message_ranked;
            rj["conversation_ranked"] = r.conversation_ranked;
            rj["retrieved"] = r.retrieved;
            rj["message"] = r.message;
            rj["conversation"] = r.conversation;
            rs[r.retriever] = rj;
        }
        j["retrievers"] = rs;
        j["full_prompt_chars"] = item.full_prompt_chars;
        j["retrieval_prompt_chars"] = item.retrieval_prompt_chars;
        j["retrieval_evidence_recall"] = item.retrieval_evidence_recall;
        if (!item.qa.empty()) {
            ordered_json qa = ordered_json::object();
            for (const auto& p : item.qa) {
                ordered_json pj;
                pj["prompt_chars"] = p.prompt_chars;
                pj["hypothesis"] = p.hypothesis;
                pj["reader_cached"] = p.reader_cached;
                if (p.correct) {
                    pj["judge_reply"] = p.judge_reply;
                    pj["correct"] = *p.correct;
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

std::string ConvoMemReport::markdown() const {
    const auto& o = run_.options;
    std::string md = run_.qa ? "# ConvoMem — evidence retrieval and QA\n\n" : "# ConvoMem — evidence retrieval\n\n";
    md += fmt::format("- data: `{}` ({} file(s), sha256 `{}`): {} test cases, {} items ({} evaluated)\n", o.data_path,
                      run_.files, run_.data_sha256, run_.test_cases, run_.items_in_data, run_.items.size());
    md += fmt::format(
        "- evidence located by message text: {} evidence messages, {} not found in their context (counted "
        "as misses); {} items without evidence skipped in recall\n",
        evidence_messages_, unlocated_evidence_, without_evidence_);
    md += fmt::format("- command: `{}`\n", command_);
    if (!run_.embedder_id.empty()) md += fmt::format("- embedder: `{}`\n", run_.embedder_id);
    md +=
        "- each test case is one fresh in-memory cube, one session per conversation in order; ConvoMem has no dates, "
        "so conversation i is dated 2024-01-01 + i days; the query is the raw question\n";
    md +=
        "- recall@k: share of the evidence messages among the top k messages (conversation level: their "
        "conversations among the top k); recall_all@k: all of them\n";
    md += fmt::format("- time: {:.1f} s wall, {} threads (kasten ingest {:.1f} s{} summed)\n\n", run_.wall_seconds,
                      o.threads, run_.ingest_seconds,
                      run_.notes_seconds > 0 ? fmt::format(", note jobs {:.1f} s", run_.notes_seconds) : "");

    for (const std::string level : {"message", "conversation"}) {
        const auto& cut = cutoffs_of(level);
        std::vector<std::string> cols;
        for (int k : cut) cols.push_back("recall@" + std::to_string(k));
        cols.push_back("recall_all@" + std::to_string(level == "message" ? 10 : 3));
        md += fmt::format("## {} level — all items\n\n", level);
        md += markdown_header_row("retriever", cols);
        for (const auto& r : retrievers()) {
            auto it = averages_.find(r);
            if (it == averages_.end() || !it->second.count(level) || !it->second.at(level).count("all")) continue;
            const MetricAverage& a = it->second.at(level).at("all");
            md += markdown_metric_row(retriever_label(r), a, cols);
        }
        md += "\n";
        const std::string k1 = level == "message" ? "recall@5" : "recall@1";
        const std::string k2 = level == "message" ? "recall@10" : "recall@3";
        for (const std::string prefix : {"category:", "context:"}) {
            md += fmt::format("### {} level by {}\n\n", level,
                              prefix == std::string("category:") ? "category" : "context size");
            md += markdown_header_row(
                std::string(prefix == std::string("category:") ? "category" : "context") + " · retriever", {k1, k2});
            for (const auto& g : groups(prefix)) {
                for (const auto& r : retrievers()) {
                    auto it = averages_.find(r);
                    if (it == averages_.end() || !it->second.count(level)) continue;
                    auto a = it->second.at(level).find(g);
                    if (a == it->second.at(level).end()) continue;
                    md +=
                        markdown_metric_row(group_label(g) + category_note(group_label(g)) + " · " + retriever_label(r),
                                            a->second, {k1, k2});
                }
            }
            md += "\n";
        }
    }

    md += fmt::format(
        "## Full context vs retrieval\n\nThe answer prompt over the whole context (ConvoMem's "
        "`long_context`) against the prompt over the top {} messages of `{}`; the full context holds all "
        "the evidence by construction.\n\n",
        o.reader_top_k, o.reader_retriever);
    md += markdown_header_row("context size",
                              {"full prompt chars", "retrieval prompt chars", "evidence in retrieval context"});
    for (const auto& [g, a] : context_paths_) {
        if (g != "all" && g.rfind("context:", 0) != 0) continue;
        md += markdown_value_row(g == "all" ? "all" : group_label(g), a.n,
                                 {metric_cell(a, "full_chars", "{:.0f}"), metric_cell(a, "retrieval_chars", "{:.0f}"),
                                  metric_cell(a, "retrieval_recall")});
    }
    md += "\n";

    if (run_.qa) {
        const QaRunInfo& info = *run_.qa;
        md += "## QA\n\n";
        md += fmt::format(
            "- reader `{}` with ConvoMem's answer prompt (`getModelAnswerPrompt`), temperature 0; paths: "
            "full context and top {} messages of `{}`\n",
            info.reader, info.top_k, info.retriever);
        if (!info.judge.empty()) {
            md += fmt::format(
                "- judge `{}` with the official per-category prompts (factual / user facts / rubric / "
                "temporal / abstention), RIGHT iff 'right' and not 'wrong' in the reply\n",
                info.judge);
        }
        md += fmt::format("- model calls: reader {} (+{} cached), judge {} (+{} cached); cache `{}`\n\n",
                          info.reader_calls, info.reader_cache_hits, info.judge_calls, info.judge_cache_hits,
                          info.cache_path);
        if (!qa_averages_.empty()) {
            md += "| group | path | n | accuracy |\n|---|---|---:|---:|\n";
            std::vector<std::string> gs = {"all"};
            for (const auto& g : groups("category:")) gs.push_back(g);
            for (const auto& g : groups("context:")) gs.push_back(g);
            for (const auto& g : gs) {
                for (const auto& [p, groups] : qa_averages_) {
                    auto a = groups.find(g);
                    if (a == groups.end()) continue;
                    md += fmt::format("| {} | {} | {} | {} |\n", group_label(g), p, a->second.n,
                                      metric_cell(a->second, "accuracy"));
                }
            }
            md += "\n";
        }
    }
    md += "![recall@k](recall.svg)\n";
    return md;
}

std::string ConvoMemReport::recall_svg() const {
    std::vector<ChartSeries> series;
    int color = 0;
    for (const auto& r : retrievers()) {
        auto it = averages_.find(r);
        if (it == averages_.end()) continue;
        for (const std::string level : {"message", "conversation"}) {
            if (!it->second.count(level) || !it->second.at(level).count("all")) continue;
            const MetricAverage& a = it->second.at(level).at("all");
            ChartSeries s;
            s.name = r + " (" + level + ")";
            s.dashed = level == "conversation";
            s.color = color;
            for (int k : cutoffs_of(level)) {
                auto v = a.mean.find("recall@" + std::to_string(k));
                if (v != a.mean.end()) s.points.emplace_back(k, v->second);
            }
            series.push_back(std::move(s));
        }
        ++color;
    }
    return render_recall_chart(
        fmt::format("ConvoMem evidence recall@k (n = {})", run_.items.size() - without_evidence_), "recall@k", series);
}

Status ConvoMemReport::write(const std::string& out_dir) const {
    std::vector<RunOutputFile> files = {{"per_question.jsonl", per_question_jsonl()},
                                        {"metrics.json", metrics_json()},
                                        {"report.md", markdown()},
                                        {"recall.svg", recall_svg()}};
    return write_run_output(out_dir, files);
}

}  // namespace kasten::eval
