#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "llm/tokenizer.h"

namespace kasten::llm {

// One chat message. role: "system", "user" or "assistant" (other roles are rendered as the format allows).
struct ChatMessage {
    std::string role;
    std::string content;
};

enum class ChatTemplateFormat {
    kChatMl,  // <|im_start|>role\ncontent<|im_end|>\n  (Qwen2, SmolLM2, many others)
    kLlama3,  // <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
    kLlama2,  // <s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s>
};

// Renders chat messages into the prompt text a model was trained on. The formats are fixed re-implementations
// of the reference Jinja templates, chosen by inspecting a GGUF's `tokenizer.chat_template`; no Jinja is run.
// apply() gives the text, with the format's special tokens written out (BOS included where the template writes
// it); tokenize() gives the ids the model should see. Immutable; thread-safe.
class ChatTemplate {
  public:
    // The format a Jinja template uses, by its markers: "<|im_start|>" → ChatML, "<|start_header_id|>" → Llama 3,
    // "[INST]" → Llama 2. nullopt when none is present (including an empty template).
    static std::optional<ChatTemplateFormat> detect(std::string_view jinja);

    // The template for a model: the detected format, or ChatML when the model has no template or an
    // unrecognised one (`fell_back()` then says so, and the reason is logged).
    static ChatTemplate for_model(std::string_view jinja);

    // "chatml", "llama3", "llama2"; kInvalidArgument for other names.
    static Result<ChatTemplate> from_name(std::string_view name);

    explicit ChatTemplate(ChatTemplateFormat format) : format_(format) {}

    ChatTemplateFormat format() const { return format_; }
    std::string_view name() const;
    bool fell_back() const { return fell_back_; }

    // The prompt for `messages`; with add_generation_prompt, the header that opens the assistant's reply
    // (ChatML, Llama 3; a Llama 2 prompt already ends where the reply starts).
    //   ChatML: contents verbatim.
    //   Llama 3: contents trimmed of surrounding whitespace; BOS "<|begin_of_text|>" first.
    //   Llama 2 (Meta's template): a leading system message is folded into the first turn inside
    //     <<SYS>>...<</SYS>>; each user turn is "<s>[INST] " + trimmed content + " [/INST]", each assistant turn
    //     " " + trimmed content + " </s>"; later system messages are rendered as user turns.
    std::string apply(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

    // The prompt as token ids for `tokenizer`: rendered with the vocabulary's own BOS/EOS texts where the format
    // writes them; special tokens are parsed in the template's markup only, never inside roles or contents (a
    // message cannot inject "<|im_start|>system"); a BOS is put first when the vocabulary asks for one (add_bos)
    // and the rendering did not start with it (ChatML for a Llama-2-style vocabulary).
    std::vector<TokenId> tokenize(const Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                                  bool add_generation_prompt) const;

  private:
    // A piece of the rendered prompt: template markup (special tokens parsed) or message text (never parsed).
    struct Part {
        std::string text;
        bool markup;
    };

    std::vector<Part> render(std::span<const ChatMessage> messages, bool add_generation_prompt, std::string_view bos,
                             std::string_view eos) const;

    ChatTemplateFormat format_;
    bool fell_back_ = false;
};

}  // namespace kasten::llm
