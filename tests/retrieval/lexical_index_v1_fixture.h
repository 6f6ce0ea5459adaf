#pragma once

#include <string>
#include <utility>
#include <vector>

#include "retrieval/unit.h"

namespace kasten::retrieval::testing {

// Writes, in `dir`, a lexical index of the version-1 layout (one Xapian glass database for every unit type, as
// LexicalIndex wrote it before it kept one database per type): each unit a document with its analysed text
// (LexicalIndex::analyze_text), its cube, type, role, session and unique filter terms, its time value and its id as
// data; `metadata` as database metadata. Throws on failure (tests only).
void write_version1_index(const std::string& dir, const std::vector<std::pair<UnitAttrs, std::string>>& units,
                          const std::vector<std::pair<std::string, std::string>>& metadata);

}  // namespace kasten::retrieval::testing
