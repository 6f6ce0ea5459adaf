#include "memory/note_text.h"

#include "common/sha256.h"

namespace kasten::memory {

std::string note_content_hash(std::string_view content) {
    std::string out;
    out.reserve(content.size());
    bool space = false;
    for (char c : content) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
    }
    return Sha256::hex(out);
}

std::string note_index_text(const store::NoteRecord& n) {
    std::string s = n.content;
    if (!n.context.empty()) s += "\n" + n.context;
    for (const auto& k : n.keywords) s += " " + k;
    for (const auto& t : n.tags) s += " " + t;
    return s;
}

}  // namespace kasten::memory
