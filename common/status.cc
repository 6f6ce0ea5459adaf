#include "common/status.h"

namespace kasten {

std::string_view status_code_name(StatusCode code) {
    switch (code) {
        case StatusCode::kOk:
            return "ok";
        case StatusCode::kNotFound:
            return "not_found";
        case StatusCode::kInvalidArgument:
            return "invalid_argument";
        case StatusCode::kAlreadyExists:
            return "already_exists";
        case StatusCode::kCorruption:
            return "corruption";
        case StatusCode::kIOError:
            return "io_error";
        case StatusCode::kBusy:
            return "busy";
        case StatusCode::kResourceExhausted:
            return "resource_exhausted";
        case StatusCode::kNotSupported:
            return "not_supported";
        case StatusCode::kPermissionDenied:
            return "permission_denied";
        case StatusCode::kUnauthenticated:
            return "unauthenticated";
        case StatusCode::kFailedPrecondition:
            return "failed_precondition";
        case StatusCode::kInsufficientStorage:
            return "insufficient_storage";
        case StatusCode::kInternal:
            return "internal";
    }
    return "unknown";
}

std::string Status::to_string() const {
    if (is_ok()) return "ok";
    std::string s(status_code_name(code_));
    s += ": ";
    s += message_;
    return s;
}

Status Status::with_context(std::string_view context) const {
    if (is_ok()) return *this;
    std::string m(context);
    m += ": ";
    m += message_;
    return {code_, std::move(m)};
}

}  // namespace kasten
