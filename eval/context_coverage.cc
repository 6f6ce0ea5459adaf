#include "eval/context_coverage.h"

#include <fmt/format.h>

#include <set>
#include <utility>

#include "eval/markdown_table.h"

namespace kasten::eval {
namespace {

using Evidence = EvidencePositions;

// Evidence (answer) session positions and has_answer turn positions of a question.
Evidence evidence_of(const LongMemEvalQuestion& q) {
    Evidence e;
    std::set<std::string> answer(q.answer_session_ids.begin(), q.answer_session_ids.end());
    for (size_t s = 0; s < q.haystack_session_ids.size(); ++s) {
        if (answer.count(q.haystack_session_ids[s])) e.sessions.insert(static_cast<int>(s));
        for (size_t t = 0; t < q.haystack_sessions[s].size(); ++t) {
            if (q.haystack_sessions[s][t].has_answer.value_or(false)) {
                e.turns.insert({static_cast<int>(s), static_cast<int>(t)});
            }
        }
    }
    return e;
}

void score(const Evidence& e, const std::set<int>& sessions, const std::set<std::pair<int, int>>& turns,
           ContextCoverage* c) {
    c->evidence_sessions = static_cast<int>(e.sessions.size());
    c->evidence_turns = static_cast<int>(e.turns.size());
    for (int s : e.sessions) c->sessions_covered += sessions.count(s) ? 1 : 0;
    for (const auto& t : e.turns) c->turns_covered += (turns.count(t) || sessions.count(-1 - t.first)) ? 1 : 0;
}

}  // namespace

Result<std::vector<ContextCoverage>> measure_strategy_coverage(const std::string& query,
                                                               std::optional<TimeMs> query_time,
                                                               const EvidencePositions& evidence,
                                                               const ContextEvalOptions& options,
                                                               const PackedContextSource& source) {
    std::vector<ContextCoverage> out;
    for (memory::ContextStrategy strategy : options.strategies) {
        memory::ContextRequest request;
        request.query = query;
        request.query_time = query_time;
        request.token_budget = options.budget;
        request.counter = options.counter;
        request.strategy = strategy;
        request.full_history = false;
        KASTEN_ASSIGN_OR_RETURN(memory::PackedContext packed, source.build(request));
        ContextCoverage c;
        c.strategy = memory::context_strategy_name(strategy);
        c.mode = packed.mode;
        c.tokens = packed.tokens;
        c.items = static_cast<int>(packed.items.size());
        c.weights = packed.weights;
        std::set<int> sessions;  // positions drawn from; -1 - position marks a whole session given
        std::set<std::pair<int, int>> turns;
        for (const auto& item : packed.items) {
            const int position = source.session_position(item.session_id);
            if (position >= 0) sessions.insert(position);
            if (item.granularity == memory::Granularity::kSession && position >= 0) sessions.insert(-1 - position);
            if (item.granularity == memory::Granularity::kTurn) turns.insert(source.turn_position(item.id));
        }
        score(evidence, sessions, turns, &c);
        out.push_back(std::move(c));
    }
    return out;
}

Result<std::vector<ContextCoverage>> measure_context_coverage(const LongMemEvalQuestion& question,
                                                              KastenHaystack& haystack,
                                                              const ContextEvalOptions& options) {
    const Evidence evidence = evidence_of(question);
    PackedContextSource source;
    source.build = [&](memory::ContextRequest r) { return haystack.build_context(std::move(r)); };
    source.session_position = [&](const std::string& id) { return haystack.session_position(id); };
    source.turn_position = [&](const std::string& id) { return haystack.turn_position(id); };
    // The haystack fills in the question date.
    KASTEN_ASSIGN_OR_RETURN(std::vector<ContextCoverage> out,
                            measure_strategy_coverage(question.question, std::nullopt, evidence, options, source));
    // The retrieval baseline: the five best sessions, whole.
    KASTEN_ASSIGN_OR_RETURN(std::vector<int> top, haystack.top_sessions(question.question, 5));
    ContextCoverage base;
    base.strategy = "top5-sessions";
    base.mode = "top5";
    base.items = static_cast<int>(top.size());
    std::set<int> sessions;
    static const memory::EstimatedTokenCounter kEstimate;
    const memory::TokenCounter& counter = options.counter ? *options.counter : kEstimate;
    for (int s : top) {
        sessions.insert(s);
        sessions.insert(-1 - s);
        for (const auto& t : question.haystack_sessions[static_cast<size_t>(s)]) {
            base.tokens += counter.count(t.content) + 8;  // + the role and JSON framing of a turn line
        }
    }
    score(evidence, sessions, {}, &base);
    out.push_back(std::move(base));
    return out;
}

std::string context_coverage_markdown(const std::vector<std::vector<ContextCoverage>>& per_question, int budget,
                                      const std::string& counter_name) {
    struct Sum {
        int n = 0;
        int all = 0;
        double session_recall = 0;
        double turn_recall = 0;
        int turn_n = 0;
        double tokens = 0;
        double items = 0;
        int over_budget = 0;
    };
    std::vector<std::string> order;
    std::map<std::string, Sum> sums;
    for (const auto& q : per_question) {
        for (const auto& c : q) {
            if (c.evidence_sessions == 0) continue;
            if (!sums.count(c.strategy)) order.push_back(c.strategy);
            Sum& s = sums[c.strategy];
            s.n++;
            s.all += c.all_sessions() ? 1 : 0;
            s.session_recall += static_cast<double>(c.sessions_covered) / c.evidence_sessions;
            if (c.evidence_turns > 0) {
                s.turn_n++;
                s.turn_recall += static_cast<double>(c.turns_covered) / c.evidence_turns;
            }
            s.tokens += c.tokens;
            s.items += c.items;
            s.over_budget += c.tokens > budget ? 1 : 0;
        }
    }
    std::string table =
        markdown_header_row("context", {"all evidence sessions", "evidence-session recall", "evidence-turn recall",
                                        "mean tokens", "over budget", "mean items"});
    for (const auto& name : order) {
        const Sum& s = sums[name];
        table += markdown_value_row(name, s.n,
                                    {fmt::format("{} ({:.3f})", s.all, s.n ? double(s.all) / s.n : 0.0),
                                     fmt::format("{:.3f}", s.n ? s.session_recall / s.n : 0.0),
                                     fmt::format("{:.3f}", s.turn_n ? s.turn_recall / s.turn_n : 0.0),
                                     fmt::format("{:.0f}", s.n ? s.tokens / s.n : 0.0), std::to_string(s.over_budget),
                                     fmt::format("{:.1f}", s.n ? s.items / s.n : 0.0)});
    }
    return fmt::format("## Packed context at {} tokens ({})\n\n", budget, counter_name) + table +
           "\nQuestions with evidence sessions only. top5-sessions: the five best hybrid session hits given whole "
           "(the retrieval baseline, not held to the budget).\n";
}

nlohmann::ordered_json context_coverage_json(const std::vector<ContextCoverage>& contexts) {
    nlohmann::ordered_json cs = nlohmann::ordered_json::object();
    for (const auto& c : contexts) {
        nlohmann::ordered_json cj;
        cj["mode"] = c.mode;
        cj["tokens"] = c.tokens;
        cj["items"] = c.items;
        cj["evidence_sessions"] = c.evidence_sessions;
        cj["sessions_covered"] = c.sessions_covered;
        cj["evidence_turns"] = c.evidence_turns;
        cj["turns_covered"] = c.turns_covered;
        if (!c.weights.empty()) cj["weights"] = c.weights;
        cs[c.strategy] = cj;
    }
    return cs;
}

}  // namespace kasten::eval
