// EmbeddedLanguageModel's saved prefixes (activation memory): a loaded prefix gives the same greedy output as
// recomputing it, prefills only the rest, and a snapshot that does not fit or is damaged is refused cleanly.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/embedded_language_model.h"
#include "stories_fixture.h"

namespace kasten::llm {
namespace {

std::unique_ptr<EmbeddedLanguageModel> open_stories(const std::string& policy) {
    EmbeddedModelOptions o;
    o.model_path = testing::stories_gguf();
    o.n_ctx = 512;
    o.n_threads = 2;
    o.n_batch = 16;  // prompts of several batches, so a prefix ends inside one
    o.kv_cache.policy = policy;
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

const std::vector<ChatMessage>& story_chat() {
    static const std::vector<ChatMessage> messages = {
        {"system",
         "You tell short stories to small children. The stories have a cat named Tom, a dog named Sam and a "
         "bird that sings in the big tree. Every story ends happily.\n\nMemories:\n\n"
         "[2026-12-01] Tom found a red ball in the park."},
        {"user", "Tell me a story about Tom and the ball."}};
    return messages;
}
constexpr const char* kPinned =
    "You tell short stories to small children. The stories have a cat named Tom, a dog named Sam and a bird that sings "
    "in the big tree. Every story ends happily.\n\nMemories:\n\n";

TEST(EmbeddedPrefixTest, PrefixTokensStartTheChatPrompt) {
    auto model = open_stories("full");
    const std::vector<TokenId> prompt = model->chat_prompt(story_chat());
    const std::vector<TokenId> prefix = model->chat_prompt_prefix(story_chat(), kPinned);
    ASSERT_GT(prefix.size(), 30u);
    ASSERT_LT(prefix.size() + 10, prompt.size());
    EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), prompt.begin()));
    EXPECT_TRUE(model->chat_prompt_prefix(story_chat(), "not in the prompt").empty());
    EXPECT_TRUE(model->chat_prompt_prefix(story_chat(), "").empty());
}

TEST(EmbeddedPrefixTest, LoadedPrefixGivesTheGreedyOutputOfRecomputing) {
    for (const std::string policy : {"full", "f16", "kivi8", "kivi4"}) {
        SCOPED_TRACE(policy);
        auto fresh = open_stories(policy);
        Result<Generation> recomputed = fresh->chat(story_chat(), greedy(40));
        ASSERT_TRUE(recomputed.is_ok()) << recomputed.status().to_string();
        EXPECT_EQ(recomputed->cached_prompt_tokens, 0);

        auto saver = open_stories(policy);
        const std::vector<TokenId> prefix = saver->chat_prompt_prefix(story_chat(), kPinned);
        Result<std::string> snapshot = saver->save_prefix(prefix);
        ASSERT_TRUE(snapshot.is_ok()) << snapshot.status().to_string();
        EXPECT_EQ(saver->cached_prefix_length(prefix), prefix.size());

        auto loader = open_stories(policy);
        ASSERT_TRUE(loader->load_prefix(snapshot.value()).is_ok());
        EXPECT_EQ(loader->cached_prefix_length(prefix), prefix.size());
        Result<Generation> loaded = loader->chat(story_chat(), greedy(40));
        ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
        EXPECT_EQ(loaded->cached_prompt_tokens, static_cast<int>(prefix.size()));
        // The model that computed the prefix before the prompt holds the same cache as the one that loaded it.
        Result<Generation> computed = saver->chat(story_chat(), greedy(40));
        ASSERT_TRUE(computed.is_ok());
        EXPECT_EQ(loaded->text, computed->text);
        EXPECT_EQ(loaded->completion_tokens, computed->completion_tokens);
        // Full and f16 caches do not depend on how the prompt was split into batches: the same text as evaluating
        // the whole prompt at once. KIVI quantizes groups at batch ends, so there only the loaded and the
        // computed prefix are compared (above).
        if (policy == "full" || policy == "f16") {
            EXPECT_EQ(loaded->text, recomputed->text);
        }
        EXPECT_FALSE(loaded->text.empty());
    }
}

TEST(EmbeddedPrefixTest, ModelIdNamesTheFileAndThePolicy) {
    auto full = open_stories("full");
    auto kivi = open_stories("kivi4");
    const std::string a = full->prefix_model_id().value();
    const std::string b = kivi->prefix_model_id().value();
    EXPECT_NE(a, b);
    EXPECT_EQ(a.rfind("gguf:stories260K-tok512@", 0), 0u) << a;
    EXPECT_NE(a.find("/full-f32"), std::string::npos) << a;
    EXPECT_NE(b.find("/kivi-q4-r32"), std::string::npos) << b;
    EXPECT_EQ(a, open_stories("full")->prefix_model_id().value());
}

TEST(EmbeddedPrefixTest, ASnapshotOfAnotherPolicyOrDamagedIsRefused) {
    auto saver = open_stories("f16");
    const std::vector<TokenId> prefix = saver->chat_prompt_prefix(story_chat(), kPinned);
    const std::string snapshot = saver->save_prefix(prefix).value();

    auto other = open_stories("full");
    ASSERT_TRUE(other->chat(story_chat(), greedy(2)).is_ok());
    Status s = other->load_prefix(snapshot);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.to_string();
    EXPECT_EQ(other->cached_prefix_length(prefix), 0u);  // nothing stale is reused
    Result<Generation> after = other->chat(story_chat(), greedy(2));
    ASSERT_TRUE(after.is_ok());
    EXPECT_EQ(after->cached_prompt_tokens, 0);

    auto same = open_stories("f16");
    std::string damaged = snapshot;
    damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 1);
    EXPECT_EQ(same->load_prefix(damaged).code(), StatusCode::kCorruption);
    EXPECT_EQ(same->load_prefix(std::string_view(snapshot).substr(0, snapshot.size() - 9)).code(),
              StatusCode::kCorruption);
    EXPECT_EQ(same->cached_prefix_length(prefix), 0u);
    EXPECT_TRUE(same->load_prefix(snapshot).is_ok());
}

TEST(EmbeddedPrefixTest, EvictingCachesSaveNothing) {
    EmbeddedModelOptions o;
    o.model_path = testing::stories_gguf();
    o.n_ctx = 512;
    o.kv_cache.policy = "h2o";
    o.kv_cache.budget_bytes = 256 * 1024;
    auto model = EmbeddedLanguageModel::open(o);
    ASSERT_TRUE(model.is_ok()) << model.status().to_string();
    const std::vector<TokenId> prefix = (*model)->chat_prompt_prefix(story_chat(), kPinned);
    EXPECT_EQ((*model)->save_prefix(prefix).status().code(), StatusCode::kNotSupported);
    EXPECT_EQ((*model)->save_prefix({}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kasten::llm
