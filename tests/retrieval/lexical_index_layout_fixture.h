#pragma once

#include <string>
#include <utility>
#include <vector>

#include "retrieval/unit.h"

namespace kasten::retrieval::testing {

// Lexical indexes of the layouts LexicalIndex wrote before its current one, for migration tests. Each unit is a
// document with its analysed text (LexicalIndex::analyze_text), its cube, type, role, session and unique filter
// terms, its time value and its id as data (short values only: longer ones were hashed, which these tests do not
// need). Both throw on failure (tests only).

// Version 1: one Xapian glass database, directly in `dir`, for every cube and unit type; `metadata` as its metadata.
void write_version1_index(const std::string& dir, const std::vector<std::pair<UnitAttrs, std::string>>& units,
                          const std::vector<std::pair<std::string, std::string>>& metadata);

// Version 2: one database per unit type (`dir`/turn, /session, /note), shared by every cube, each recording layout
// version 2; `metadata[i]` as the metadata of the database of type i (turn, session, note: each database held its
// own copy, and the note database, committed last, was the one read back).
void write_version2_index(const std::string& dir, const std::vector<std::pair<UnitAttrs, std::string>>& units,
                          const std::vector<std::vector<std::pair<std::string, std::string>>>& metadata);

}  // namespace kasten::retrieval::testing
