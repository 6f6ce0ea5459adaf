#include "llm/chat_template.h"

#include <fmt/format.h>

#include "common/log.h"

namespace kasten::llm {
namespace {

// Jinja's `trim` / Python's str.strip(): ASCII whitespace at both ends.
std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    const std::size_t b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) return {};
    const std::size_t e = s.find_last_not_of(kSpace);
    return s.substr(b, e - b + 1);
}

}  // namespace

std::optional<ChatTemplateFormat> ChatTemplate::detect(std::string_view jinja) {
    if (jinja.find("<|im_start|>") != std::string_view::npos) return ChatTemplateFormat::kChatMl;
    if (jinja.find("<|start_header_id|>") != std::string_view::npos) return ChatTemplateFormat::kLlama3;
    if (jinja.find("[INST]") != std::string_view::npos) return ChatTemplateFormat::kLlama2;
    return std::nullopt;
}

ChatTemplate ChatTemplate::for_model(std::string_view jinja) {
    if (const auto format = detect(jinja)) return ChatTemplate(*format);
    ChatTemplate t(ChatTemplateFormat::kChatMl);
    t.fell_back_ = true;
    if (jinja.empty()) {
        log::info("chat template: the model has none; using ChatML");
    } else {
        log::warn("chat template: not ChatML, Llama 3 or Llama 2; using ChatML (the model may not follow it)");
    }
    return t;
}

Result<ChatTemplate> ChatTemplate::from_name(std::string_view name) {
    if (name == "chatml") return ChatTemplate(ChatTemplateFormat::kChatMl);
    if (name == "llama3") return ChatTemplate(ChatTemplateFormat::kLlama3);
    if (name == "llama2") return ChatTemplate(ChatTemplateFormat::kLlama2);
    return Status::invalid_argument(fmt::format("unknown chat template '{}' (known: chatml, llama3, llama2)", name));
}

std::string_view ChatTemplate::name() const {
    switch (format_) {
        case ChatTemplateFormat::kChatMl:
            return "chatml";
        case ChatTemplateFormat::kLlama3:
            return "llama3";
        case ChatTemplateFormat::kLlama2:
            return "llama2";
    }
    return "chatml";
}

std::string ChatTemplate::apply(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
    std::string out;
    for (const Part& part : render(messages, add_generation_prompt, {}, {})) out += part.text;
    return out;
}

std::vector<TokenId> ChatTemplate::tokenize(const Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                                            bool add_generation_prompt) const {
    const std::vector<Part> parts = render(messages, add_generation_prompt, tokenizer.token_text(tokenizer.bos()),
                                           tokenizer.token_text(tokenizer.eos()));
    std::vector<TextSegment> segments;
    segments.reserve(parts.size());
    for (const Part& part : parts) segments.push_back({part.text, part.markup});
    std::vector<TokenId> ids = tokenizer.encode(segments, /*add_special=*/false);
    if (tokenizer.add_bos() && tokenizer.bos() != kNoToken && (ids.empty() || ids.front() != tokenizer.bos())) {
        ids.insert(ids.begin(), tokenizer.bos());
    }
    return ids;
}

std::vector<ChatTemplate::Part> ChatTemplate::render(std::span<const ChatMessage> messages, bool add_generation_prompt,
                                                     std::string_view bos, std::string_view eos) const {
    std::vector<Part> parts;
    auto markup = [&](std::string_view text) { parts.push_back({std::string(text), true}); };
    auto content = [&](std::string_view text) { parts.push_back({std::string(text), false}); };
    switch (format_) {
        case ChatTemplateFormat::kChatMl:
            for (const ChatMessage& m : messages) {
                markup("<|im_start|>");
                content(m.role);
                markup("\n");
                content(m.content);
                markup("<|im_end|>\n");
            }
            if (add_generation_prompt) markup("<|im_start|>assistant\n");
            break;
        case ChatTemplateFormat::kLlama3:
            markup(bos.empty() ? std::string_view("<|begin_of_text|>") : bos);
            for (const ChatMessage& m : messages) {
                markup("<|start_header_id|>");
                content(m.role);
                markup("<|end_header_id|>\n\n");
                content(trim(m.content));
                markup("<|eot_id|>");
            }
            if (add_generation_prompt) markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
            break;
        case ChatTemplateFormat::kLlama2: {
            // Meta's template: a leading system message is folded into the first turn, then each turn's content
            // is stripped; roles other than assistant are user turns.
            const std::string_view b = bos.empty() ? std::string_view("<s>") : bos;
            const std::string_view e = eos.empty() ? std::string_view("</s>") : eos;
            std::size_t first = 0;
            if (!messages.empty() && messages[0].role == "system") first = 1;
            for (std::size_t i = first; i < messages.size(); ++i) {
                const ChatMessage& m = messages[i];
                std::string text = m.content;
                if (i == 1 && first == 1) text = "<<SYS>>\n" + messages[0].content + "\n<</SYS>>\n\n" + text;
                if (m.role == "assistant") {
                    markup(" ");
                    content(trim(text));
                    markup(" ");
                    markup(e);
                } else {
                    markup(b);
                    markup("[INST] ");
                    content(trim(text));
                    markup(" [/INST]");
                }
            }
            break;
        }
    }
    return parts;
}

}  // namespace kasten::llm
