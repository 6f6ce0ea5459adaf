#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "eval/bm25_okapi.h"
#include "eval/dialogue_haystack.h"

namespace kasten::eval {

// One retriever's ranking of one dialogue haystack for one question, at turn and at session level.
struct DialogueRanking {
    std::vector<int> turns;     // flat turn indices, best first
    std::vector<int> sessions;  // session indices, best first
    int retrieved = 0;          // turns the retriever itself returned (bm25: all it ranked)
    double seconds = 0;         // wall time of both rankings
};

// Ranks with `retriever`: "bm25" scores the raw question's whitespace tokens with `bm25_turns` / `bm25_sessions`
// (null: that ranking stays empty); any other name must be a valid kasten retriever (lexical, vector, hybrid) and
// ranks through `haystack`, which must then be non-null. Errors are the haystack's. Thread-safe when the haystack is.
[[nodiscard]] Result<DialogueRanking> rank_dialogue(const std::string& retriever, const std::string& question,
                                                    const Bm25Okapi* bm25_turns, const Bm25Okapi* bm25_sessions,
                                                    const DialogueHaystack* haystack);

}  // namespace kasten::eval
