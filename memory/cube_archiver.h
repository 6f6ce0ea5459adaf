#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "common/result.h"
#include "memory/memory_context.h"

namespace kasten::memory {

// Export and import of whole cubes in the archive format (memory/cube_archive.h, docs/export-format.md). Export
// reads one consistent state through a reader; import validates the whole file, embeds everything before taking the
// writer lock, and stores it in one commit. Thread-safe.
class CubeArchiver {
  public:
    explicit CubeArchiver(MemoryContext& ctx) : ctx_(ctx) {}

    Status export_cube(const std::string& cube_id, std::ostream& out);
    Result<ImportSummary> import_cube(std::istream& in, const std::optional<std::string>& target_cube_id,
                                      const std::string& actor, ImportIds ids);

  private:
    MemoryContext& ctx_;
};

}  // namespace kasten::memory
