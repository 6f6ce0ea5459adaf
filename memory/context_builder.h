#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "memory/memory_types.h"
#include "memory/token_counter.h"

namespace kasten::memory {

class MemoryManager;

// Which granularities the packed context draws from. kAuto routes per query (see ContextBuilder).
enum class ContextStrategy { kAuto, kTurn, kSession, kNote };
const char* context_strategy_name(ContextStrategy s);
bool parse_context_strategy(const std::string& text, ContextStrategy* out);

struct ContextRequest {
    std::string cube_id;
    // What the context is for. "" = the last user message of `conversation` (kInvalidArgument when neither).
    std::string query;
    // The conversation so far, oldest first (the chat the context is built for). Only its last user message is used
    // (as the query when `query` is empty); its text is the model's already and is not repeated.
    std::vector<MessageInput> conversation;
    // The session of the current chat: its turns are already in the prompt, so they are left out of the context.
    std::optional<std::string> exclude_session_id;
    // Tokens the packed text may use, counted by `counter` (≥ 1). The text never exceeds it.
    int token_budget = 4096;
    // null = EstimatedTokenCounter (the documented estimate for remote models).
    std::shared_ptr<const TokenCounter> counter;
    ContextStrategy strategy = ContextStrategy::kAuto;
    // Give the cube's whole history, chronologically, when it fits the budget (ConvoMem: with short histories full
    // context beats retrieval). false = always retrieve and pack.
    bool full_history = true;
    // Relative dates in the query resolve against this time (default: now).
    std::optional<TimeMs> query_time;
    // Hits whose calibrated score (SearchHit::score, in [0, 1]) is below this are not packed.
    double min_score = 0.0;
};

// One piece of the packed context.
struct ContextItem {
    Granularity granularity = Granularity::kTurn;
    std::string id;                  // turn id, external session id, or note id
    std::string session_id;          // external session id ("" for a note without source turns)
    TimeMs time = 0;                 // turn time, session start, note valid_from (or recorded_at)
    std::optional<TimeMs> valid_to;  // notes only
    double score = 0;                // the hit's calibrated search score (0 in the full-history mode)
    double priority = 0;             // the packing order (see ContextBuilder)
    int tokens = 0;                  // cost of the item's rendered lines
    std::string text;                // turn content, session transcript, or note content
};

struct PackedContext {
    std::string mode;  // "full" (the whole history fits), "packed" (retrieved and packed), "empty" (nothing to give)
    ContextStrategy strategy = ContextStrategy::kAuto;  // as requested
    // The router's share of each granularity ("turn", "session", "note"), summing to 1; one entry for a fixed
    // strategy; empty in the full and empty modes.
    std::map<std::string, double> weights;
    std::string text;  // the context, in the format of docs/context.md; "" when empty
    int tokens = 0;    // of `text`, counted by the request's counter
    int budget = 0;
    std::string token_counter;       // TokenCounter::name()
    std::vector<ContextItem> items;  // in the order they appear in the text
};

// Packs what a model should know from a cube for one query under a token budget (docs/context.md):
//
// 1. Full history: when the cube's turns (minus the excluded session) fit the budget, all of them, grouped by
//    session in time order.
// 2. Otherwise retrieval and packing. Hybrid search at turn, session and note granularity (as the strategy allows),
//    and, when the query names a time ("two weeks ago"), the same searches restricted to that time: an item inside
//    it is at least as relevant as its score over the best in-window score (hit_relevance). The router (kAuto)
//    weighs each granularity by how decisive its score distribution is, MemGAS-style (granularity_weights), and
//    packs verbatim turns scored with their sessions' and notes' evidence (fused_turn_relevance; note hits lend
//    their source turns); a note or session is an item of its own only for a session the context does not draw
//    from yet, at its granularity's weight × its relevance. Fixed strategies score their granularity alone. Every
//    candidate gets priority = relevance / √(tokens it costs) — between relevance order (which spends the budget on a
//    few long items) and value-per-token knapsack order (which fills it with short, weakly relevant ones) — and items
//    are taken greedily by priority: each item once, a turn inside a session already taken is skipped, a session taken
//    replaces its turns taken earlier, a session longer than a quarter of the budget is given as its two
//    best-matching turns instead, a note whose source turns are all in the context (router: whose session is)
//    waits until everything else is placed, and an item that does not fit the remaining budget is passed over for
//    smaller ones.
// 3. The items are grouped by session, sessions in time order, notes before turns within a session, dated.
//
// Thread-safe (only MemoryManager calls, which are).
class ContextBuilder {
  public:
    // `clock` gives the query time when the request has none.
    ContextBuilder(MemoryManager& memory, const Clock& clock);

    // kInvalidArgument for a bad request (no query, budget < 1), kNotFound for an unknown cube, store errors.
    [[nodiscard]] Result<PackedContext> build(const ContextRequest& request);

  private:
    MemoryManager& memory_;
    const Clock& clock_;
};

}  // namespace kasten::memory
