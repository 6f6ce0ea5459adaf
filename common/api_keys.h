#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"

namespace kasten {

// One API key of the configuration. The audit trail names the caller by `name` ("key:<name>"), never by any part of
// the key. A key may be given as its SHA-256 ("sha256:<64 hex digits>") so the configuration need not hold it.
struct ApiKey {
    std::string name;    // [A-Za-z0-9._-]{1,64}, unique
    std::string secret;  // the key itself (>= 8 characters), or when `hashed` its SHA-256 in lower hex
    bool hashed = false;
    std::vector<std::string> cubes;  // cube ids the key may use; "*" = every cube
};
using ApiKeys = std::vector<ApiKey>;

// Text form (flag --api-keys, KASTEN_API_KEYS): entries "[name@]key=cube1,cube2" separated by ';'. A key written
// "sha256:<hex>" is hashed. Unnamed keys are named "key-1", "key-2", … by position. In this form a key cannot
// contain ';', '=' or '@' (the config file's list form has no such limits).
Result<ApiKeys> parse_api_keys(std::string_view text);

// Config file forms: a list of {"name", "key", "cubes"} objects, an object {"<key>": ["cube", …]} (keys named by
// position) or a string in the text form. `what` names the source in errors.
Result<ApiKeys> parse_api_keys_json(const nlohmann::json& value, std::string_view what);

// Keys named "key-1", "key-2", … in the map's order.
ApiKeys api_keys_from_map(const std::map<std::string, std::vector<std::string>>& keys);

}  // namespace kasten
