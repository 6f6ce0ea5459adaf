#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/longmemeval_question.h"

namespace kasten::eval {

// The document granularity of an official LongMemEval retrieval run.
enum class CorpusGranularity { kSession, kTurn };
const char* corpus_granularity_name(CorpusGranularity g);  // "session" | "turn"
bool parse_corpus_granularity(std::string_view text, CorpusGranularity* out);

// One document of the official corpus (src/retrieval/run_retrieval.py, process_item_flat_index).
struct OfficialDocument {
    std::string id;         // after the noans rewrite; may repeat when a haystack repeats a session id
    std::string text;       // session: its user turns' contents joined by one space; turn: the turn's content
    int session_index = 0;  // position of its session in the haystack lists
    int turn_index = -1;    // turn documents: 0-based index among ALL turns of the session; -1 for sessions
};

// A question's official corpus, in haystack order: the documents and the gold ids.
struct OfficialCorpus {
    CorpusGranularity granularity = CorpusGranularity::kSession;
    std::vector<OfficialDocument> documents;
    // The distinct document ids still containing "answer" after the rewrite, sorted. Empty for abstention questions
    // and for questions whose evidence is on assistant turns only.
    std::vector<std::string> gold_ids;

    std::vector<std::string> ids() const;
};

// Builds the official corpus of a question exactly as run_retrieval.py does:
// - session level: one document per haystack session (also when it has no user turn: empty text), id = session id;
//   an id containing "answer" is rewritten "answer" → "noans" (every occurrence) when none of its user turns has
//   has_answer == true;
// - turn level: one document per user turn, id "<session_id>_<i+1>" with i the 0-based index among all turns of the
//   session; in a session whose id contains "answer", a user turn without has_answer == true gets the noans rewrite.
// Gold = the distinct ids still containing "answer".
OfficialCorpus build_official_corpus(const LongMemEvalQuestion& question, CorpusGranularity granularity);

// The official turn id → session id mapping: everything before the last '_' ("a_b_3" → "a_b"; no '_' → "").
std::string strip_turn_id(std::string_view turn_id);

}  // namespace kasten::eval
