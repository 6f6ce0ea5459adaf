#pragma once

#include <iosfwd>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace kasten::memory {

// Everything a cube holds, as exported. Embeddings are derived data and are not part of the archive; events (the
// audit log) stay with the store they describe.
struct CubeArchive {
    store::CubeRecord cube;
    std::vector<store::SessionRecord> sessions;
    std::vector<store::TurnRecord> turns;
    std::vector<store::NoteRecord> notes;
    std::vector<store::NoteVersionRecord> note_versions;
    std::vector<store::LinkRecord> links;
};

// Format "kasten-cube" version 1: JSON Lines. The first line is {"type":"header","format":"kasten-cube","version":1};
// then one object per record with "type" cube | session | turn | note | note_version | link, in that order.
// Times are ISO-8601 UTC strings with millisecond precision. See docs/export-format.md.
inline constexpr int kCubeArchiveVersion = 1;

Status write_cube_archive(const CubeArchive& archive, std::ostream& out);

// Parses and validates a whole archive. kInvalidArgument names the line and field at fault; a newer format version is
// kNotSupported. Cross-references (turn → session, version/link → note) are checked.
Result<CubeArchive> read_cube_archive(std::istream& in);

}  // namespace kasten::memory
