#include "lexical_index_v1_fixture.h"

#include <xapian.h>

#include "retrieval/lexical_index.h"

namespace kasten::retrieval::testing {

void write_version1_index(const std::string& dir, const std::vector<std::pair<UnitAttrs, std::string>>& units,
                          const std::vector<std::pair<std::string, std::string>>& metadata) {
    // The version-1 terms of a unit (short values only: longer ones were hashed, which these tests do not need).
    Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
    for (const auto& [attrs, text] : units) {
        Xapian::Document doc;
        for (const auto& [term, wdf] : LexicalIndex::analyze_text(text).terms) doc.add_term(term, wdf);
        const std::string type = unit_type_name(attrs.type);
        const std::string unique =
            "Q" + type + ":" + std::to_string(attrs.cube_id.size()) + ":" + attrs.cube_id + attrs.id;
        doc.add_boolean_term(unique);
        doc.add_boolean_term("XC" + attrs.cube_id);
        doc.add_boolean_term("XT" + type);
        if (!attrs.role.empty()) doc.add_boolean_term("XR" + attrs.role);
        if (!attrs.session_id.empty()) doc.add_boolean_term("XS" + attrs.session_id);
        doc.add_value(0, Xapian::sortable_serialise(static_cast<double>(attrs.time)));
        doc.set_data(attrs.id);
        db.replace_document(unique, doc);
    }
    for (const auto& [key, value] : metadata) db.set_metadata(key, value);
    db.commit();
    db.close();
}

}  // namespace kasten::retrieval::testing
