#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

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

// Builds the question's context with every strategy at the budget (the whole history is never given: the measure
// is packing) and the top-5-sessions baseline, and records what evidence each holds.
[[nodiscard]] Result<std::vector<ContextCoverage>> measure_context_coverage(const LongMemEvalQuestion& question,
                                                                            KastenHaystack& haystack,
                                                                            const ContextEvalOptions& options);

// Per strategy over questions with evidence sessions: questions whose context holds all evidence sessions, mean
// evidence-session and evidence-turn recall, mean tokens and items. One entry per question (its coverages).
std::string context_coverage_markdown(const std::vector<std::vector<ContextCoverage>>& per_question, int budget,
                                      const std::string& counter_name);

}  // namespace kasten::eval
