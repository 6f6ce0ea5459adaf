// Activation memory through MemoryChat with the embedded model: the pinned prefix is stored in the cube on the
// first exchange, loaded on the next one instead of being recomputed (same answer), replaced when the pinned text
// changes, and a damaged segment is recomputed.
#include "memory/activation_memory.h"

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

void add_fact(MemoryManager& mm, const std::string& cube, const std::string& fact) {
    AddMessagesRequest add;
    add.cube_id = cube;
    add.session_id = "old";
    add.messages = {{"user", fact, std::nullopt}};
    ASSERT_TRUE(mm.add_messages(add).is_ok());
}

constexpr const char* kSystem =
    "You tell short stories to small children. The stories have a cat named Tom, a dog named Sam and a bird that "
    "sings in the big tree. Every story ends happily.";

struct Answer {
    PinnedPrefixOutcome outcome = PinnedPrefixOutcome::kNone;
    llm::Generation generation;
};

// One exchange of conversation `conversation` in cube "c": prepare, pin, answer greedily.
Answer exchange(MemoryChat& chat, llm::EmbeddedLanguageModel& model, const std::string& system, const std::string& user,
                const std::string& conversation = "talk") {
    ChatExchange ex{"c", conversation, {{"system", system}, {"user", user}}};
    Result<PreparedChat> prepared = chat.prepare(ex);
    EXPECT_TRUE(prepared.is_ok()) << prepared.status().to_string();
    Answer a;
    a.outcome = chat.pin_prefix(ex, *prepared, model);
    llm::GenerationOptions g;
    g.max_tokens = 12;
    g.temperature = 0;
    Result<llm::Generation> out = model.chat(prepared->messages, g);
    EXPECT_TRUE(out.is_ok()) << out.status().to_string();
    if (out.is_ok()) a.generation = std::move(out).value();
    return a;
}

MemoryChatOptions chat_options(const std::shared_ptr<llm::EmbeddedLanguageModel>& model) {
    MemoryChatOptions o;
    o.context_budget = 120;
    o.counter =
        std::make_shared<TokenizerTokenCounter>(std::shared_ptr<const llm::Tokenizer>(model, &model->tokenizer()));
    o.store_answers = false;
    return o;
}

TEST(ActivationMemoryTest, PinnedTextIsTheSystemTextAndThePreamble) {
    auto mm = open_mm();
    add_fact(*mm, "c", "Tom the cat found a red ball in the park.");
    MemoryChat chat(*mm, MemoryChatOptions{});
    ChatExchange ex{"c", "talk", {{"system", "Be brief."}, {"user", "Where is the red ball?"}}};
    PreparedChat p = chat.prepare(ex).value();
    ASSERT_NE(p.context.mode, "empty");
    EXPECT_EQ(p.pinned_text, std::string("Be brief.\n\n") + MemoryChat::kMemoryPreamble + "\n\n");
    EXPECT_EQ(p.messages.front().content.rfind(p.pinned_text, 0), 0u);
    // Without a client system message the preamble alone; with no memory to give, the client's system text.
    ChatExchange bare{"c", "talk", {{"user", "Where is the red ball?"}}};
    EXPECT_EQ(chat.prepare(bare)->pinned_text, std::string(MemoryChat::kMemoryPreamble) + "\n\n");
    ChatExchange empty_cube{"nobody", "talk", {{"system", "Be brief."}, {"user", "hello"}}};
    EXPECT_EQ(chat.prepare(empty_cube)->pinned_text, "Be brief.");
}

TEST(ActivationMemoryTest, SecondExchangeLoadsTheStoredPrefix) {
    auto mm = open_mm();
    add_fact(*mm, "c", "Tom the cat found a red ball in the park.");
    add_fact(*mm, "c", "Sam the dog likes to run in the park with Tom.");

    auto first_model = testing::open_stories_model();
    ASSERT_NE(first_model, nullptr);
    MemoryChat chat(*mm, chat_options(first_model));
    Answer first = exchange(chat, *first_model, kSystem, "Tell me about Tom and the ball.");
    EXPECT_EQ(first.outcome, PinnedPrefixOutcome::kStored);
    auto segments = mm->list_kv_segments("c").value();
    ASSERT_EQ(segments.size(), 1u);
    EXPECT_GE(segments[0].n_tokens, 32);
    EXPECT_EQ(segments[0].model_id, first_model->prefix_model_id().value());
    EXPECT_EQ(segments[0].codec, "full-f32");

    // Same process, same model: the cache still holds it.
    Answer again = exchange(chat, *first_model, kSystem, "What does Sam like?");
    EXPECT_EQ(again.outcome, PinnedPrefixOutcome::kInMemory);
    EXPECT_GE(again.generation.cached_prompt_tokens, segments[0].n_tokens);

    // A restarted process (a new model): loaded from the cube, not recomputed, and the answer is the same as with
    // activation memory turned off.
    auto second_model = testing::open_stories_model();
    MemoryChat restarted(*mm, chat_options(second_model));
    Answer loaded = exchange(restarted, *second_model, kSystem, "What does Sam like?");
    EXPECT_EQ(loaded.outcome, PinnedPrefixOutcome::kLoaded);
    EXPECT_EQ(loaded.generation.cached_prompt_tokens, segments[0].n_tokens);
    EXPECT_EQ(restarted.activation_stats().loaded, 1);
    EXPECT_EQ(restarted.activation_stats().stored, 0);

    auto plain_model = testing::open_stories_model();
    MemoryChatOptions off = chat_options(plain_model);
    off.activation_memory = false;
    MemoryChat plain(*mm, off);
    Answer recomputed = exchange(plain, *plain_model, kSystem, "What does Sam like?");
    EXPECT_EQ(recomputed.outcome, PinnedPrefixOutcome::kNone);
    EXPECT_EQ(recomputed.generation.cached_prompt_tokens, 0);
    EXPECT_EQ(loaded.generation.text, recomputed.generation.text);
    EXPECT_EQ(mm->list_kv_segments("c").value().size(), 1u);
}

TEST(ActivationMemoryTest, ChangedPinnedTextReplacesTheSegment) {
    auto mm = open_mm();
    add_fact(*mm, "c", "Tom the cat found a red ball in the park.");
    auto model = testing::open_stories_model();
    ASSERT_NE(model, nullptr);
    MemoryChat chat(*mm, chat_options(model));
    ASSERT_EQ(exchange(chat, *model, kSystem, "Tell me about Tom.").outcome, PinnedPrefixOutcome::kStored);
    const auto before = mm->list_kv_segments("c").value();
    ASSERT_EQ(before.size(), 1u);

    const std::string changed = std::string(kSystem) + " The stories are very short.";
    ASSERT_EQ(exchange(chat, *model, changed, "Tell me about Tom.").outcome, PinnedPrefixOutcome::kStored);
    const auto after = mm->list_kv_segments("c").value();
    ASSERT_EQ(after.size(), 1u);
    EXPECT_NE(after[0].text_hash, before[0].text_hash);
    EXPECT_EQ(after[0].model_id, before[0].model_id);
    EXPECT_GT(after[0].n_tokens, before[0].n_tokens);
    EXPECT_EQ(chat.activation_stats().invalidated, 1);
    EXPECT_EQ(mm->get_kv_segment("c", before[0].model_id, before[0].text_hash).status().code(), StatusCode::kNotFound);
}

TEST(ActivationMemoryTest, DamagedSegmentIsRecomputedAndReplaced) {
    auto mm = open_mm();
    add_fact(*mm, "c", "Tom the cat found a red ball in the park.");
    auto model = testing::open_stories_model();
    ASSERT_NE(model, nullptr);
    MemoryChat chat(*mm, chat_options(model));
    ASSERT_EQ(exchange(chat, *model, kSystem, "Tell me about Tom.").outcome, PinnedPrefixOutcome::kStored);
    store::KvSegmentRecord segment = mm->list_kv_segments("c").value().at(0);
    segment = mm->get_kv_segment("c", segment.model_id, segment.text_hash).value();
    const std::string good = segment.data;
    segment.data[segment.data.size() / 2] = static_cast<char>(segment.data[segment.data.size() / 2] ^ 0x40);
    ASSERT_TRUE(mm->put_kv_segment(segment).is_ok());

    auto fresh = testing::open_stories_model();
    MemoryChat restarted(*mm, chat_options(fresh));
    Answer a = exchange(restarted, *fresh, kSystem, "Tell me about Tom.");
    EXPECT_EQ(a.outcome, PinnedPrefixOutcome::kStored);
    EXPECT_EQ(restarted.activation_stats().unusable, 1);
    EXPECT_EQ(mm->get_kv_segment("c", segment.model_id, segment.text_hash).value().data, good);
}

TEST(ActivationMemoryTest, NothingIsKeptWithoutACubeOrForShortPrefixes) {
    auto mm = open_mm();
    auto model = testing::open_stories_model();
    ASSERT_NE(model, nullptr);
    MemoryChat chat(*mm, chat_options(model));
    // The cube does not exist until the exchange is stored.
    EXPECT_EQ(exchange(chat, *model, kSystem, "Hello.").outcome, PinnedPrefixOutcome::kNone);
    add_fact(*mm, "c", "Tom the cat found a red ball in the park.");
    MemoryChatOptions picky_options = chat_options(model);
    picky_options.activation.min_tokens = 400;  // longer than this pinned prefix
    MemoryChat picky(*mm, picky_options);
    EXPECT_EQ(exchange(picky, *model, kSystem, "Hello.").outcome, PinnedPrefixOutcome::kNone);
    EXPECT_TRUE(mm->list_kv_segments("c").value().empty());
    // Deleting the cube deletes its segments.
    ASSERT_EQ(exchange(chat, *model, kSystem, "Tell me about Tom.").outcome, PinnedPrefixOutcome::kStored);
    ASSERT_TRUE(mm->delete_cube("c", "test").is_ok());
    EXPECT_EQ(mm->list_kv_segments("c").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kasten::memory
