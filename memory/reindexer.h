#pragma once

#include <string>

#include "common/result.h"
#include "memory/memory_context.h"

namespace kasten::memory {

// `kasten reindex`: re-embeds whatever a cube holds from another embedder (or none) and rebuilds its indexes from
// the store. Embedding runs outside every lock; the new vectors are stored in one commit per cube; the lexical
// rebuild runs under the writer lock (no write may interleave with it), never under a lock readers need.
class Reindexer {
  public:
    explicit Reindexer(MemoryContext& ctx) : ctx_(ctx) {}
    // All cubes when cube_id is empty.
    Result<ReindexSummary> reindex(const std::string& cube_id, const ProgressFn& progress);

  private:
    MemoryContext& ctx_;
};

}  // namespace kasten::memory
