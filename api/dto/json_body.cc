#include "api/dto/json_body.h"

#include <string>

#include "common/json_text.h"

namespace kasten::api {

template <class Json>
Result<Json> parse_json_object(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return Status::invalid_argument("the request body is empty; expected a JSON object");
    }
    KASTEN_ASSIGN_OR_RETURN(Json j, parse_json_text<Json>(body, "the request body", kMaxJsonDepth));
    if (!j.is_object()) return Status::invalid_argument("the request body must be a JSON object");
    return j;
}

template Result<nlohmann::json> parse_json_object<nlohmann::json>(std::string_view body);
template Result<nlohmann::ordered_json> parse_json_object<nlohmann::ordered_json>(std::string_view body);

}  // namespace kasten::api
