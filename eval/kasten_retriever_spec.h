#pragma once

#include <memory>
#include <string>
#include <vector>

#include "memory/link_decider.h"
#include "memory/memory_manager.h"
#include "memory/note_builder.h"

namespace kasten::eval {

// A kasten retriever of an evaluation run, by name: "lexical", "vector" or "hybrid" searches the turn or session
// keys alone; with the suffix "+notes" (e.g. "hybrid+notes") the haystack's notes are extra keys too
// (SearchRequest::note_keys), which needs the haystack's notes built (NoteBuilding).
struct KastenRetrieverSpec {
    // Implicit: a bare memory::Retriever is that retriever without notes.
    KastenRetrieverSpec(memory::Retriever r = memory::Retriever::kHybrid, bool with_notes = false)  // NOLINT
        : retriever(r), notes(with_notes) {}
    memory::Retriever retriever;
    bool notes;
};

// false for any other name (e.g. "bm25").
bool parse_kasten_retriever_spec(const std::string& name, KastenRetrieverSpec* out);
// Whether any of `retrievers` is a "+notes" one (the haystack must build its notes).
bool needs_notes(const std::vector<std::string>& retrievers);
// A report's description of retriever `name`: describe(name) for plain names; for "X+notes", describe("X") and what
// the notes add.
std::string describe_with_notes(const std::string& name, std::string (*describe)(const std::string&));

// How an evaluation haystack builds its notes: after ingest, every session's note job runs in the calling thread.
// Both are shared by all workers and must be thread-safe (the heuristic ones are).
struct NoteBuilding {
    std::shared_ptr<memory::NoteBuilder> builder;
    std::shared_ptr<memory::LinkDecider> decider;
};

}  // namespace kasten::eval
