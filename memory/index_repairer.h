#pragma once

#include <condition_variable>
#include <cstdint>
#include <thread>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "memory/memory_context.h"

namespace kasten::memory {

// Repairs a dirty lexical index (IndexSync::repair) in the background: a thread woken when the index becomes dirty
// tries after `delay_ms`, then again with the delay doubled up to `max_delay_ms` while the disk stays full, so a
// repair follows within max_delay_ms of the disk having room again. Each try holds the store writer's lock while it
// re-indexes the changes since the last good commit.
//
// Thread safety: the constructor registers with ctx.index; destroy the repairer before ctx.index.
class IndexRepairer {
  public:
    IndexRepairer(MemoryContext& ctx, int delay_ms, int max_delay_ms);
    ~IndexRepairer();
    IndexRepairer(const IndexRepairer&) = delete;
    IndexRepairer& operator=(const IndexRepairer&) = delete;

    // Tries once now, in the calling thread (flush, close); ok when the index is clean.
    [[nodiscard]] Status repair_now();

  private:
    void wake() EXCLUDES(mu_);
    void loop() EXCLUDES(mu_);

    MemoryContext& ctx_;
    const std::int64_t delay_ms_;
    const std::int64_t max_delay_ms_;
    Mutex mu_;
    std::condition_variable cv_;
    bool woken_ GUARDED_BY(mu_) = false;
    bool stopping_ GUARDED_BY(mu_) = false;
    std::thread thread_;
};

}  // namespace kasten::memory
