#pragma once

#include <string>

#include "common/result.h"
#include "memory/memory_context.h"

namespace kasten::memory {

// Edits notes directly (the REST memories API and the CLI): add, patch (a new version), hard delete. Every change is
// one store commit with its event; the note is embedded before the writer lock is taken. Thread-safe.
class NoteEditor {
  public:
    explicit NoteEditor(MemoryContext& ctx) : ctx_(ctx) {}

    Result<store::NoteRecord> add(const std::string& cube_id, const NoteInput& input, const std::string& actor);
    Result<store::NoteRecord> patch(const std::string& cube_id, const std::string& note_id, const NotePatch& patch);
    Status remove(const std::string& cube_id, const std::string& note_id, const std::string& actor);

  private:
    MemoryContext& ctx_;
};

}  // namespace kasten::memory
