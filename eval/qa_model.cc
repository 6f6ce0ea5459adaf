#include "eval/qa_model.h"

namespace kasten::eval {

QaModel::QaModel(std::shared_ptr<llm::LanguageModel> model, std::shared_ptr<QaCache> cache)
    : model_(std::move(model)), cache_(std::move(cache)), id_(model_->id()) {}

Result<QaReply> QaModel::ask(const std::string& prompt, int max_tokens) {
    constexpr double kTemperature = 0.0;
    std::string key;
    if (cache_) {
        key = QaCache::key(id_, prompt, max_tokens, kTemperature);
        if (auto hit = cache_->get(key)) {
            hits_.fetch_add(1);
            return QaReply{std::move(*hit), true};
        }
    }
    llm::GenerationOptions options;
    options.max_tokens = max_tokens;
    options.temperature = kTemperature;
    calls_.fetch_add(1);
    KASTEN_ASSIGN_OR_RETURN(llm::Generation g, model_->chat({llm::ChatMessage{"user", prompt}}, options));
    if (cache_) KASTEN_RETURN_IF_ERROR(cache_->put(key, id_, g.text));
    return QaReply{std::move(g.text), false};
}

}  // namespace kasten::eval
