#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/search_tuning.h"
#include "common/result.h"
#include "eval/context_coverage.h"
#include "eval/kasten_retriever_spec.h"
#include "eval/locomo_sample.h"
#include "eval/qa_model.h"
#include "eval/retrieval_metrics.h"
#include "llm/embedder.h"

namespace kasten::eval {

// Cut-offs of LoCoMo's evidence recall: dialogue level (the official RAG runs read the top 5–50 dialogues) and
// session level.
inline const std::vector<int> kLocomoDialogueCutoffs = {1, 3, 5, 10, 25, 50};
inline const std::vector<int> kLocomoSessionCutoffs = {1, 2, 3, 5, 10};

struct LocomoOptions {
    std::string data_path;
    // "bm25" (rank_bm25 BM25Okapi over the dialogue texts, whitespace tokens — a baseline; LoCoMo's own retrievers
    // are dense models not reproduced here), "lexical", "vector", "hybrid" (kasten through MemoryManager).
    std::vector<std::string> retrievers = {"bm25", "hybrid"};
    std::shared_ptr<const llm::Embedder> embedder;  // required for kasten retrievers
    NoteBuilding notes;                             // required for "+notes" retrievers
    SearchTuning tuning;                            // search settings changed from the defaults (--tune)
    int threads = 2;
    bool progress = true;
    std::int64_t limit = 0;       // first N selected questions (file order); 0 = all
    std::vector<int> categories;  // official ids to keep; empty = all
    // QA (optional): the reader answers with the official prompts; F1 is always computed, the J judge when given.
    std::shared_ptr<QaModel> reader;
    std::shared_ptr<QaModel> judge;
    std::string reader_retriever;  // whose dialogue ranking feeds the RAG context; default: the last retriever
    int reader_top_k = 5;          // dialogues in the RAG context (the official --top-k default)
    std::vector<std::string> reader_contexts = {"retrieval"};  // "retrieval" (RAG, dialog mode) and/or "full"
    int reader_max_tokens = 32;                                // the official num_tokens_request
    int judge_max_tokens = 256;
    // Packed context (budget > 0, needs a kasten retriever's cube): every strategy's context for each question,
    // asked at the time of the sample's last session, scored against the evidence dialogues and their sessions.
    ContextEvalOptions context;
};

struct LocomoRetrieverResult {
    std::string retriever;
    std::vector<std::string> dialogue_ranked;  // dia_ids, best first (the first 50)
    std::vector<std::string> session_ranked;   // "S<n>", best first (all sessions)
    int retrieved = 0;                         // dialogues the retriever returned (kasten); the rest follow in order
    MetricMap dialogue;                        // recall@k, recall_all@k (kLocomoDialogueCutoffs)
    MetricMap session;                         // kLocomoSessionCutoffs
    double seconds = 0;
};

// One reader path of one question.
struct LocomoQaPath {
    std::string context;  // "retrieval" | "full"
    std::size_t prompt_chars = 0;
    std::string reply;   // the reader's raw reply
    std::string answer;  // as the official code records it (locomo_recorded_answer)
    double f1 = 0;       // locomo_answer_score
    bool reader_cached = false;
    std::optional<bool> judge_correct;  // categories 1–4 with a judge
    std::string judge_reply;
    bool judge_unparsed = false;  // no JSON label (counted as WRONG)
    bool judge_cached = false;
};

struct LocomoQuestionResult {
    std::string id;  // "<sample_id>:<qa index>"
    std::string sample_id;
    int qa_index = 0;
    int category = 0;
    std::string question;
    std::string answer;  // gold (adversarial_answer for category 5)
    std::vector<std::string> evidence;
    std::vector<LocomoRetrieverResult> retrievers;  // in option order
    std::vector<LocomoQaPath> qa;                   // in reader_contexts order
    std::vector<ContextCoverage> contexts;          // with LocomoOptions::context (no top5 baseline)
};

struct LocomoRun {
    LocomoOptions options;
    std::string data_sha256;
    std::string embedder_id;
    std::int64_t samples = 0;
    std::int64_t sessions = 0;
    std::int64_t turns = 0;
    std::int64_t questions_in_file = 0;
    std::vector<LocomoQuestionResult> questions;  // selected questions, file order
    double ingest_seconds = 0;                    // summed over samples
    double notes_seconds = 0;                     // note jobs ("+notes"), summed; not in ingest_seconds
    double wall_seconds = 0;
    std::optional<QaRunInfo> qa;
};

// Runs LoCoMo: each sample's sessions are ingested in order with their parsed date_times (one fresh in-memory cube
// per sample), every question is ranked by every retriever at dialogue and session level and scored with the
// official evidence recall, and (with a reader) answered and scored with the official F1 (and the J judge).
// kInvalidArgument for bad options; parse and MemoryManager errors otherwise.
[[nodiscard]] Result<LocomoRun> run_locomo(const LocomoOptions& options);

// The text kasten and bm25 index for a turn: `<speaker> said, "<text>"`, plus "\n[shares <blip_caption>]" on image
// turns.
std::string locomo_indexed_text(const LocomoTurn& turn);

}  // namespace kasten::eval
