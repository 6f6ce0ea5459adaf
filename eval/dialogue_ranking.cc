#include "eval/dialogue_ranking.h"

#include <cassert>
#include <chrono>

#include "eval/kasten_retriever_spec.h"
#include "memory/memory_manager.h"

namespace kasten::eval {

Result<DialogueRanking> rank_dialogue(const std::string& retriever, const std::string& question,
                                      const Bm25Okapi* bm25_turns, const Bm25Okapi* bm25_sessions,
                                      const DialogueHaystack* haystack) {
    using SteadyClock = std::chrono::steady_clock;
    const auto t0 = SteadyClock::now();
    DialogueRanking out;
    if (retriever == "bm25") {
        const auto query = split_on_spaces(question);
        if (bm25_turns) out.turns = rank_by_descending_score(bm25_turns->scores(query));
        if (bm25_sessions) out.sessions = rank_by_descending_score(bm25_sessions->scores(query));
        out.retrieved = static_cast<int>(out.turns.size());
    } else {
        KastenRetrieverSpec kr;
        const bool known = parse_kasten_retriever_spec(retriever, &kr);
        assert(known && haystack != nullptr);
        (void)known;
        KASTEN_ASSIGN_OR_RETURN(KastenRanking kt, haystack->rank_turns(kr, question));
        KASTEN_ASSIGN_OR_RETURN(KastenRanking ks, haystack->rank_sessions(kr, question));
        out.turns = std::move(kt.ranking);
        out.sessions = std::move(ks.ranking);
        out.retrieved = kt.retrieved;
    }
    out.seconds = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    return out;
}

}  // namespace kasten::eval
