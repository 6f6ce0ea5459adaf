#include "api/http/openai_models.h"

#include <nlohmann/json.hpp>

namespace kasten::api {
namespace {

using nlohmann::json;

json card_json(const ModelCard& card) {
    return {{"id", card.id}, {"object", "model"}, {"created", card.created}, {"owned_by", "kasten"}};
}

}  // namespace

std::string models_list_body(const std::vector<ModelCard>& models) {
    json data = json::array();
    for (const ModelCard& m : models) data.push_back(card_json(m));
    return json{{"object", "list"}, {"data", std::move(data)}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> model_body(const std::vector<ModelCard>& models, std::string_view id) {
    std::string known;
    for (const ModelCard& m : models) {
        if (m.id == id) return card_json(m).dump(-1, ' ', false, json::error_handler_t::replace);
        known += (known.empty() ? "" : ", ") + m.id;
    }
    return Status::not_found("model '" + std::string(id.substr(0, 256)) +
                             "' does not exist; this server runs: " + known);
}

}  // namespace kasten::api
