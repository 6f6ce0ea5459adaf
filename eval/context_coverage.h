#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "eval/kasten_haystack.h"
#include "eval/longmemeval_question.h"
#include "memory/context_builder.h"
#include "memory/token_counter.h"

namespace kasten::eval {

// Which evidence a question's packed context holds.
struct ContextCoverage {
    // "auto", "turn", "session", "note" (ContextBuilder strategies) or "top5-sessions" (the five best hybrid
    // session hits given whole, whatever they cost: the retrieval baseline).
    std::string strategy;
    std::string mode;  // PackedContext::mode ("top5" for the baseline)
    int tokens = 0;
    int items = 0;
    int evidence_sessions = 0;              // answer sessions of the question
    int sessions_covered = 0;               // of them, sessions the context draws at least one item from
    int evidence_turns = 0;                 // turns marked has_answer
    int turns_covered = 0;                  // of them, turns whose text is in the context (alone or inside a session)
    std::map<std::string, double> weights;  // the router's weights (auto)
    bool all_sessions() const { return evidence_sessions > 0 && sessions_covered == evidence_sessions; }
};

struct ContextEvalOptions {
    int budget = 0;  // tokens; 0 = no context evaluation
    std::vector<memory::ContextStrategy> strategies = {memory::ContextStrategy::kAuto, memory::ContextStrategy::kTurn,
                                                       memory::ContextStrategy::kSession,
                                                       memory::ContextStrategy::kNote};
    std::shared_ptr<const memory::TokenCounter> counter;  // null = the estimate
};

// A question's evidence: session positions, and (session position, turn position) of its evidence turns.
struct EvidencePositions {
    std::set<int> sessions;
    std::set<std::pair<int, int>> turns;
};

// How one benchmark's contexts are built and mapped back to its positions.
struct PackedContextSource {
    std::function<Result<memory::PackedContext>(memory::ContextRequest)> build;
    std::function<int(const std::string&)> session_position;               // kasten session id -> position, -1
    std::function<std::pair<int, int>(const std::string&)> turn_position;  // kasten turn id -> position, {-1,-1}
};

// Builds the context for `query` with every strategy of `options` at its budget (full history off, the query asked
// at `query_time`) and records what evidence each holds.
[[nodiscard]] Result<std::vector<ContextCoverage>> measure_strategy_coverage(const std::string& query,
                                                                             std::optional<TimeMs> query_time,
                                                                             const EvidencePositions& evidence,
                                                                             const ContextEvalOptions& options,
                                                                             const PackedContextSource& source);

// Builds the question's context with every strategy at the budget (the whole history is never given: the measure
// is packing) and the top-5-sessions baseline, and records what evidence each holds.
[[nodiscard]] Result<std::vector<ContextCoverage>> measure_context_coverage(const LongMemEvalQuestion& question,
                                                                            KastenHaystack& haystack,
                                                                            const ContextEvalOptions& options);

// Per strategy over questions with evidence sessions: questions whose context holds all evidence sessions, mean
// evidence-session and evidence-turn recall, mean tokens and items. One entry per question (its coverages).
// One question's coverage per strategy, as per_question.jsonl writes it: {strategy: {mode, tokens, items,
// evidence_sessions, sessions_covered, evidence_turns, turns_covered[, weights]}}.
nlohmann::ordered_json context_coverage_json(const std::vector<ContextCoverage>& contexts);

std::string context_coverage_markdown(const std::vector<std::vector<ContextCoverage>>& per_question, int budget,
                                      const std::string& counter_name);

}  // namespace kasten::eval
