#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace kasten {

// Codes for expected failures. Each maps to one HTTP status in api/ (see api/http/error_mapping).
enum class StatusCode {
    kOk = 0,
    kNotFound,
    kInvalidArgument,
    kAlreadyExists,
    kCorruption,
    kIOError,
    kBusy,
    kResourceExhausted,
    kNotSupported,
    kPermissionDenied,
    kUnauthenticated,
    kFailedPrecondition,
    // The store or an index could not be written: disk full, I/O error, out of memory. Retryable.
    kInsufficientStorage,
    kInternal,
};

// Stable lower_snake_case name of a code ("not_found"), used as the error "type" in API bodies.
std::string_view status_code_name(StatusCode code);

// The result of an operation that can fail in an expected way. Cheap to copy when ok.
class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok() { return {}; }
    static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
    static Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
    static Status already_exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
    static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
    static Status io_error(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
    static Status busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
    static Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
    static Status not_supported(std::string m) { return {StatusCode::kNotSupported, std::move(m)}; }
    static Status permission_denied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
    static Status unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
    static Status failed_precondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
    static Status insufficient_storage(std::string m) { return {StatusCode::kInsufficientStorage, std::move(m)}; }
    static Status internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

    bool is_ok() const { return code_ == StatusCode::kOk; }
    explicit operator bool() const { return is_ok(); }
    StatusCode code() const { return code_; }
    const std::string& message() const { return message_; }

    // "not_found: cube 'x' does not exist"
    std::string to_string() const;

    // Returns a copy with "context: " prefixed to the message.
    Status with_context(std::string_view context) const;

  private:
    StatusCode code_ = StatusCode::kOk;
    std::string message_;
};

}  // namespace kasten

// Propagates a non-ok Status from an expression returning Status.
#define KASTEN_RETURN_IF_ERROR(expr)                        \
    do {                                                    \
        ::kasten::Status kasten_status_ = (expr);           \
        if (!kasten_status_.is_ok()) return kasten_status_; \
    } while (0)
