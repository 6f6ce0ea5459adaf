#include "common/api_keys.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

namespace kasten {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-';
    });
}

// Fills secret/hashed from the key as written; kInvalidArgument names `where`.
Status set_secret(ApiKey& key, std::string_view written, const std::string& where) {
    if (written.substr(0, kSha256Prefix.size()) == kSha256Prefix) {
        std::string hex(written.substr(kSha256Prefix.size()));
        std::transform(hex.begin(), hex.end(), hex.begin(),
                       [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c); });
        const bool ok = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
                            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                        });
        if (!ok) return Status::invalid_argument(where + ": a hashed key is 'sha256:' and 64 hex digits");
        key.secret = std::move(hex);
        key.hashed = true;
        return Status::ok();
    }
    if (written.size() < 8) return Status::invalid_argument(where + ": a key must be at least 8 characters");
    key.secret = std::string(written);
    key.hashed = false;
    return Status::ok();
}

// Names unnamed keys by position and refuses repeated names or keys.
Result<ApiKeys> finish(ApiKeys keys, const std::string& what) {
    std::set<std::string> names, secrets;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        ApiKey& k = keys[i];
        if (k.name.empty()) k.name = "key-" + std::to_string(i + 1);
        if (!names.insert(k.name).second) return Status::invalid_argument(what + ": key name '" + k.name + "' twice");
        if (!secrets.insert((k.hashed ? "h:" : "p:") + k.secret).second) {
            return Status::invalid_argument(what + ": key '" + k.name + "' repeats an earlier key");
        }
        if (k.cubes.empty()) return Status::invalid_argument(what + ": key '" + k.name + "' has no cubes");
        for (const auto& c : k.cubes) {
            if (c.empty()) return Status::invalid_argument(what + ": key '" + k.name + "' lists an empty cube id");
        }
    }
    return keys;
}

}  // namespace

Result<ApiKeys> parse_api_keys(std::string_view text) {
    const std::string what = "api_keys";
    ApiKeys out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(';', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view entry = text.substr(start, end - start);
        start = end + 1;
        if (entry.empty()) {
            if (end == text.size()) break;
            continue;
        }
        size_t eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == entry.size()) {
            return Status::invalid_argument("api_keys: expected '[name@]key=cube1,cube2;key2=cube3'");
        }
        ApiKey key;
        std::string_view written = entry.substr(0, eq);
        if (size_t at = written.find('@'); at != std::string_view::npos) {
            key.name = std::string(written.substr(0, at));
            if (!valid_name(key.name)) {
                return Status::invalid_argument("api_keys: a key name is 1-64 of A-Z a-z 0-9 . _ -");
            }
            written.remove_prefix(at + 1);
        }
        KASTEN_RETURN_IF_ERROR(set_secret(key, written, what));
        std::string_view rest = entry.substr(eq + 1);
        size_t s = 0;
        while (s <= rest.size()) {
            size_t e = rest.find(',', s);
            if (e == std::string_view::npos) e = rest.size();
            if (e > s) key.cubes.emplace_back(rest.substr(s, e - s));
            s = e + 1;
        }
        if (key.cubes.empty()) return Status::invalid_argument("api_keys: key without cubes");
        out.push_back(std::move(key));
        if (end == text.size()) break;
    }
    return finish(std::move(out), what);
}

Result<ApiKeys> parse_api_keys_json(const nlohmann::json& value, std::string_view what_view) {
    const std::string what(what_view);
    if (value.is_string()) return parse_api_keys(value.get<std::string>());
    auto cube_list = [&](const nlohmann::json& cubes, const std::string& where,
                         std::vector<std::string>& out) -> Status {
        if (!cubes.is_array()) return Status::invalid_argument(where + " must be an array of cube ids");
        for (const auto& c : cubes) {
            if (!c.is_string()) return Status::invalid_argument(where + ": cube ids must be strings");
            out.push_back(c.get<std::string>());
        }
        return Status::ok();
    };
    ApiKeys out;
    if (value.is_object()) {
        for (const auto& [written, cubes] : value.items()) {
            ApiKey key;
            KASTEN_RETURN_IF_ERROR(set_secret(key, written, what));
            KASTEN_RETURN_IF_ERROR(cube_list(cubes, what + " (key " + std::to_string(out.size() + 1) + ")", key.cubes));
            out.push_back(std::move(key));
        }
        return finish(std::move(out), what);
    }
    if (!value.is_array()) {
        return Status::invalid_argument(what + " must be a list of {\"name\", \"key\", \"cubes\"} objects");
    }
    for (const auto& item : value) {
        const std::string where = what + "[" + std::to_string(out.size()) + "]";
        if (!item.is_object()) return Status::invalid_argument(where + " must be an object");
        for (const auto& [field, unused] : item.items()) {
            if (field != "name" && field != "key" && field != "cubes") {
                return Status::invalid_argument(where + ": unknown field '" + field + "' (name, key, cubes)");
            }
        }
        ApiKey key;
        auto name = item.find("name");
        if (name == item.end() || !name->is_string() || !valid_name(name->get<std::string>())) {
            return Status::invalid_argument(where + ".name: required, 1-64 of A-Z a-z 0-9 . _ -");
        }
        key.name = name->get<std::string>();
        auto secret = item.find("key");
        if (secret == item.end() || !secret->is_string()) {
            return Status::invalid_argument(where + ".key: required string (the key, or sha256:<hex>)");
        }
        KASTEN_RETURN_IF_ERROR(set_secret(key, secret->get<std::string>(), where + ".key"));
        auto cubes = item.find("cubes");
        if (cubes == item.end()) return Status::invalid_argument(where + ".cubes: required");
        KASTEN_RETURN_IF_ERROR(cube_list(*cubes, where + ".cubes", key.cubes));
        out.push_back(std::move(key));
    }
    return finish(std::move(out), what);
}

ApiKeys api_keys_from_map(const std::map<std::string, std::vector<std::string>>& keys) {
    ApiKeys out;
    for (const auto& [secret, cubes] : keys) {
        ApiKey k;
        k.name = "key-" + std::to_string(out.size() + 1);
        k.secret = secret;
        k.cubes = cubes;
        out.push_back(std::move(k));
    }
    return out;
}

}  // namespace kasten
