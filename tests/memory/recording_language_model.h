#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "llm/language_model.h"

namespace kasten::memory::testing {

// A LanguageModel decorator for tests: forwards every call to `inner` and keeps each successful chat generation
// with the JSON schema it was asked for, so a test can check a real model's raw output. Not thread-safe.
class RecordingLanguageModel final : public llm::LanguageModel {
  public:
    struct Record {
        llm::Generation generation;
        std::string json_schema;  // "" when none was asked for
    };

    explicit RecordingLanguageModel(std::shared_ptr<llm::LanguageModel> inner) : inner_(std::move(inner)) {}

    const std::vector<Record>& records() const { return records_; }

    std::string id() const override { return inner_->id(); }
    Result<llm::Generation> chat(const std::vector<llm::ChatMessage>& messages, const llm::GenerationOptions& options,
                                 const llm::TokenCallback& on_token = {}) override {
        Result<llm::Generation> g = inner_->chat(messages, options, on_token);
        if (g.is_ok()) records_.push_back({*g, options.json_schema.value_or("")});
        return g;
    }
    Result<llm::Generation> complete(std::string_view prompt, const llm::GenerationOptions& options,
                                     const llm::TokenCallback& on_token = {}) override {
        Result<llm::Generation> g = inner_->complete(prompt, options, on_token);
        if (g.is_ok()) records_.push_back({*g, options.json_schema.value_or("")});
        return g;
    }

  private:
    std::shared_ptr<llm::LanguageModel> inner_;
    std::vector<Record> records_;
};

}  // namespace kasten::memory::testing
