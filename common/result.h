#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/status.h"

namespace kasten {

// Either a value of T or a non-ok Status. Accessing value() of an error is a programmer error.
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
    Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
        assert(!status_.is_ok() && "Result constructed from an ok Status without a value");
        if (status_.is_ok()) status_ = Status::internal("Result built from ok status without value");
    }

    bool is_ok() const { return value_.has_value(); }
    explicit operator bool() const { return is_ok(); }
    const Status& status() const { return status_; }

    T& value() & {
        assert(value_);
        return *value_;
    }
    const T& value() const& {
        assert(value_);
        return *value_;
    }
    // By value, so `for (auto& x : make().value())` does not dangle.
    T value() && {
        assert(value_);
        return std::move(*value_);
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

  private:
    std::optional<T> value_;
    Status status_;
};

}  // namespace kasten

#define KASTEN_CONCAT_INNER_(a, b) a##b
#define KASTEN_CONCAT_(a, b) KASTEN_CONCAT_INNER_(a, b)
#define KASTEN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
    auto tmp = (expr);                                \
    if (!tmp.is_ok()) return tmp.status();            \
    lhs = std::move(tmp).value()
// KASTEN_ASSIGN_OR_RETURN(auto x, make_x()); propagates the error Status of a Result.
#define KASTEN_ASSIGN_OR_RETURN(lhs, expr) \
    KASTEN_ASSIGN_OR_RETURN_IMPL_(KASTEN_CONCAT_(kasten_result_, __LINE__), lhs, expr)
