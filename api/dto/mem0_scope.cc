#include "api/dto/mem0_scope.h"

#include <algorithm>

#include "api/dto/json_codec.h"

namespace kasten::api::mem0 {
namespace {

constexpr size_t kMaxIdBytes = 128;
constexpr std::string_view kTagPrefix = "mem0.";
constexpr std::string_view kMetadataTag = "mem0.metadata:";

bool plain(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The entity type a cube is named after, per field.
const char* entity_type(std::string_view field) {
    if (field == "user_id") return "user";
    if (field == "agent_id") return "agent";
    if (field == "app_id") return "app";
    return "run";
}

}  // namespace

const char* const kEntityFields[4] = {"user_id", "agent_id", "app_id", "run_id"};

std::optional<std::string>* entity_slot(Entities& e, std::string_view field) {
    if (field == "user_id") return &e.user_id;
    if (field == "agent_id") return &e.agent_id;
    if (field == "app_id") return &e.app_id;
    if (field == "run_id") return &e.run_id;
    return nullptr;
}

const std::optional<std::string>* entity_slot(const Entities& e, std::string_view field) {
    return entity_slot(const_cast<Entities&>(e), field);
}

std::string escape_id(std::string_view id) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(id.size());
    for (char c : id) {
        if (plain(c)) {
            out.push_back(c);
        } else {
            const auto u = static_cast<unsigned char>(c);
            out.push_back('_');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
    return out;
}

std::optional<std::string> unescape_id(std::string_view escaped) {
    std::string out;
    for (size_t i = 0; i < escaped.size(); ++i) {
        const char c = escaped[i];
        if (plain(c)) {
            out.push_back(c);
            continue;
        }
        if (c != '_' || i + 2 >= escaped.size()) return std::nullopt;
        const int hi = hex_value(escaped[i + 1]);
        const int lo = hex_value(escaped[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        const char decoded = static_cast<char>(hi * 16 + lo);
        if (plain(decoded)) return std::nullopt;  // escape_id never escapes these
        out.push_back(decoded);
        i += 2;
    }
    return out;
}

Result<std::string> cube_for(const Entities& entities) {
    for (const char* field : kEntityFields) {
        const std::optional<std::string>* value = entity_slot(entities, field);
        if (!*value) continue;
        if ((*value)->empty()) return Status::invalid_argument(std::string("field '") + field + "': must not be empty");
        std::string cube = std::string(entity_type(field)) + ":" + escape_id(**value);
        if (cube.size() > kMaxIdBytes) {
            return Status::invalid_argument(std::string("field '") + field + "': too long for a kasten cube id (" +
                                            std::to_string(cube.size()) + " > 128 bytes once escaped)");
        }
        return cube;
    }
    return Status::invalid_argument("one of user_id, agent_id, app_id or run_id is required");
}

Result<std::string> session_for_run(const std::string& run_id) {
    if (run_id.empty()) return Status::invalid_argument("field 'run_id': must not be empty");
    std::string session = escape_id(run_id);
    if (session.size() > kMaxIdBytes) {
        return Status::invalid_argument("field 'run_id': too long for a kasten session id (" +
                                        std::to_string(session.size()) + " > 128 bytes once escaped)");
    }
    return session;
}

std::optional<CubeEntity> entity_of_cube(std::string_view cube_id) {
    const size_t colon = cube_id.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view type = cube_id.substr(0, colon);
    if (type != "user" && type != "agent" && type != "app" && type != "run") return std::nullopt;
    std::optional<std::string> name = unescape_id(cube_id.substr(colon + 1));
    if (!name || name->empty()) return std::nullopt;
    return CubeEntity{std::string(type), std::move(*name)};
}

NoteScope scope_of(const store::NoteRecord& note) {
    NoteScope scope;
    if (std::optional<CubeEntity> owner = entity_of_cube(note.cube_id)) {
        *entity_slot(scope.entities, owner->type + "_id") = owner->name;
    }
    for (const std::string& tag : note.tags) {
        if (tag.rfind(kTagPrefix, 0) != 0) {
            scope.categories.push_back(tag);
            continue;
        }
        if (tag.rfind(kMetadataTag, 0) == 0) {
            scope.metadata =
                nlohmann::json::parse(tag.substr(kMetadataTag.size()), nullptr, /*allow_exceptions=*/false);
            if (scope.metadata.is_discarded()) scope.metadata = nullptr;
            continue;
        }
        const std::string_view rest = std::string_view(tag).substr(kTagPrefix.size());
        const size_t colon = rest.find(':');
        if (colon == std::string_view::npos) continue;
        std::optional<std::string>* slot = entity_slot(scope.entities, rest.substr(0, colon));
        if (slot != nullptr && !*slot) *slot = std::string(rest.substr(colon + 1));
    }
    return scope;
}

std::vector<std::string> tags_with_scope(const std::vector<std::string>& tags, const Entities& entities,
                                         std::string_view cube_id, const nlohmann::json& metadata) {
    std::vector<std::string> out;
    for (const std::string& tag : tags) {
        if (tag.rfind(kTagPrefix, 0) != 0) out.push_back(tag);
    }
    const std::optional<CubeEntity> owner = entity_of_cube(cube_id);
    for (const char* field : kEntityFields) {
        const std::optional<std::string>* value = entity_slot(entities, field);
        if (!*value) continue;
        if (owner && owner->type + "_id" == field && owner->name == **value) continue;
        out.push_back(std::string(kTagPrefix) + field + ":" + **value);
    }
    if (!metadata.is_null()) out.push_back(std::string(kMetadataTag) + dump_json(metadata));
    return out;
}

std::vector<std::string> tags_with_metadata(const std::vector<std::string>& tags, const nlohmann::json& metadata) {
    std::vector<std::string> out;
    for (const std::string& tag : tags) {
        if (tag.rfind(kMetadataTag, 0) != 0) out.push_back(tag);
    }
    if (!metadata.is_null()) out.push_back(std::string(kMetadataTag) + dump_json(metadata));
    return out;
}

}  // namespace kasten::api::mem0
