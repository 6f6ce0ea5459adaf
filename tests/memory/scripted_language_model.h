#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "llm/language_model.h"

namespace kasten::memory::testing {

// A LanguageModel test double: each call (chat or complete) returns the next scripted reply, in order, and records
// what it was asked. A call past the end of the script fails with kFailedPrecondition. Not thread-safe.
class ScriptedLanguageModel final : public llm::LanguageModel {
  public:
    struct Call {
        std::vector<llm::ChatMessage> messages;  // chat(); empty for complete()
        std::string prompt;                      // complete(); for chat(), the message contents joined by "\n"
        llm::GenerationOptions options;
    };

    explicit ScriptedLanguageModel(std::string id = "scripted") : id_(std::move(id)) {}

    // Queues a reply text (finish "stop").
    ScriptedLanguageModel& reply(std::string text) {
        script_.push_back({Status::ok(), std::move(text)});
        return *this;
    }
    // Queues a failing call.
    ScriptedLanguageModel& fail(Status status) {
        script_.push_back({std::move(status), {}});
        return *this;
    }

    const std::vector<Call>& calls() const { return calls_; }
    std::size_t remaining() const { return script_.size(); }

    std::string id() const override { return id_; }

    Result<llm::Generation> chat(const std::vector<llm::ChatMessage>& messages, const llm::GenerationOptions& options,
                                 const llm::TokenCallback& on_token = {}) override {
        std::string joined;
        for (const llm::ChatMessage& m : messages) {
            if (!joined.empty()) joined += "\n";
            joined += m.content;
        }
        calls_.push_back({messages, joined, options});
        return next(on_token);
    }

    Result<llm::Generation> complete(std::string_view prompt, const llm::GenerationOptions& options,
                                     const llm::TokenCallback& on_token = {}) override {
        calls_.push_back({{}, std::string(prompt), options});
        return next(on_token);
    }

  private:
    struct Reply {
        Status status;
        std::string text;
    };

    Result<llm::Generation> next(const llm::TokenCallback& on_token) {
        if (script_.empty()) return Status::failed_precondition("scripted language model: script exhausted");
        Reply r = std::move(script_.front());
        script_.pop_front();
        if (!r.status.is_ok()) return r.status;
        if (on_token) on_token(r.text);
        llm::Generation g;
        g.text = std::move(r.text);
        g.prompt_tokens = static_cast<int>(calls_.back().prompt.size());
        g.completion_tokens = static_cast<int>(g.text.size());
        g.finish_reason = "stop";
        return g;
    }

    std::string id_;
    std::deque<Reply> script_;
    std::vector<Call> calls_;
};

}  // namespace kasten::memory::testing
