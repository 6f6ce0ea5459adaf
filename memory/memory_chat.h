#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "llm/language_model.h"
#include "memory/activation_memory.h"
#include "memory/context_builder.h"
#include "memory/memory_types.h"

namespace kasten::memory {

class MemoryManager;

// Where the memory goes in the messages given to the model.
enum class ContextPlacement {
    kFirstSystem,    // in the first system message (stateless clients resend the conversation every time)
    kBeforeLastUser  // a system message right before the new user message: the earlier messages stay unchanged, so a
                     // model that caches the prompt prefix (the embedded one) does not recompute them
};

struct MemoryChatOptions {
    int context_budget = 2048;  // tokens of memory given to the model per exchange
    ContextStrategy strategy = ContextStrategy::kAuto;
    std::shared_ptr<const TokenCounter> counter;  // null = the estimate
    // Store the answer too. Extractive answers only repeat memories and are never stored.
    bool store_answers = true;
    ContextPlacement placement = ContextPlacement::kFirstSystem;
    // Keep the pinned prefix's keys and values in the cube (activation memory, embedded model only).
    bool activation_memory = true;
    ActivationMemoryOptions activation;
};

// One exchange of a chat with memory: the messages a client sent (the conversation so far, its new user message
// last), for a cube and a conversation.
struct ChatExchange {
    std::string cube_id;
    // The conversation (a kasten session id). Empty: the day's session "chat-YYYY-MM-DD" (UTC) of the cube, which
    // is not excluded from the context (the client does not carry its earlier exchanges).
    std::string conversation_id;
    std::vector<llm::ChatMessage> messages;
};

// What the model is given for an exchange.
struct PreparedChat {
    std::vector<llm::ChatMessage> messages;  // the client's, with the memory context in the (first) system message
    PackedContext context;                   // mode "empty" when the cube has nothing (or does not exist yet)
    std::string session_id;                  // where the exchange is stored
    std::string user_message;                // the new user message ("" when the last message is not a user one)
    // The start of the first message's text that stays the same between exchanges (docs/chat.md): the client's
    // system text, and with the first-system placement the memory preamble; "" when there is none.
    std::string pinned_text;
};

// Chat that reads and writes memory (docs/chat.md). prepare() builds the context for the last user message and puts
// it in a system message (after the client's own system text when it has one, so the model sees one system
// message); remember() stores the new user message and the answer as turns of the conversation's session (the
// cube is created on first use), so notes are built from them in the background. Thread-safe.
class MemoryChat {
  public:
    MemoryChat(MemoryManager& memory, MemoryChatOptions options, const Clock* clock = nullptr);

    // kInvalidArgument for no messages or a bad cube / conversation id.
    [[nodiscard]] Result<PreparedChat> prepare(const ChatExchange& exchange);
    // Stores the exchange; `answer` is skipped when empty or `answer_is_extractive`. Returns the stored turns.
    [[nodiscard]] Result<AddMessagesResult> remember(const ChatExchange& exchange, const PreparedChat& prepared,
                                                     const std::string& answer, bool answer_is_extractive);

    // The system text that introduces the memories.
    static constexpr const char* kMemoryPreamble =
        "You have long-term memory of earlier conversations with this user. The memories below come from it, with "
        "their dates (UTC). Use them when they help to answer; if they do not hold the answer, say so instead of "
        "guessing.";

    // Before the model answers `prepared`: with an embedded model, loads the cube's saved pinned prefix into it or
    // saves it (ActivationMemory). Needs the model to itself. kNone for other models or when turned off.
    PinnedPrefixOutcome pin_prefix(const ChatExchange& exchange, const PreparedChat& prepared,
                                   llm::LanguageModel& model);
    ActivationMemory::Stats activation_stats() const { return activation_.stats(); }

    const MemoryChatOptions& options() const { return options_; }

  private:
    MemoryManager& memory_;
    MemoryChatOptions options_;
    const Clock* clock_;
    ActivationMemory activation_;
};

}  // namespace kasten::memory
