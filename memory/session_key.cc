#include "memory/session_key.h"

namespace kasten::memory {

bool SessionKey::is_key_turn(const std::string& role, bool session_has_user) {
    return !session_has_user || role == "user";
}

store::SessionKeyState SessionKey::build(const llm::Embedder& embedder, const std::vector<store::TurnRecord>& turns) {
    store::SessionKeyState state;
    std::vector<retrieval::LexicalIndex::Analysis> no_analyses(turns.size());
    append(embedder, state, turns, no_analyses);
    return state;
}

namespace {

// The sum of `analyze(content)` over the key turns of a whole session.
template <typename Analyze>
retrieval::LexicalIndex::Analysis sum_of_key_turns(const std::vector<store::TurnRecord>& turns, Analyze analyze) {
    bool has_user = false;
    for (const auto& t : turns) has_user = has_user || t.role == "user";
    std::vector<retrieval::LexicalIndex::Analysis> parts;
    parts.reserve(turns.size());
    for (const auto& t : turns) {
        if (SessionKey::is_key_turn(t.role, has_user)) parts.push_back(analyze(t.content));
    }
    std::vector<const retrieval::LexicalIndex::Analysis*> ptrs;
    ptrs.reserve(parts.size());
    for (const auto& p : parts) ptrs.push_back(&p);
    return retrieval::LexicalIndex::merge(ptrs);
}

}  // namespace

retrieval::LexicalIndex::Analysis SessionKey::analysis(const std::vector<store::TurnRecord>& turns) {
    return sum_of_key_turns(turns, [](const std::string& text) { return retrieval::LexicalIndex::analyze_text(text); });
}

retrieval::LexicalIndex::Analysis SessionKey::analysis_among(const std::vector<store::TurnRecord>& turns,
                                                             const std::vector<std::string>& terms) {
    return sum_of_key_turns(
        turns, [&](const std::string& text) { return retrieval::LexicalIndex::analyze_text_among(text, terms); });
}

std::vector<float> SessionKey::embedding(const llm::Embedder& embedder, const store::SessionKeyState& state) {
    const std::vector<float>& sum = state.user_turns > 0 ? state.user_sum : state.all_sum;
    std::vector<float> out(sum.size());
    embedder.finish(sum, out);
    return out;
}

SessionKey::Append SessionKey::append(const llm::Embedder& embedder, store::SessionKeyState& state,
                                      const std::vector<store::TurnRecord>& turns,
                                      const std::vector<retrieval::LexicalIndex::Analysis>& analyses) {
    const auto dim = static_cast<std::size_t>(embedder.dim());
    if (state.all_sum.size() != dim) state.all_sum.assign(dim, 0.0f);
    if (state.user_sum.size() != dim) state.user_sum.assign(dim, 0.0f);
    state.embedder_id = embedder.id();
    const bool had_user = state.user_turns > 0;
    bool will_have_user = had_user;
    for (const auto& t : turns) will_have_user = will_have_user || t.role == "user";
    for (const auto& t : turns) {
        // The all-turns sum is the key only while the session has no user turn; once it has one, it never will
        // again (deleting turns rebuilds the state), so the sum stops being kept and each turn is read once.
        if (!will_have_user) embedder.accumulate(t.content, state.all_sum);
        if (t.role == "user") {
            embedder.accumulate(t.content, state.user_sum);
            ++state.user_turns;
        }
    }
    const bool has_user = state.user_turns > 0;
    Append out;
    out.embedding = embedding(embedder, state);
    // The first user turns of a session that had none switch its key from all turns to user turns: the new document
    // is exactly those turns (no earlier turn is a user turn).
    out.replace_lexical = has_user && !had_user;
    std::vector<const retrieval::LexicalIndex::Analysis*> parts;
    for (std::size_t i = 0; i < turns.size() && i < analyses.size(); ++i) {
        if (is_key_turn(turns[i].role, has_user)) parts.push_back(&analyses[i]);
    }
    out.lexical = retrieval::LexicalIndex::merge(parts);
    return out;
}

}  // namespace kasten::memory
