#include "llm/json_logits_mask.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <iostream>

#include "json_schema_check.h"
#include "llm/embedded_language_model.h"
#include "stories_fixture.h"
#include "vocab_fixture.h"

namespace kasten::llm {
namespace {

// The issue's acceptance schema: an object with a string array and an enum.
constexpr const char* kStorySchema = R"({
    "type": "object", "additionalProperties": false,
    "properties": {
        "characters": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 16},
                       "minItems": 1, "maxItems": 4},
        "mood": {"enum": ["happy", "sad", "scared"]}
    },
    "required": ["characters", "mood"]})";

std::unique_ptr<EmbeddedLanguageModel> open_stories() {
    EmbeddedModelOptions o;
    o.model_path = testing::stories_gguf();
    o.n_ctx = 512;
    o.n_threads = 1;  // stories260K is tiny; a second thread buys nothing here
    Result<std::unique_ptr<EmbeddedLanguageModel>> m = EmbeddedLanguageModel::open(o);
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    return std::move(m).value();
}

JsonSchema parse(std::string_view text) {
    Result<JsonSchema> s = JsonSchema::parse(text);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return std::move(s).value();
}

std::vector<int> allowed_tokens(JsonLogitsMask& mask, int n_vocab) {
    std::vector<float> logits(static_cast<std::size_t>(n_vocab), 0.0f);
    mask.apply(logits);
    std::vector<int> out;
    for (int i = 0; i < n_vocab; ++i) {
        if (std::isfinite(logits[static_cast<std::size_t>(i)])) out.push_back(i);
    }
    return out;
}

TEST(JsonLogitsMaskTest, AllowsExactlyTheTokensTheGrammarAccepts) {
    auto model = open_stories();
    const Tokenizer& tok = model->tokenizer();
    Result<std::unique_ptr<JsonLogitsMask>> mask = JsonLogitsMask::create(kStorySchema, tok);
    ASSERT_TRUE(mask.is_ok()) << mask.status().to_string();
    std::mt19937 rng(3);
    for (int step = 0; step < 40; ++step) {
        const JsonGrammar& g = (*mask)->grammar();
        const std::vector<int> allowed = allowed_tokens(**mask, tok.vocab_size());
        ASSERT_FALSE(allowed.empty());
        for (int id = 0; id < tok.vocab_size(); ++id) {
            const bool is_allowed = std::binary_search(allowed.begin(), allowed.end(), id);
            bool expected;
            if (tok.is_end_of_generation(id)) {
                expected = g.is_complete();
            } else {
                const std::string_view piece = tok.token_to_piece(id);
                JsonGrammar copy = g;
                expected = !piece.empty() && copy.feed(piece);
            }
            ASSERT_EQ(is_allowed, expected) << "token " << id << " '" << tok.token_to_piece(id) << "' at step " << step;
        }
        const int chosen = allowed[rng() % allowed.size()];
        if (tok.is_end_of_generation(chosen)) break;
        (*mask)->accept(chosen);
    }
}

TEST(JsonLogitsMaskTest, OnlyEndOfGenerationOnceTheValueIsClosed) {
    auto model = open_stories();
    const Tokenizer& tok = model->tokenizer();
    auto mask = JsonLogitsMask::create(R"({"enum":["ab"]})", tok);
    ASSERT_TRUE(mask.is_ok());
    for (char c : std::string("\"ab\"")) {
        const std::string byte_token = fmt::format("<0x{:02X}>", static_cast<unsigned char>(c));
        (*mask)->accept(tok.find_token(byte_token).value());
    }
    EXPECT_TRUE((*mask)->grammar().is_closed());
    EXPECT_EQ(allowed_tokens(**mask, tok.vocab_size()), tok.end_of_generation_ids());
}

TEST(JsonLogitsMaskTest, CreateReportsSchemaErrors) {
    auto model = open_stories();
    EXPECT_EQ(JsonLogitsMask::create(R"({"type":"string","format":"date"})", model->tokenizer()).status().code(),
              StatusCode::kNotSupported);
    EXPECT_EQ(JsonLogitsMask::create("{", model->tokenizer()).status().code(), StatusCode::kInvalidArgument);
    GenerationOptions o;
    o.json_schema = R"({"type":"string","pattern":"a+"})";
    EXPECT_EQ(model->complete("Once", o).status().code(), StatusCode::kNotSupported);
}

// Issue 4 acceptance: stories260K at temperature 1 produces JSON that parses and validates, 100 seeds of 100.
TEST(JsonLogitsMaskTest, ConstrainedGenerationIsAlwaysValid) {
    auto model = open_stories();
    const JsonSchema schema = parse(kStorySchema);
    int stopped = 0;
    for (std::uint64_t seed = 1; seed <= 100; ++seed) {
        GenerationOptions o;
        o.temperature = 1.0;
        o.seed = seed;
        o.max_tokens = 96;
        o.json_schema = kStorySchema;
        std::string streamed;
        Result<Generation> g = model->complete("Once upon a time", o, [&](std::string_view piece) {
            streamed += piece;
            return true;
        });
        ASSERT_TRUE(g.is_ok()) << g.status().to_string();
        EXPECT_EQ(testing::check_json(schema, g->text), "") << "seed " << seed << ": " << g->text;
        EXPECT_EQ(streamed, g->text);
        stopped += g->finish_reason == "stop";
    }
    EXPECT_GT(stopped, 0);  // most generations close their value and end on EOS well before the budget
}

// Without length bounds in the schema, the token budget alone forces the value closed in time.
TEST(JsonLogitsMaskTest, TokenBudgetForcesTheValueClosed) {
    constexpr const char* kUnbounded = R"({"type":"object","properties":{
        "words":{"type":"array","items":{"type":"string"}},
        "n":{"type":"number"},
        "kind":{"enum":["a","b"]}},"required":["words","n","kind"]})";
    auto model = open_stories();
    const JsonSchema schema = parse(kUnbounded);
    for (int max_tokens : {30, 33, 40, 64}) {
        for (std::uint64_t seed = 1; seed <= 8; ++seed) {
            GenerationOptions o;
            o.temperature = 1.5;
            o.seed = seed;
            o.max_tokens = max_tokens;
            o.json_schema = kUnbounded;
            Result<Generation> g = model->complete("Once upon a time", o);
            ASSERT_TRUE(g.is_ok()) << g.status().to_string();
            EXPECT_LE(g->completion_tokens, max_tokens);
            EXPECT_EQ(testing::check_json(schema, g->text), "")
                << "max_tokens " << max_tokens << " seed " << seed << ": " << g->text;
        }
    }
    // {"words":[],"n":0,"kind":"a"} takes 29 bytes: a smaller budget still ends closed (byte tokens only).
    GenerationOptions o;
    o.temperature = 1.0;
    o.max_tokens = 29;
    o.json_schema = kUnbounded;
    Result<Generation> g = model->complete("Once", o);
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_EQ(testing::check_json(schema, g->text), "") << g->text;
}

// GPT-2's 50k-token byte-level vocabulary with random logits: every sequence ends valid within its budget, and
// the per-state cache keeps masking fast.
TEST(JsonLogitsMaskTest, MasksALargeVocabularyQuickly) {
    std::unique_ptr<Tokenizer> tok = testing::load_vocab_tokenizer("gpt-2");
    ASSERT_NE(tok, nullptr);
    ASSERT_GT(tok->vocab_size(), 50000);
    const JsonSchema schema = parse(kStorySchema);
    std::mt19937 rng(11);
    std::vector<float> logits(static_cast<std::size_t>(tok->vocab_size()));
    const auto start = std::chrono::steady_clock::now();
    int steps = 0;
    for (int run = 0; run < 10; ++run) {
        const int budget = 20 + 10 * run;
        auto mask = JsonLogitsMask::create(kStorySchema, *tok, budget);
        ASSERT_TRUE(mask.is_ok()) << mask.status().to_string();
        std::string text;
        for (int n = 0; n < budget; ++n, ++steps) {
            for (float& l : logits) l = static_cast<float>(rng() % 1000) / 100.0f;
            (*mask)->apply(logits);
            const auto best = std::max_element(logits.begin(), logits.end());
            ASSERT_TRUE(std::isfinite(*best));
            const int token = static_cast<int>(best - logits.begin());
            if (tok->is_end_of_generation(token)) break;
            (*mask)->accept(token);
            text += tok->token_to_piece(token);
        }
        EXPECT_EQ(testing::check_json(schema, text), "") << "budget " << budget << ": " << text;
    }
    const double ms_per_step =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / steps;
    EXPECT_LT(ms_per_step, 50.0 * KASTEN_TEST_SLOWDOWN);
    std::cout << "GPT-2 vocabulary: " << ms_per_step << " ms per masked step over " << steps << " steps\n";
}

}  // namespace
}  // namespace kasten::llm
