#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "eval/qa_cache.h"
#include "llm/language_model.h"

namespace kasten::eval {

// One reply of a reader or judge.
struct QaReply {
    std::string text;     // the model's text as generated (callers strip it where the official code does)
    bool cached = false;  // served from the QaCache without a model call
};

// What a report says about the QA part of a run.
struct QaRunInfo {
    std::string reader;     // model id
    std::string judge;      // model id; "" without a judge
    std::string retriever;  // whose ranking fed the reader ("" for a full-context path only)
    int top_k = 0;          // items given to the reader
    std::string cache_path;
    std::int64_t reader_calls = 0;
    std::int64_t reader_cache_hits = 0;
    std::int64_t judge_calls = 0;
    std::int64_t judge_cache_hits = 0;
};

// A reader or judge of an evaluation run: a LanguageModel asked with one user message (as the official scripts do),
// greedy (temperature 0), behind a QaCache so a rerun makes no model call. Thread-safe when the model is (the
// OpenAI client is; callers must not share a model that is not across threads).
class QaModel {
  public:
    // `cache` may be null (no caching).
    QaModel(std::shared_ptr<llm::LanguageModel> model, std::shared_ptr<QaCache> cache);

    // The reply to `prompt` sent as a single user chat message, temperature 0, at most max_tokens tokens. The
    // model's errors are returned as they are; a cache write failure is kIOError.
    [[nodiscard]] Result<QaReply> ask(const std::string& prompt, int max_tokens);

    std::string id() const { return id_; }
    std::int64_t model_calls() const { return calls_.load(); }
    std::int64_t cache_hits() const { return hits_.load(); }

  private:
    std::shared_ptr<llm::LanguageModel> model_;
    std::shared_ptr<QaCache> cache_;
    const std::string id_;
    std::atomic<std::int64_t> calls_{0};
    std::atomic<std::int64_t> hits_{0};
};

}  // namespace kasten::eval
