#include "lexical_index_layout_fixture.h"

#include <xapian.h>

#include <filesystem>

#include "retrieval/lexical_index.h"

namespace kasten::retrieval::testing {
namespace {

// The document of one unit as versions 1 and 2 wrote it.
Xapian::Document old_document(const UnitAttrs& attrs, const std::string& text, std::string* unique_out) {
    Xapian::Document doc;
    for (const auto& [term, wdf] : LexicalIndex::analyze_text(text).terms) doc.add_term(term, wdf);
    const std::string type = unit_type_name(attrs.type);
    const std::string unique = "Q" + type + ":" + std::to_string(attrs.cube_id.size()) + ":" + attrs.cube_id + attrs.id;
    doc.add_boolean_term(unique);
    doc.add_boolean_term("XC" + attrs.cube_id);
    doc.add_boolean_term("XT" + type);
    if (!attrs.role.empty()) doc.add_boolean_term("XR" + attrs.role);
    if (!attrs.session_id.empty()) doc.add_boolean_term("XS" + attrs.session_id);
    doc.add_value(0, Xapian::sortable_serialise(static_cast<double>(attrs.time)));
    doc.set_data(attrs.id);
    *unique_out = unique;
    return doc;
}

}  // namespace

void write_version1_index(const std::string& dir, const std::vector<std::pair<UnitAttrs, std::string>>& units,
                          const std::vector<std::pair<std::string, std::string>>& metadata) {
    Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
    for (const auto& [attrs, text] : units) {
        std::string unique;
        Xapian::Document doc = old_document(attrs, text, &unique);
        db.replace_document(unique, doc);
    }
    for (const auto& [key, value] : metadata) db.set_metadata(key, value);
    db.commit();
    db.close();
}

void write_version2_index(const std::string& dir, const std::vector<std::pair<UnitAttrs, std::string>>& units,
                          const std::vector<std::vector<std::pair<std::string, std::string>>>& metadata) {
    const UnitType types[] = {UnitType::kTurn, UnitType::kSession, UnitType::kNote};
    std::filesystem::create_directories(dir);
    for (std::size_t i = 0; i < 3; ++i) {
        Xapian::WritableDatabase db(dir + "/" + unit_type_name(types[i]),
                                    Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
        for (const auto& [attrs, text] : units) {
            if (attrs.type != types[i]) continue;
            std::string unique;
            Xapian::Document doc = old_document(attrs, text, &unique);
            db.replace_document(unique, doc);
        }
        db.set_metadata("kasten.lexical_layout", "2");
        if (i < metadata.size()) {
            for (const auto& [key, value] : metadata[i]) db.set_metadata(key, value);
        }
        db.commit();
        db.close();
    }
}

}  // namespace kasten::retrieval::testing
