#include "memory/memory_chat.h"

#include <utility>

#include "common/timestamp.h"
#include "memory/input_validation.h"
#include "memory/memory_manager.h"

namespace kasten::memory {

MemoryChat::MemoryChat(MemoryManager& memory, MemoryChatOptions options, const Clock* clock)
    : memory_(memory),
      options_(std::move(options)),
      clock_(clock ? clock : &SystemClock::instance()),
      activation_(memory, options_.activation, clock_) {}

Result<PreparedChat> MemoryChat::prepare(const ChatExchange& exchange) {
    if (exchange.messages.empty()) return Status::invalid_argument("messages: at least one message is required");
    KASTEN_RETURN_IF_ERROR(validate_identifier("cube id", exchange.cube_id));
    PreparedChat out;
    out.session_id = exchange.conversation_id;
    if (out.session_id.empty()) out.session_id = "chat-" + format_timestamp(clock_->now_ms()).substr(0, 10);
    KASTEN_RETURN_IF_ERROR(validate_identifier("conversation id", out.session_id));
    if (exchange.messages.back().role == "user") out.user_message = exchange.messages.back().content;

    out.messages = exchange.messages;
    out.context.mode = "empty";
    if (!out.user_message.empty()) {
        ContextRequest request;
        request.cube_id = exchange.cube_id;
        request.query = out.user_message;
        request.token_budget = options_.context_budget;
        request.counter = options_.counter;
        request.strategy = options_.strategy;
        if (!exchange.conversation_id.empty()) request.exclude_session_id = exchange.conversation_id;
        Result<PackedContext> context = memory_.build_context(request);
        if (context.is_ok()) {
            out.context = std::move(context).value();
        } else if (context.status().code() != StatusCode::kNotFound) {  // no cube yet: nothing to give
            return context.status();
        }
    }
    const bool client_system = out.messages.front().role == "system";
    if (client_system) out.pinned_text = out.messages.front().content;
    if (out.context.mode != "empty") {
        std::string memory_text = std::string(kMemoryPreamble) + "\n\n" + out.context.text;
        if (options_.placement == ContextPlacement::kBeforeLastUser) {
            out.messages.insert(out.messages.end() - 1, llm::ChatMessage{"system", std::move(memory_text)});
        } else if (client_system) {
            out.messages.front().content += "\n\n" + memory_text;
            out.pinned_text += "\n\n" + std::string(kMemoryPreamble) + "\n\n";
        } else {
            out.messages.insert(out.messages.begin(), llm::ChatMessage{"system", std::move(memory_text)});
            out.pinned_text = std::string(kMemoryPreamble) + "\n\n";
        }
    }
    return out;
}

PinnedPrefixOutcome MemoryChat::pin_prefix(const ChatExchange& exchange, const PreparedChat& prepared,
                                           llm::LanguageModel& model) {
    auto* embedded = dynamic_cast<llm::EmbeddedLanguageModel*>(&model);
    if (!options_.activation_memory || embedded == nullptr || prepared.pinned_text.empty()) {
        return PinnedPrefixOutcome::kNone;
    }
    return activation_.prepare(exchange.cube_id, *embedded, prepared.messages, prepared.pinned_text);
}

Result<AddMessagesResult> MemoryChat::remember(const ChatExchange& exchange, const PreparedChat& prepared,
                                               const std::string& answer, bool answer_is_extractive) {
    AddMessagesRequest req;
    req.cube_id = exchange.cube_id;
    req.session_id = prepared.session_id;
    req.actor = "chat";
    req.time = clock_->now_ms();
    if (!prepared.user_message.empty()) req.messages.push_back({"user", prepared.user_message, std::nullopt});
    if (!answer.empty() && !answer_is_extractive && options_.store_answers) {
        req.messages.push_back({"assistant", answer, std::nullopt});
    }
    if (req.messages.empty()) return AddMessagesResult{prepared.session_id, {}, ""};
    return memory_.add_messages(req);
}

}  // namespace kasten::memory
