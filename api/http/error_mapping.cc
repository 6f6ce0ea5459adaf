#include "api/http/error_mapping.h"

#include <nlohmann/json.hpp>

namespace kasten::api {

int http_status_for(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return 200;
        case StatusCode::kNotFound:
            return 404;
        case StatusCode::kInvalidArgument:
            return 400;
        case StatusCode::kAlreadyExists:
            return 409;
        case StatusCode::kPermissionDenied:
            return 403;
        case StatusCode::kUnauthenticated:
            return 401;
        case StatusCode::kResourceExhausted:
            return 413;
        case StatusCode::kBusy:
            return 503;
        case StatusCode::kFailedPrecondition:
            return 409;
        case StatusCode::kNotSupported:
            return 501;
        case StatusCode::kInsufficientStorage:
            return 507;
        case StatusCode::kCorruption:
        case StatusCode::kIOError:
        case StatusCode::kInternal:
            return 500;
    }
    return 500;
}

StatusCode status_code_for_http(int http_status) {
    switch (http_status) {
        case 400:
            return StatusCode::kInvalidArgument;
        case 401:
            return StatusCode::kUnauthenticated;
        case 403:
            return StatusCode::kPermissionDenied;
        case 404:
            return StatusCode::kNotFound;
        case 405:
            return StatusCode::kNotSupported;
        case 408:  // a read deadline passed
        case 416:  // an unparsable Range header
            return StatusCode::kInvalidArgument;
        case 409:
            return StatusCode::kAlreadyExists;
        case 413:
        case 414:  // request line over its limit
        case 431:  // headers over their limit
            return StatusCode::kResourceExhausted;
        case 501:
            return StatusCode::kNotSupported;
        case 503:
            return StatusCode::kBusy;
        case 507:
            return StatusCode::kInsufficientStorage;
        default:
            return StatusCode::kInternal;
    }
}

std::string error_body(int http_status, const Status& status) {
    nlohmann::json body = {{"error",
                            {{"code", http_status},
                             {"type", std::string(status_code_name(status.code()))},
                             {"message", status.message()}}}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kasten::api
