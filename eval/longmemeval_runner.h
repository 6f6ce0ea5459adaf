#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/search_tuning.h"
#include "common/result.h"
#include "eval/kasten_retriever_spec.h"
#include "eval/longmemeval_corpus.h"
#include "eval/longmemeval_qa.h"
#include "eval/longmemeval_question.h"
#include "eval/retrieval_metrics.h"
#include "llm/embedder.h"

#include "eval/context_coverage.h"

namespace kasten::eval {

// The retrievers a LongMemEval run can compare:
//   "bm25"    - the official baseline: rank_bm25 BM25Okapi over the official documents, whitespace tokens, the raw
//               question as query (no kasten code involved);
//   "lexical" - kasten's Xapian BM25 (stemming, stopwords) through MemoryManager;
//   "vector"  - kasten's vector index (the configured embedder) through MemoryManager;
//   "hybrid"  - both, unioned and fused (min-max), through MemoryManager;
//   "lexical+notes", "vector+notes", "hybrid+notes" - the same with the haystack's notes as extra keys
//               (LongMemEvalOptions::notes builds them).
const std::vector<std::string>& longmemeval_retriever_names();
bool is_longmemeval_retriever(const std::string& name);

// One retriever's result on one question.
struct RetrieverResult {
    std::string retriever;
    std::vector<std::string> ranked_ids;  // official ids, best first, covering the whole corpus
    int retrieved = 0;                    // leading entries the retriever returned (the rest follow in corpus order)
    // Level → metrics. A session run has "session"; a turn run has "turn" and "session" (the official turn→session
    // scoring of the same turn ranking).
    std::map<std::string, MetricMap> metrics;
    double seconds = 0;  // ranking time (kasten retrievers: search only, ingest counted apart)
};

// Everything a run records for one question.
struct QuestionResult {
    std::int64_t file_index = 0;  // position in the data file
    std::string question_id;
    std::string question_type;
    std::string question;
    std::string answer;
    std::string question_date;
    bool abstention = false;
    bool user_side_evidence = false;
    int documents = 0;  // size of the official corpus
    std::vector<std::string> gold_ids;
    std::vector<RetrieverResult> retrievers;  // in the order of LongMemEvalOptions::retrievers
    double ingest_seconds = 0;                // building the question's kasten cube (0 when only bm25 ran)
    double notes_seconds = 0;                 // building its notes (0 unless a "+notes" retriever ran): whole jobs
    double notes_construction_seconds = 0;    // of which the note builder (construction alone)
    std::int64_t notes_built = 0;
    std::vector<ContextCoverage> contexts;  // LongMemEvalOptions::context (empty when off)
    std::optional<LongMemEvalQaResult> qa;  // set by the QA stage (longmemeval_qa_stage.h) when a reader ran
};

// Called on the worker thread after retrieval, with the parsed question and its result (which it may extend, e.g.
// with a reader's hypothesis). An error stops the run. This is where a QA stage plugs in.
using QuestionHook = std::function<Status(const LongMemEvalQuestion&, QuestionResult&)>;

struct LongMemEvalOptions {
    std::string data_path;
    CorpusGranularity granularity = CorpusGranularity::kSession;
    std::vector<std::string> retrievers = {"bm25", "hybrid"};
    std::int64_t limit = 0;          // evaluate at most this many (selected) questions; 0 = all
    std::vector<std::string> types;  // canonical question types to keep; empty = all
    int threads = 2;                 // questions evaluated in parallel
    // Required when a kasten retriever is requested; shared by all workers (embedders are thread-safe).
    std::shared_ptr<const llm::Embedder> embedder;
    // Required when a "+notes" retriever is requested: how each haystack's notes are built.
    NoteBuilding notes;
    SearchTuning tuning;  // search settings changed from the defaults (--tune)
    // Packed-context evaluation (budget > 0): each question's context built with every strategy, scored for the
    // evidence it holds. Needs a kasten retriever (the haystack it builds on).
    ContextEvalOptions context;
    bool progress = true;  // progress bar on stderr
    QuestionHook hook;     // optional
};

struct LongMemEvalRun {
    LongMemEvalOptions options;
    std::string data_sha256;
    std::string embedder_id;  // "" when no kasten retriever ran
    std::int64_t questions_in_file = 0;
    std::vector<QuestionResult> questions;  // the evaluated questions, in file order
    double prescan_seconds = 0;             // hashing and counting the file
    double wall_seconds = 0;                // the whole run, prescan included
    std::optional<QaRunInfo> qa;            // filled by the caller when a QA stage ran
};

// Runs the official LongMemEval retrieval evaluation: streams the file (one question in memory per worker), builds
// each question's official corpus, ranks it with every requested retriever (a fresh in-memory kasten cube per
// question and worker), and scores the rankings with the official metrics. kInvalidArgument for bad options (unknown
// retriever or type, missing embedder), the reader's errors for a bad file, and the first failing question's error.
[[nodiscard]] Result<LongMemEvalRun> run_longmemeval(const LongMemEvalOptions& options);

// Ranks and scores one question with the given retrievers (the runner's per-question step; also used by tests).
[[nodiscard]] Result<QuestionResult> evaluate_longmemeval_question(const LongMemEvalQuestion& question,
                                                                   const LongMemEvalOptions& options);

}  // namespace kasten::eval
