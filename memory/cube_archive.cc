#include "memory/cube_archive.h"

#include <istream>
#include <ostream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/json_text.h"
#include "common/timestamp.h"
#include "memory/input_validation.h"

namespace kasten::memory {
namespace {

using nlohmann::json;

json opt_time(const std::optional<TimeMs>& t) {
    return t ? json(format_timestamp(*t)) : json(nullptr);
}

json encode(const store::CubeRecord& c) {
    return {{"type", "cube"},
            {"id", c.id},
            {"name", c.name},
            {"created_at", format_timestamp(c.created_at)},
            {"metadata", json::parse(c.metadata_json.empty() ? "{}" : c.metadata_json)}};
}
json encode(const store::SessionRecord& s) {
    return {{"type", "session"},
            {"id", s.id},
            {"external_id", s.external_id},
            {"started_at", format_timestamp(s.started_at)},
            {"summary", s.summary}};
}
json encode(const store::TurnRecord& t) {
    return {{"type", "turn"},
            {"id", t.id},
            {"session_id", t.session_id},
            {"index", t.index},
            {"role", t.role},
            {"content", t.content},
            {"conv_time", format_timestamp(t.conv_time)},
            {"ingested_at", format_timestamp(t.ingested_at)}};
}
json encode(const store::NoteRecord& n) {
    return {{"type", "note"},
            {"id", n.id},
            {"content", n.content},
            {"kind", n.kind},
            {"keywords", n.keywords},
            {"tags", n.tags},
            {"context", n.context},
            {"source_turn_ids", n.source_turn_ids},
            {"valid_from", opt_time(n.valid_from)},
            {"valid_to", opt_time(n.valid_to)},
            {"recorded_at", format_timestamp(n.recorded_at)},
            {"superseded_at", opt_time(n.superseded_at)},
            {"superseded_by", n.superseded_by},
            {"status", store::note_status_name(n.status)},
            {"version", n.version},
            {"importance", n.importance},
            {"strength", n.strength},
            {"last_access", format_timestamp(n.last_access)},
            {"content_hash", n.content_hash},
            {"updated_at", format_timestamp(n.updated_at)}};
}
json encode(const store::NoteVersionRecord& v) {
    return {{"type", "note_version"},
            {"note_id", v.note_id},
            {"version", v.version},
            {"content", v.content},
            {"kind", v.kind},
            {"keywords", v.keywords},
            {"tags", v.tags},
            {"context", v.context},
            {"status", store::note_status_name(v.status)},
            {"valid_from", opt_time(v.valid_from)},
            {"valid_to", opt_time(v.valid_to)},
            {"reason", v.reason},
            {"actor", v.actor},
            {"created_at", format_timestamp(v.created_at)}};
}
json encode(const store::LinkRecord& l) {
    return {{"type", "link"},
            {"src", l.src_note_id},
            {"dst", l.dst_note_id},
            {"relation", l.relation},
            {"weight", l.weight},
            {"reason", l.reason},
            {"created_at", format_timestamp(l.created_at)}};
}

// Strict field readers: every read names the field; unknown fields are rejected by check_fields.
class Reader {
  public:
    Reader(const json& j, size_t line) : j_(j), line_(line) {}

    Status error(const std::string& field, const std::string& what) const {
        return Status::invalid_argument("line " + std::to_string(line_) + ": field '" + field + "' " + what);
    }
    Status check_fields(std::initializer_list<const char*> allowed) const {
        for (auto it = j_.begin(); it != j_.end(); ++it) {
            bool ok = false;
            for (const char* a : allowed) ok = ok || it.key() == a;
            if (!ok)
                return Status::invalid_argument("line " + std::to_string(line_) + ": unknown field '" + it.key() + "'");
        }
        return Status::ok();
    }
    Status str(const char* f, std::string* out, bool allow_empty = true) const {
        auto it = j_.find(f);
        if (it == j_.end() || !it->is_string()) return error(f, "must be a string");
        *out = it->get<std::string>();
        return validate_text(std::string("line ") + std::to_string(line_) + ": " + f, *out, allow_empty);
    }
    Status num(const char* f, double* out) const {
        auto it = j_.find(f);
        if (it == j_.end() || !it->is_number()) return error(f, "must be a number");
        *out = it->get<double>();
        return Status::ok();
    }
    Status integer(const char* f, int* out) const {
        auto it = j_.find(f);
        if (it == j_.end() || !it->is_number_integer()) return error(f, "must be an integer");
        *out = it->get<int>();
        return Status::ok();
    }
    Status time(const char* f, TimeMs* out) const {
        std::string s;
        KASTEN_RETURN_IF_ERROR(str(f, &s));
        auto r = parse_timestamp(s);
        if (!r) return error(f, r.status().message());
        *out = *r;
        return Status::ok();
    }
    Status opt_time(const char* f, std::optional<TimeMs>* out) const {
        auto it = j_.find(f);
        if (it == j_.end()) return error(f, "is missing");
        if (it->is_null()) {
            out->reset();
            return Status::ok();
        }
        TimeMs t;
        KASTEN_RETURN_IF_ERROR(time(f, &t));
        *out = t;
        return Status::ok();
    }
    Status strings(const char* f, std::vector<std::string>* out) const {
        auto it = j_.find(f);
        if (it == j_.end() || !it->is_array()) return error(f, "must be an array of strings");
        out->clear();
        for (const auto& e : *it) {
            if (!e.is_string()) return error(f, "must be an array of strings");
            out->push_back(e.get<std::string>());
            KASTEN_RETURN_IF_ERROR(validate_text(f, out->back(), true));
        }
        return Status::ok();
    }
    Status status(const char* f, store::NoteStatus* out) const {
        std::string s;
        KASTEN_RETURN_IF_ERROR(str(f, &s));
        if (!store::parse_note_status(s, out)) return error(f, "is not a note status");
        return Status::ok();
    }

  private:
    const json& j_;
    size_t line_;
};

Status decode_line(const json& j, size_t line, const std::string& type, CubeArchive* a) {
    Reader r(j, line);
    if (type == "cube") {
        KASTEN_RETURN_IF_ERROR(r.check_fields({"type", "id", "name", "created_at", "metadata"}));
        store::CubeRecord c;
        KASTEN_RETURN_IF_ERROR(r.str("id", &c.id, false));
        KASTEN_RETURN_IF_ERROR(r.str("name", &c.name));
        KASTEN_RETURN_IF_ERROR(r.time("created_at", &c.created_at));
        auto it = j.find("metadata");
        if (it == j.end() || !it->is_object()) return r.error("metadata", "must be an object");
        c.metadata_json = it->dump();
        a->cube = std::move(c);
    } else if (type == "session") {
        KASTEN_RETURN_IF_ERROR(r.check_fields({"type", "id", "external_id", "started_at", "summary"}));
        store::SessionRecord s;
        KASTEN_RETURN_IF_ERROR(r.str("id", &s.id, false));
        KASTEN_RETURN_IF_ERROR(r.str("external_id", &s.external_id, false));
        KASTEN_RETURN_IF_ERROR(r.time("started_at", &s.started_at));
        KASTEN_RETURN_IF_ERROR(r.str("summary", &s.summary));
        a->sessions.push_back(std::move(s));
    } else if (type == "turn") {
        KASTEN_RETURN_IF_ERROR(
            r.check_fields({"type", "id", "session_id", "index", "role", "content", "conv_time", "ingested_at"}));
        store::TurnRecord t;
        KASTEN_RETURN_IF_ERROR(r.str("id", &t.id, false));
        KASTEN_RETURN_IF_ERROR(r.str("session_id", &t.session_id, false));
        KASTEN_RETURN_IF_ERROR(r.integer("index", &t.index));
        KASTEN_RETURN_IF_ERROR(r.str("role", &t.role, false));
        KASTEN_RETURN_IF_ERROR(validate_role(t.role).with_context("line " + std::to_string(line)));
        KASTEN_RETURN_IF_ERROR(r.str("content", &t.content, false));
        KASTEN_RETURN_IF_ERROR(r.time("conv_time", &t.conv_time));
        KASTEN_RETURN_IF_ERROR(r.time("ingested_at", &t.ingested_at));
        a->turns.push_back(std::move(t));
    } else if (type == "note") {
        KASTEN_RETURN_IF_ERROR(r.check_fields({"type",          "id",          "content",      "kind",
                                               "keywords",      "tags",        "context",      "source_turn_ids",
                                               "valid_from",    "valid_to",    "recorded_at",  "superseded_at",
                                               "superseded_by", "status",      "version",      "importance",
                                               "strength",      "last_access", "content_hash", "updated_at"}));
        store::NoteRecord n;
        KASTEN_RETURN_IF_ERROR(r.str("id", &n.id, false));
        KASTEN_RETURN_IF_ERROR(r.str("content", &n.content, false));
        KASTEN_RETURN_IF_ERROR(r.str("kind", &n.kind, false));
        KASTEN_RETURN_IF_ERROR(r.strings("keywords", &n.keywords));
        KASTEN_RETURN_IF_ERROR(r.strings("tags", &n.tags));
        KASTEN_RETURN_IF_ERROR(r.str("context", &n.context));
        KASTEN_RETURN_IF_ERROR(r.strings("source_turn_ids", &n.source_turn_ids));
        KASTEN_RETURN_IF_ERROR(r.opt_time("valid_from", &n.valid_from));
        KASTEN_RETURN_IF_ERROR(r.opt_time("valid_to", &n.valid_to));
        KASTEN_RETURN_IF_ERROR(r.time("recorded_at", &n.recorded_at));
        KASTEN_RETURN_IF_ERROR(r.opt_time("superseded_at", &n.superseded_at));
        KASTEN_RETURN_IF_ERROR(r.str("superseded_by", &n.superseded_by));
        KASTEN_RETURN_IF_ERROR(r.status("status", &n.status));
        KASTEN_RETURN_IF_ERROR(r.integer("version", &n.version));
        KASTEN_RETURN_IF_ERROR(r.num("importance", &n.importance));
        KASTEN_RETURN_IF_ERROR(r.num("strength", &n.strength));
        KASTEN_RETURN_IF_ERROR(r.time("last_access", &n.last_access));
        KASTEN_RETURN_IF_ERROR(r.str("content_hash", &n.content_hash));
        KASTEN_RETURN_IF_ERROR(r.time("updated_at", &n.updated_at));
        a->notes.push_back(std::move(n));
    } else if (type == "note_version") {
        KASTEN_RETURN_IF_ERROR(
            r.check_fields({"type", "note_id", "version", "content", "kind", "keywords", "tags", "context", "status",
                            "valid_from", "valid_to", "reason", "actor", "created_at"}));
        store::NoteVersionRecord v;
        KASTEN_RETURN_IF_ERROR(r.str("note_id", &v.note_id, false));
        KASTEN_RETURN_IF_ERROR(r.integer("version", &v.version));
        KASTEN_RETURN_IF_ERROR(r.str("content", &v.content));
        KASTEN_RETURN_IF_ERROR(r.str("kind", &v.kind));
        KASTEN_RETURN_IF_ERROR(r.strings("keywords", &v.keywords));
        KASTEN_RETURN_IF_ERROR(r.strings("tags", &v.tags));
        KASTEN_RETURN_IF_ERROR(r.str("context", &v.context));
        KASTEN_RETURN_IF_ERROR(r.status("status", &v.status));
        KASTEN_RETURN_IF_ERROR(r.opt_time("valid_from", &v.valid_from));
        KASTEN_RETURN_IF_ERROR(r.opt_time("valid_to", &v.valid_to));
        KASTEN_RETURN_IF_ERROR(r.str("reason", &v.reason));
        KASTEN_RETURN_IF_ERROR(r.str("actor", &v.actor));
        KASTEN_RETURN_IF_ERROR(r.time("created_at", &v.created_at));
        a->note_versions.push_back(std::move(v));
    } else if (type == "link") {
        KASTEN_RETURN_IF_ERROR(r.check_fields({"type", "src", "dst", "relation", "weight", "reason", "created_at"}));
        store::LinkRecord l;
        KASTEN_RETURN_IF_ERROR(r.str("src", &l.src_note_id, false));
        KASTEN_RETURN_IF_ERROR(r.str("dst", &l.dst_note_id, false));
        KASTEN_RETURN_IF_ERROR(r.str("relation", &l.relation, false));
        KASTEN_RETURN_IF_ERROR(r.num("weight", &l.weight));
        KASTEN_RETURN_IF_ERROR(r.str("reason", &l.reason));
        KASTEN_RETURN_IF_ERROR(r.time("created_at", &l.created_at));
        a->links.push_back(std::move(l));
    } else {
        return Status::invalid_argument("line " + std::to_string(line) + ": unknown record type '" + type + "'");
    }
    return Status::ok();
}

}  // namespace

Status write_cube_archive(const CubeArchive& a, std::ostream& out) {
    try {
        out << json{{"type", "header"}, {"format", "kasten-cube"}, {"version", kCubeArchiveVersion}}.dump() << '\n';
        out << encode(a.cube).dump() << '\n';
        for (const auto& s : a.sessions) out << encode(s).dump() << '\n';
        for (const auto& t : a.turns) out << encode(t).dump() << '\n';
        for (const auto& n : a.notes) out << encode(n).dump() << '\n';
        for (const auto& v : a.note_versions) out << encode(v).dump() << '\n';
        for (const auto& l : a.links) out << encode(l).dump() << '\n';
    } catch (const json::exception& e) {
        return Status::internal(std::string("export encoding failed: ") + e.what());
    }
    out.flush();
    if (!out) return Status::io_error("export: writing the output failed");
    return Status::ok();
}

Result<CubeArchive> read_cube_archive(std::istream& in) {
    CubeArchive a;
    std::string line;
    size_t line_no = 0;
    bool have_header = false, have_cube = false;
    while (std::getline(in, line)) {
        ++line_no;
        if (line.empty() || line == "\r") continue;
        // Each line is held to the request bodies' rules (nesting, repeated keys, UTF-8): an archive is a request.
        KASTEN_ASSIGN_OR_RETURN(json j, parse_json_text<json>(line, "line " + std::to_string(line_no)));
        if (!j.is_object()) return Status::invalid_argument("line " + std::to_string(line_no) + ": not a JSON object");
        auto type_it = j.find("type");
        if (type_it == j.end() || !type_it->is_string()) {
            return Status::invalid_argument("line " + std::to_string(line_no) + ": missing string field 'type'");
        }
        std::string type = type_it->get<std::string>();
        if (!have_header) {
            if (type != "header") return Status::invalid_argument("line 1: expected the kasten-cube header record");
            auto f = j.find("format");
            auto v = j.find("version");
            if (f == j.end() || *f != "kasten-cube") return Status::invalid_argument("not a kasten-cube archive");
            if (v == j.end() || !v->is_number_integer()) return Status::invalid_argument("header: missing version");
            if (v->get<int>() > kCubeArchiveVersion) {
                return Status::not_supported("archive format version " + std::to_string(v->get<int>()) +
                                             " is newer than this kasten supports (" +
                                             std::to_string(kCubeArchiveVersion) + ")");
            }
            have_header = true;
            continue;
        }
        if (type == "header") return Status::invalid_argument("line " + std::to_string(line_no) + ": second header");
        if (type == "cube") {
            if (have_cube) return Status::invalid_argument("line " + std::to_string(line_no) + ": second cube record");
            have_cube = true;
        } else if (!have_cube) {
            return Status::invalid_argument("line " + std::to_string(line_no) + ": record before the cube record");
        }
        KASTEN_RETURN_IF_ERROR(decode_line(j, line_no, type, &a));
    }
    if (!have_header) return Status::invalid_argument("empty archive: no header line");
    if (!have_cube) return Status::invalid_argument("archive has no cube record");
    std::set<std::string> sessions, notes, turns;
    for (const auto& s : a.sessions) {
        if (!sessions.insert(s.id).second) return Status::invalid_argument("duplicate session id " + s.id);
    }
    for (const auto& t : a.turns) {
        if (!sessions.count(t.session_id)) {
            return Status::invalid_argument("turn " + t.id + " refers to unknown session " + t.session_id);
        }
        if (!turns.insert(t.id).second) return Status::invalid_argument("duplicate turn id " + t.id);
    }
    for (const auto& n : a.notes) {
        if (!notes.insert(n.id).second) return Status::invalid_argument("duplicate note id " + n.id);
    }
    for (const auto& v : a.note_versions) {
        if (!notes.count(v.note_id)) return Status::invalid_argument("version of unknown note " + v.note_id);
    }
    for (const auto& l : a.links) {
        if (!notes.count(l.src_note_id) || !notes.count(l.dst_note_id)) {
            return Status::invalid_argument("link between unknown notes " + l.src_note_id + " -> " + l.dst_note_id);
        }
    }
    return a;
}

}  // namespace kasten::memory
