#pragma once

#include <string>
#include <string_view>

#include "store/records.h"

namespace kasten::memory {

// The two texts derived from a note: its content hash (exact-duplicate key) and its index text (what it is indexed
// and embedded under).

// sha256 (hex) of the content lower-cased (ASCII), whitespace runs collapsed, trimmed.
std::string note_content_hash(std::string_view content);

// Content, then its one-line context, keywords and tags (A-MEM: the note's attributes are part of its key).
std::string note_index_text(const store::NoteRecord& note);

}  // namespace kasten::memory
