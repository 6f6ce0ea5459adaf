#pragma once

#include <string>
#include <vector>

#include "llm/embedder.h"
#include "retrieval/lexical_index.h"
#include "store/records.h"

namespace kasten::memory {

// A session's search key, kept incrementally so that appending a turn costs O(that turn), not O(session).
//
// The key is what the session's user said: its user turns carry the facts worth remembering, while assistant turns
// are long and generic and dilute it (LongMemEval's finding, and ours on its development split). A session without
// user turns is keyed by all of its turns. The key's embedding is Embedder::finish(Σ Embedder::accumulate(turn)) over
// the key turns in order, kept as two running sums (user turns, all turns) in store::SessionKeyState; its lexical
// document is the term-wise sum of the key turns' analyses.
class SessionKey {
  public:
    // True when a turn of `role` is part of the key of a session that has (or has no) user turns.
    static bool is_key_turn(const std::string& role, bool session_has_user);

    // The key state and embedding of `turns` (a whole session, in order), built from scratch.
    static store::SessionKeyState build(const llm::Embedder& embedder, const std::vector<store::TurnRecord>& turns);
    // The lexical document of a whole session (its key turns' analyses, summed).
    static retrieval::LexicalIndex::Analysis analysis(const std::vector<store::TurnRecord>& turns);
    // analysis(turns) restricted to `terms` (index terms, any order): what a search needs of a session's document to
    // see which query terms it holds, without analysing the rest of its text.
    static retrieval::LexicalIndex::Analysis analysis_among(const std::vector<store::TurnRecord>& turns,
                                                            const std::vector<std::string>& terms);
    // The embedding a state stands for (dim floats; zeros when no key turn has a known word); `embedder` is the one
    // that accumulated the state.
    static std::vector<float> embedding(const llm::Embedder& embedder, const store::SessionKeyState& state);

    // What appending turns changes.
    struct Append {
        std::vector<float> embedding;               // the session's new embedding
        retrieval::LexicalIndex::Analysis lexical;  // terms to add to (or to replace) the session's document
        bool replace_lexical = false;               // true: `lexical` is the whole document, not a delta
    };
    // Adds `turns` (new, in order; `analyses` parallel to them, as LexicalIndex::analyze_text gives) to `state`
    // (which must be known() or empty for a new session) and returns the changes. O(new turns).
    static Append append(const llm::Embedder& embedder, store::SessionKeyState& state,
                         const std::vector<store::TurnRecord>& turns,
                         const std::vector<retrieval::LexicalIndex::Analysis>& analyses);
};

}  // namespace kasten::memory
