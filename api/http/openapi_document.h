#pragma once

#include <string_view>

namespace kasten::api {

// The OpenAPI 3.1 description of every HTTP route kasten serves, as JSON: docs/openapi.json (generated from
// docs/openapi.yaml by scripts/openapi_json.mjs), embedded at build time by cmake/embed_openapi.cmake. Served as
// GET /openapi.json.
std::string_view openapi_document();

}  // namespace kasten::api
