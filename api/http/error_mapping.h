#pragma once

#include <string>

#include "common/status.h"

namespace kasten::api {

// The one table from StatusCode to HTTP status:
//   kNotFound 404, kInvalidArgument 400, kAlreadyExists 409, kPermissionDenied 403, kUnauthenticated 401,
//   kResourceExhausted 413, kBusy 503, kFailedPrecondition 409, kNotSupported 501,
//   kInsufficientStorage 507 (disk full or I/O error: retryable), everything else 500.
// kOk maps to 200.
int http_status_for(StatusCode code);

// The StatusCode that best describes an HTTP error status produced outside a handler (by the HTTP layer itself):
// 400/408/416 kInvalidArgument, 401 kUnauthenticated, 403 kPermissionDenied, 404/405 kNotFound/kNotSupported,
// 409 kAlreadyExists, 413/414/431 kResourceExhausted, 501 kNotSupported, 503 kBusy, 507 kInsufficientStorage,
// anything else kInternal.
StatusCode status_code_for_http(int http_status);

// The error body every failing request gets:
//   {"error":{"code":<http status>,"type":"<status_code_name>","message":"..."}}
// Invalid UTF-8 in the message is replaced, so this never fails.
std::string error_body(int http_status, const Status& status);

}  // namespace kasten::api
