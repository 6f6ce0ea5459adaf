#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eval/search_tuning.h"
#include "common/result.h"
#include "eval/convomem_prompts.h"
#include "eval/convomem_test_case.h"
#include "eval/kasten_retriever_spec.h"
#include "eval/qa_model.h"
#include "eval/retrieval_metrics.h"
#include "llm/embedder.h"

namespace kasten::eval {

// Cut-offs of ConvoMem evidence recall (ConvoMem defines no retrieval metric; these follow LoCoMo's official share).
inline const std::vector<int> kConvoMemMessageCutoffs = {1, 3, 5, 10, 20, 50};
inline const std::vector<int> kConvoMemConversationCutoffs = {1, 2, 3, 5, 10};

struct ConvoMemOptions {
    std::string data_path;  // a file or a directory (every *.json below it)
    std::vector<std::string> retrievers = {"bm25", "hybrid"};
    std::shared_ptr<const llm::Embedder> embedder;
    NoteBuilding notes;  // required for "+notes" retrievers
    SearchTuning tuning;  // search settings changed from the defaults (--tune)
    int threads = 2;
    bool progress = true;
    std::int64_t limit = 0;  // first N items (load order); 0 = all
    // QA (optional): the official answer prompt over the whole context ("full", the paper's long_context) and/or over
    // the retrieved messages ("retrieval"), judged with the category's official judge prompt.
    std::shared_ptr<QaModel> reader;
    std::shared_ptr<QaModel> judge;
    std::string reader_retriever;  // default: the last retriever (also measured without a reader)
    int reader_top_k = 10;         // messages given to the retrieval path
    std::vector<std::string> reader_contexts = {"full", "retrieval"};
    int reader_max_tokens = 512;
    int judge_max_tokens = 16;
};

struct ConvoMemRetrieverResult {
    std::string retriever;
    std::vector<std::string> message_ranked;       // "<conversation id>#<message index>", the first 50
    std::vector<std::string> conversation_ranked;  // conversation ids, all
    int retrieved = 0;
    MetricMap message;       // recall@k, recall_all@k (kConvoMemMessageCutoffs)
    MetricMap conversation;  // kConvoMemConversationCutoffs
    double seconds = 0;
};

struct ConvoMemQaPath {
    std::string context;  // "full" | "retrieval"
    std::size_t prompt_chars = 0;
    std::string hypothesis;  // the reader's reply, trimmed
    bool reader_cached = false;
    std::optional<bool> correct;  // with a judge
    std::string judge_reply;
    bool judge_unparsed = false;  // neither RIGHT nor WRONG (counted as wrong)
    bool judge_cached = false;
};

struct ConvoMemItemResult {
    std::string id;  // "<source>:<item index>"
    std::string label;
    std::string category;
    ConvoMemJudge judge = ConvoMemJudge::kDefault;
    int context_size = 0;
    std::string question;
    std::string answer;
    std::vector<std::string> evidence_keys;  // located evidence messages ("<conversation id>#<message index>")
    int evidence_messages = 0;               // message_evidences in the item
    int evidence_unlocated = 0;              // of them, found nowhere in the context (they count as misses)
    std::vector<ConvoMemRetrieverResult> retrievers;
    // The answer prompt over the whole context vs over the reader retriever's top reader_top_k messages (computed
    // with or without a reader), and the share of the evidence the retrieval context holds (the full one holds all).
    std::size_t full_prompt_chars = 0;
    std::size_t retrieval_prompt_chars = 0;
    double retrieval_evidence_recall = 0;
    std::vector<ConvoMemQaPath> qa;
};

struct ConvoMemRun {
    ConvoMemOptions options;
    std::string data_sha256;  // file: its SHA-256; directory: SHA-256 over "<relative path> <file sha256>\n" lines
    std::int64_t files = 0;
    std::string embedder_id;
    std::int64_t test_cases = 0;
    std::int64_t items_in_data = 0;
    std::vector<ConvoMemItemResult> items;
    double ingest_seconds = 0;  // summed over conversations, note jobs excluded
    double notes_seconds = 0;   // note jobs ("+notes"), summed
    double wall_seconds = 0;
    std::optional<QaRunInfo> qa;
};

// Runs ConvoMem: each test case's conversations are ingested into a fresh in-memory cube (one session per
// conversation, in order; ConvoMem has no dates, so conversation i gets 2024-01-01 + i days), every item is ranked by
// every retriever at message and conversation level and scored by evidence recall (evidence located by text), and
// (with a reader) answered on the full context and/or the retrieved messages and judged.
[[nodiscard]] Result<ConvoMemRun> run_convomem(const ConvoMemOptions& options);

// The data digest described at ConvoMemRun::data_sha256.
[[nodiscard]] Result<std::string> convomem_data_sha256(const std::string& path, std::int64_t* files);

}  // namespace kasten::eval
