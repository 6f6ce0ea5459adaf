#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "llm/embedded_language_model.h"
#include "tests/llm/stories_fixture.h"

namespace kasten::memory::testing {

// The committed stories260K GGUF as an in-process language model with its 512-token training context; null (and a
// test failure) when it cannot be opened.
inline std::shared_ptr<llm::EmbeddedLanguageModel> open_stories_model() {
    llm::EmbeddedModelOptions o;
    o.model_path = llm::testing::stories_gguf();
    o.n_ctx = 512;
    o.n_threads = 2;
    Result<std::unique_ptr<llm::EmbeddedLanguageModel>> m = llm::EmbeddedLanguageModel::open(o);
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    return m.is_ok() ? std::shared_ptr<llm::EmbeddedLanguageModel>(std::move(m).value()) : nullptr;
}

}  // namespace kasten::memory::testing
