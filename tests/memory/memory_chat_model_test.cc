// MemoryChat with the embedded model: a conversation's prompt stays a cached prefix from message to message.
#include <gtest/gtest.h>

#include "llm/hashing_embedder.h"
#include "memory/memory_chat.h"
#include "memory/memory_manager.h"
#include "memory/token_counter.h"
#include "tests/memory/stories_model.h"

namespace kasten::memory {
namespace {

std::unique_ptr<MemoryManager> open_mm() {
    MemoryOptions o;
    o.in_memory = true;
    o.embedder = std::make_shared<llm::HashingEmbedder>(64);
    o.background_jobs = false;
    auto r = MemoryManager::open(o);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r).value();
}

struct TurnCost {
    int prompt = 0;
    int cached = 0;
    int own = 0;  // tokens of this message and the memory given with it
    int uncached() const { return prompt - cached; }
};

// Four messages of one conversation, the REPL's way: the conversation continues from what the model saw.
std::vector<TurnCost> converse(ContextPlacement placement) {
    // A context larger than the model was trained with: the answers do not matter here, only what is computed.
    llm::EmbeddedModelOptions mo;
    mo.model_path = llm::testing::stories_gguf();
    mo.n_ctx = 2048;
    mo.n_threads = 2;
    auto opened = llm::EmbeddedLanguageModel::open(mo);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    if (!opened.is_ok()) return {};
    std::shared_ptr<llm::EmbeddedLanguageModel> model = std::move(opened).value();
    auto mm = open_mm();
    for (const char* fact : {"The little cat liked the red ball.", "Tom found a big dog in the park.",
                             "The bird sang a happy song in the tree."}) {
        AddMessagesRequest add;
        add.cube_id = "c";
        add.session_id = "old";
        add.messages = {{"user", fact, std::nullopt}};
        EXPECT_TRUE(mm->add_messages(add).is_ok());
    }
    MemoryChatOptions options;
    options.context_budget = 200;
    options.counter =
        std::make_shared<TokenizerTokenCounter>(std::shared_ptr<const llm::Tokenizer>(model, &model->tokenizer()));
    options.placement = placement;
    MemoryChat chat(*mm, options);
    llm::GenerationOptions gen;
    gen.max_tokens = 6;
    std::vector<llm::ChatMessage> history;
    std::vector<TurnCost> costs;
    for (const char* message : {"The cat saw a ball.", "The dog ran in the park.", "The bird was in the tree.",
                                "The cat and the dog played."}) {
        history.push_back({"user", message});
        ChatExchange ex{"c", "now", history};
        auto prepared = chat.prepare(ex);
        EXPECT_TRUE(prepared.is_ok()) << prepared.status().to_string();
        if (!prepared.is_ok()) return {};
        EXPECT_NE(prepared->context.mode, "empty");
        auto g = model->chat(prepared->messages, gen);
        EXPECT_TRUE(g.is_ok()) << g.status().to_string();
        if (!g.is_ok()) return {};
        int own = options.counter->count(message);
        if (placement == ContextPlacement::kBeforeLastUser) {
            own += options.counter->count(prepared->messages[prepared->messages.size() - 2].content);
        }
        costs.push_back({g->prompt_tokens, g->cached_prompt_tokens, own});
        EXPECT_TRUE(chat.remember(ex, *prepared, g->text, false).is_ok());
        history = prepared->messages;
        history.push_back({"assistant", g->text});
    }
    return costs;
}

TEST(MemoryChatModelTest, EachMessageCostsItsOwnTokensNotTheWholeConversation) {
    const std::vector<TurnCost> costs = converse(ContextPlacement::kBeforeLastUser);
    ASSERT_EQ(costs.size(), 4u);
    // The chat template's markup around a message, as the first message (nothing cached) shows it.
    const int markup = costs[0].prompt - costs[0].own;
    for (size_t i = 1; i < costs.size(); ++i) {
        SCOPED_TRACE(i);
        // Everything the model saw before is reused: the previous prompt is a cached prefix of this one.
        EXPECT_GE(costs[i].cached, costs[i - 1].prompt);
        // What is evaluated is this message with its memory, the previous answer (6 tokens at most) and the chat
        // template's markup around them (twice the first message's: the answer's end and this message's start):
        // not the conversation again.
        EXPECT_LE(costs[i].uncached(), costs[i].own + 6 + 2 * markup);
    }
    EXPECT_GT(costs.back().prompt, 2 * costs.back().uncached());
}

TEST(MemoryChatModelTest, MemoryInTheFirstSystemMessageRecomputesTheConversation) {
    // The contrast that shows what the placement buys: memory that changes at the top invalidates the prefix.
    const std::vector<TurnCost> costs = converse(ContextPlacement::kFirstSystem);
    ASSERT_EQ(costs.size(), 4u);
    EXPECT_LT(costs.back().cached, costs[2].prompt);
}

}  // namespace
}  // namespace kasten::memory
