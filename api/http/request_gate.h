#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>

#include "common/mutex.h"
#include "common/thread_annotations.h"

namespace kasten::api {

// Admission in arrival order: at most `max_active` holders of a Pass at once; later arrivals wait, first come first
// served, and a released slot is handed straight to the oldest waiter. With a thread per connection, this keeps the
// requests doing memory work to about the machine's cores: the others wait idle instead of time-slicing with them, so
// a request's latency is its queueing delay plus its own work (not the work of every request in flight), and the tail
// is close to the mean.
//
// Thread-safe. Waiting is unbounded: the connection caps bound the waiters.
class RequestGate {
  public:
    // max_active >= 1.
    explicit RequestGate(int max_active);
    RequestGate(const RequestGate&) = delete;
    RequestGate& operator=(const RequestGate&) = delete;

    // A held slot, released when the Pass is destroyed. Move-only.
    class Pass {
      public:
        Pass(Pass&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
        Pass& operator=(Pass&&) = delete;
        Pass(const Pass&) = delete;
        Pass& operator=(const Pass&) = delete;
        ~Pass() {
            if (gate_ != nullptr) gate_->release();
        }

      private:
        friend class RequestGate;
        explicit Pass(RequestGate* gate) : gate_(gate) {}
        RequestGate* gate_;
    };

    // Blocks until a slot is free and every earlier caller has had one.
    [[nodiscard]] Pass enter();

    int max_active() const { return max_active_; }
    // Holders now, callers waiting now, and callers that ever had to wait (metrics, tests).
    int active() const;
    int waiting() const;
    std::uint64_t waited_total() const;

  private:
    struct Waiter {
        std::condition_variable cv;
        bool admitted = false;
    };
    void release();

    const int max_active_;
    mutable Mutex mu_;
    int active_ GUARDED_BY(mu_) = 0;
    std::deque<Waiter*> queue_ GUARDED_BY(mu_);  // oldest first; each lives on its caller's stack
    std::uint64_t waited_total_ GUARDED_BY(mu_) = 0;
};

// The limit a configured value means: `configured` when > 0, else 8 per hardware thread (requests hold their slot
// while they wait for a group commit or the index writer, so a slot per core would leave cores idle).
int effective_max_active_requests(int configured);

}  // namespace kasten::api
