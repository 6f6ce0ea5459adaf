#include "api/http/connection_limiter.h"

#include <utility>

namespace kasten::api {

ConnectionLimiter::Slot::Slot(Slot&& other) noexcept
    : limiter_(std::exchange(other.limiter_, nullptr)), address_(std::move(other.address_)), refusal_(other.refusal_) {}

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
    if (this != &other) {
        release();
        limiter_ = std::exchange(other.limiter_, nullptr);
        address_ = std::move(other.address_);
        refusal_ = other.refusal_;
    }
    return *this;
}

ConnectionLimiter::Slot::~Slot() {
    release();
}

void ConnectionLimiter::Slot::release() {
    if (limiter_ != nullptr) limiter_->release(address_);
    limiter_ = nullptr;
}

ConnectionLimiter::ConnectionLimiter(ConnectionLimits limits) : limits_(limits) {}

ConnectionLimiter::Slot ConnectionLimiter::admit(const std::string& address) {
    Slot slot;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = per_client_.find(address);
    const int mine = it == per_client_.end() ? 0 : it->second;
    if (limits_.max_per_client > 0 && mine >= limits_.max_per_client) {
        slot.refusal_ = Refusal::kPerClient;
        return slot;
    }
    if (limits_.max_total > 0 && total_ >= limits_.max_total) {
        slot.refusal_ = Refusal::kTotal;
        return slot;
    }
    ++total_;
    ++per_client_[address];
    slot.limiter_ = this;
    slot.address_ = address;
    return slot;
}

void ConnectionLimiter::release(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    --total_;
    auto it = per_client_.find(address);
    if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
}

int ConnectionLimiter::active() const {
    std::lock_guard<std::mutex> lock(mu_);
    return total_;
}

int ConnectionLimiter::active(const std::string& address) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = per_client_.find(address);
    return it == per_client_.end() ? 0 : it->second;
}

}  // namespace kasten::api
