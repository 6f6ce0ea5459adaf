#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kasten::api {

// One entry of GET /v1/models: a model this server runs.
struct ModelCard {
    std::string id;            // LanguageModel::id() or Embedder::id()
    std::int64_t created = 0;  // Unix seconds (when the server started)
};

// GET /v1/models: {"object": "list", "data": [{"id", "object": "model", "created", "owned_by": "kasten"}]}.
std::string models_list_body(const std::vector<ModelCard>& models);

// GET /v1/models/{model}: the card whose id equals `id`; kNotFound naming the known ids otherwise.
Result<std::string> model_body(const std::vector<ModelCard>& models, std::string_view id);

}  // namespace kasten::api
