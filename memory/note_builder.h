#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "memory/term_statistics.h"

namespace kasten::memory {

// One conversation turn as a note builder sees it.
struct SourceTurn {
    std::string id;        // store turn id ("t_…")
    std::string role;      // user | assistant | system | tool
    std::string content;   // valid UTF-8
    TimeMs conv_time = 0;  // conversation time (ms since epoch, UTC); relative dates resolve against it, never "now"
};

// The new turns of one session, in conversation order: one batch per scheduled job.
struct NoteBatch {
    std::string cube_id;
    std::string session_id;         // external session id
    std::vector<SourceTurn> turns;  // non-empty
};

// A note candidate, before deduplication, embedding, linking and storage (which the caller does).
struct NoteDraft {
    // One self-contained statement. Relative dates in it are followed by the absolute date in brackets,
    // e.g. "I adopted a puppy last Tuesday (2023-05-16)".
    std::string content;
    std::string kind = "fact";                 // fact | preference | event | plan | profile
    std::vector<std::string> keywords;         // 1..8 distinct lower-case surface words, most salient first
    std::vector<std::string> tags;             // 0..5 distinct lower-case labels (categories, not words of content)
    std::string context;                       // one line: what the conversation around it is about
    std::vector<std::string> source_turn_ids;  // non-empty subset of the batch's turn ids
    // World time the statement is about: a resolved event date (start of that day, UTC) when the text names one,
    // otherwise the conversation time of its (first) source turn.
    std::optional<TimeMs> valid_from;
    double importance = 0.5;  // [0, 1]
};

// Turns a batch of conversation turns into note drafts (A-MEM note construction, Mem0 fact extraction).
// Implementations: HeuristicNoteBuilder (no model; the offline default) and LlmNoteBuilder (one constrained-JSON
// call per batch). build() is called from one scheduler thread at a time; implementations state if they are
// thread-safe beyond that.
class NoteBuilder {
  public:
    virtual ~NoteBuilder() = default;
    // Identifies the builder and its version in provenance ("heuristic-v1", "llm:<model id>").
    virtual std::string id() const = 0;
    // Drafts for `batch`; may be empty (small talk). Drafts may repeat each other: the caller deduplicates.
    // `stats` describes the cube's corpus (it already contains the batch's turns).
    // Errors: only a failing language model (its Status); any text is valid input.
    [[nodiscard]] virtual Result<std::vector<NoteDraft>> build(const NoteBatch& batch, const TermStatistics& stats) = 0;
};

}  // namespace kasten::memory
