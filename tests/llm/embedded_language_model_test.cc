#include "llm/embedded_language_model.h"

#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stories_fixture.h"
#include "temp_dir.h"

namespace kasten::llm {
namespace {

std::string published_greedy_text() {
    std::string text = testing::read_file(testing::stories_path("stories260K.greedy.txt"));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

std::unique_ptr<EmbeddedLanguageModel> open_stories(int n_ctx = 512) {
    EmbeddedModelOptions o;
    o.model_path = testing::stories_gguf();
    o.n_ctx = n_ctx;
    o.n_threads = 2;
    Result<std::unique_ptr<EmbeddedLanguageModel>> m = EmbeddedLanguageModel::open(o);
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    return std::move(m).value();
}

GenerationOptions greedy(int max_tokens) {
    GenerationOptions g;
    g.max_tokens = max_tokens;
    g.temperature = 0.0;
    return g;
}

TEST(EmbeddedLanguageModelTest, GreedyCompletionIsThePublishedText) {
    auto model = open_stories();
    EXPECT_EQ(model->id(), "gguf:stories260K-tok512");
    const std::string prompt = "Once upon a time";
    std::string streamed;
    // llama2.c's sample covers positions 1..256: the prompt's tokens after BOS, then the generation.
    const int prompt_tokens = static_cast<int>(model->tokenizer().encode(prompt, {.add_special = true}).size());
    Result<Generation> g = model->complete(prompt, greedy(257 - prompt_tokens), [&](std::string_view piece) {
        streamed += piece;
        return true;
    });
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_EQ(prompt + g->text, published_greedy_text());
    EXPECT_EQ(streamed, g->text);
    EXPECT_EQ(g->prompt_tokens, prompt_tokens);
    EXPECT_EQ(g->completion_tokens, 257 - prompt_tokens);
    EXPECT_EQ(g->finish_reason, "length");

    // The same prompt again reuses the cached prefix and gives the same text.
    Result<Generation> again = model->complete(prompt, greedy(40));
    ASSERT_TRUE(again.is_ok());
    EXPECT_EQ(again->text, g->text.substr(0, again->text.size()));
    EXPECT_EQ(again->completion_tokens, 40);
}

TEST(EmbeddedLanguageModelTest, StopStringsCutTheTextAndAreNeverStreamed) {
    auto model = open_stories();
    GenerationOptions o = greedy(100);
    o.stop = {"Lily", "zzz"};
    std::string streamed;
    Result<Generation> g = model->complete("Once upon a time", o, [&](std::string_view piece) {
        streamed += piece;
        return true;
    });
    ASSERT_TRUE(g.is_ok());
    EXPECT_EQ(g->text, ", there was a little girl named ");
    EXPECT_EQ(streamed, g->text);
    EXPECT_EQ(g->finish_reason, "stop");
}

TEST(EmbeddedLanguageModelTest, CallbackCanStopTheGeneration) {
    auto model = open_stories();
    int calls = 0;
    Result<Generation> g =
        model->complete("Once upon a time", greedy(100), [&](std::string_view) { return ++calls < 5; });
    ASSERT_TRUE(g.is_ok());
    EXPECT_EQ(calls, 5);
    EXPECT_EQ(g->finish_reason, "stop");
    EXPECT_LE(g->completion_tokens, 6);
}

TEST(EmbeddedLanguageModelTest, LogprobsDescribeEveryGeneratedTokenStreamedOrNot) {
    auto model = open_stories();
    GenerationOptions o = greedy(30);
    o.logprobs = true;
    o.top_logprobs = 3;
    o.stop = {"Lily"};
    std::string streamed;
    std::vector<TokenLogprob> streamed_logprobs;
    Result<Generation> g =
        model->complete("Once upon a time", o, [&](std::string_view piece, std::span<const TokenLogprob> logprobs) {
            streamed += piece;
            streamed_logprobs.insert(streamed_logprobs.end(), logprobs.begin(), logprobs.end());
            return true;
        });
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_EQ(g->text, ", there was a little girl named ");
    EXPECT_EQ(streamed, g->text);
    // The tokens that make up the text, in order, each the most likely at its position (greedy). The stop string
    // begins inside the last token (" Lily"): that token is reported whole, the tokens after it are not.
    ASSERT_FALSE(g->logprobs.empty());
    EXPECT_LE(static_cast<int>(g->logprobs.size()), g->completion_tokens);
    std::string joined;
    for (const TokenLogprob& t : g->logprobs) {
        EXPECT_EQ(t.text_offset, joined.size());
        EXPECT_LT(t.text_offset, g->text.size());
        joined += t.token;
        EXPECT_LE(t.logprob, 0.0);
        ASSERT_EQ(t.top.size(), 3u);
        EXPECT_EQ(t.top[0].token, t.token);
        EXPECT_DOUBLE_EQ(t.top[0].logprob, t.logprob);
        EXPECT_GE(t.top[0].logprob, t.top[1].logprob);
        EXPECT_GE(t.top[1].logprob, t.top[2].logprob);
    }
    EXPECT_EQ(joined, g->text + "Lily");
    ASSERT_EQ(streamed_logprobs.size(), g->logprobs.size());
    for (std::size_t i = 0; i < g->logprobs.size(); ++i) {
        EXPECT_EQ(streamed_logprobs[i].token, g->logprobs[i].token);
        EXPECT_DOUBLE_EQ(streamed_logprobs[i].logprob, g->logprobs[i].logprob);
    }
    // Without a stop string the tokens are exactly the text; without the option nothing is computed.
    o.stop.clear();
    Result<Generation> whole = model->complete("Once upon a time", o);
    ASSERT_TRUE(whole.is_ok());
    ASSERT_EQ(static_cast<int>(whole->logprobs.size()), whole->completion_tokens);
    joined.clear();
    for (const TokenLogprob& t : whole->logprobs) joined += t.token;
    EXPECT_EQ(joined, whole->text);
    Result<Generation> plain = model->complete("Once upon a time", greedy(10));
    ASSERT_TRUE(plain.is_ok());
    EXPECT_TRUE(plain->logprobs.empty());
    // An empty one-argument std::function is no callback (not a call that throws).
    const std::function<bool(std::string_view)> none;
    EXPECT_FALSE(static_cast<bool>(TokenCallback(none)));
    Result<Generation> quiet = model->complete("Once upon a time", greedy(10), none);
    ASSERT_TRUE(quiet.is_ok());
    EXPECT_EQ(quiet->text, plain->text);
}

TEST(EmbeddedLanguageModelTest, PenaltiesAndLogitBiasChangeTheGreedyText) {
    auto model = open_stories();
    Result<Generation> base = model->complete("Once upon a time", greedy(60));
    GenerationOptions o = greedy(60);
    o.frequency_penalty = 2.0;
    o.presence_penalty = 2.0;
    Result<Generation> penalised = model->complete("Once upon a time", o);
    ASSERT_TRUE(base.is_ok() && penalised.is_ok());
    EXPECT_NE(base->text, penalised->text);

    // Banning the first greedy token changes the first token chosen.
    GenerationOptions first = greedy(1);
    first.logprobs = true;
    Result<Generation> one = model->complete("Once upon a time", first);
    ASSERT_TRUE(one.is_ok());
    ASSERT_EQ(one->logprobs.size(), 1u);
    GenerationOptions banned = greedy(1);
    for (int id = 0; id < model->model().config().n_vocab; ++id) {
        if (model->tokenizer().token_to_piece(id) == one->logprobs[0].token) banned.logit_bias.emplace_back(id, -100.0);
    }
    ASSERT_FALSE(banned.logit_bias.empty());
    Result<Generation> other = model->complete("Once upon a time", banned);
    ASSERT_TRUE(other.is_ok());
    EXPECT_NE(other->text, one->text);

    GenerationOptions bad = greedy(1);
    bad.logit_bias = {{model->model().config().n_vocab, 1.0}};
    EXPECT_EQ(model->complete("Once", bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(EmbeddedLanguageModelTest, SeededSamplingIsReproducible) {
    auto model = open_stories();
    GenerationOptions o;
    o.max_tokens = 60;
    o.temperature = 1.0;
    o.top_k = 40;
    o.top_p = 0.95;
    o.min_p = 0.02;
    o.repeat_penalty = 1.1;
    o.seed = 11;
    Result<Generation> a = model->complete("Once upon a time", o);
    Result<Generation> b = model->complete("Once upon a time", o);
    o.seed = 12;
    Result<Generation> c = model->complete("Once upon a time", o);
    ASSERT_TRUE(a.is_ok() && b.is_ok() && c.is_ok());
    EXPECT_EQ(a->text, b->text);
    EXPECT_NE(a->text, c->text);
}

TEST(EmbeddedLanguageModelTest, ContextShiftsWhenGenerationOutgrowsTheContext) {
    auto model = open_stories(/*n_ctx=*/48);
    Result<Generation> g = model->complete("Once upon a time", greedy(150));
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_EQ(g->completion_tokens, 150);
    EXPECT_EQ(g->finish_reason, "length");
    // Same start as with a large context: the shift only happens once the window is full.
    const std::string expected = published_greedy_text().substr(std::string("Once upon a time").size(), 60);
    EXPECT_EQ(g->text.substr(0, 60), expected);
    // A prompt that cannot fit is refused.
    std::string long_prompt;
    for (int i = 0; i < 60; ++i) long_prompt += " the";
    EXPECT_EQ(model->complete(long_prompt, greedy(5)).status().code(), StatusCode::kResourceExhausted);
}

TEST(EmbeddedLanguageModelTest, FitContextCapsTheReplyToTheContextLeftBesideThePrompt) {
    auto model = open_stories(/*n_ctx=*/48);
    GenerationOptions o = greedy(150);
    o.fit_context = true;
    Result<Generation> g = model->complete("Once upon a time", o);
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_EQ(g->prompt_tokens + g->completion_tokens, 48);  // the greedy story runs on: the cap ends it
    EXPECT_EQ(g->finish_reason, "length");
    // The same text as without the cap, up to the cap (no shift happened before it).
    Result<Generation> shifted = model->complete("Once upon a time", greedy(150));
    ASSERT_TRUE(shifted.is_ok());
    EXPECT_EQ(shifted->text.substr(0, g->text.size()), g->text);
    // A cap above what fits changes nothing.
    o.max_tokens = 10;
    Result<Generation> short_reply = model->complete("Once upon a time", o);
    ASSERT_TRUE(short_reply.is_ok());
    EXPECT_EQ(short_reply->completion_tokens, 10);
}

// Only lets through the pieces of a fixed word list, then end of text.
class WordMask : public LogitsMask {
  public:
    WordMask(const Tokenizer& tok, std::vector<std::string> pieces) {
        for (const std::string& p : pieces) allowed_.push_back(tok.find_token(p).value_or(-1));
        eos_ = tok.eos();
    }
    void apply(std::span<float> logits) override {
        for (std::size_t i = 0; i < logits.size(); ++i) {
            const int id = static_cast<int>(i);
            const bool ok = count_ < 3 ? std::find(allowed_.begin(), allowed_.end(), id) != allowed_.end() : id == eos_;
            if (!ok) logits[i] = -std::numeric_limits<float>::infinity();
        }
    }
    void accept(int) override { ++count_; }

  private:
    std::vector<int> allowed_;
    int eos_ = -1;
    int count_ = 0;
};

TEST(EmbeddedLanguageModelTest, JsonSchemaUsesThePluggedMask) {
    auto model = open_stories();
    GenerationOptions o = greedy(20);
    o.json_schema = R"({"type":"string"})";
    model->set_json_mask_factory(nullptr);  // turns the built-in JSON mask off
    EXPECT_EQ(model->complete("Once", o).status().code(), StatusCode::kNotSupported);
    std::string seen_schema;
    model->set_json_mask_factory(
        [&](const std::string& schema, const Tokenizer& tok) -> Result<std::unique_ptr<LogitsMask>> {
            seen_schema = schema;
            return std::unique_ptr<LogitsMask>(new WordMask(tok, {"\xE2\x96\x81"
                                                                  "big",
                                                                  "\xE2\x96\x81"
                                                                  "day"}));
        });
    Result<Generation> g = model->complete("Once", o);
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_EQ(seen_schema, *o.json_schema);
    EXPECT_EQ(g->completion_tokens, 3);
    EXPECT_EQ(g->text.size(), 12u);
    EXPECT_EQ(g->finish_reason, "stop");
    for (std::size_t p = 0; p < g->text.size(); p += 4) {
        const std::string word = g->text.substr(p, 4);
        EXPECT_TRUE(word == " big" || word == " day") << g->text;
    }
}

TEST(EmbeddedLanguageModelTest, ChatFormatsMessagesAndGenerates) {
    auto model = open_stories();
    EXPECT_EQ(model->chat_template().name(), "chatml");  // stories260K has no template: ChatML fallback
    Result<Generation> g = model->chat({{"system", "Tell stories."}, {"user", "Once upon a time"}}, greedy(30));
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_GT(g->prompt_tokens, 10);
    EXPECT_GT(g->completion_tokens, 0);
    EXPECT_FALSE(g->text.empty());
}

TEST(EmbeddedLanguageModelTest, OpensLlama2cCheckpointsWithTheirTokenizer) {
    EmbeddedModelOptions o;
    o.model_path = testing::stories_bin();
    o.n_ctx = 512;
    EXPECT_EQ(EmbeddedLanguageModel::open(o).status().code(), StatusCode::kInvalidArgument);
    o.tokenizer_path = testing::stories_tokenizer_bin();
    Result<std::unique_ptr<EmbeddedLanguageModel>> m = EmbeddedLanguageModel::open(o);
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    EXPECT_EQ((*m)->id(), "llama2c:stories260K");
    Result<Generation> g = (*m)->complete("Once upon a time", greedy(20));
    ASSERT_TRUE(g.is_ok());
    EXPECT_EQ("Once upon a time" + g->text, published_greedy_text().substr(0, 16 + g->text.size()));
    o.chat_template = "nonsense";
    EXPECT_EQ(EmbeddedLanguageModel::open(o).status().code(), StatusCode::kInvalidArgument);
}

// What the context builder is sized by: every cell for a cache that keeps them, the eviction budget otherwise.
TEST(EmbeddedLanguageModelTest, KvTokensSayHowMuchContextTheCacheHolds) {
    EXPECT_EQ(open_stories(512)->kv_tokens(), 512);
    EmbeddedModelOptions o;
    o.model_path = testing::stories_gguf();
    o.n_ctx = 512;
    o.kv_cache.policy = "h2o";
    o.kv_cache.budget_bytes = 128u << 10;  // 99 f16 cells of stories260K
    Result<std::unique_ptr<EmbeddedLanguageModel>> m = EmbeddedLanguageModel::open(o);
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    const int kept = (*m)->kv_tokens();
    EXPECT_GT(kept, 0);
    EXPECT_LT(kept, 512);
    EXPECT_NE((*m)->kv_cache().name().find("-b" + std::to_string(kept) + "-"), std::string::npos)
        << (*m)->kv_cache().name();
    o.kv_cache.policy = "mixed";
    o.kv_cache.budget_bytes = 0;
    m = EmbeddedLanguageModel::open(o);
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    EXPECT_EQ((*m)->kv_tokens(), 512);
    Result<Generation> g = (*m)->complete("Once upon a time", greedy(20));
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_GT(g->completion_tokens, 0);
}

}  // namespace
}  // namespace kasten::llm
