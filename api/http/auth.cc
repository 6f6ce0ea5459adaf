#include "api/http/auth.h"

#include <algorithm>

#include "common/sha256.h"

namespace kasten::api {
namespace {

// Equality whose running time depends only on the lengths, not on where the texts first differ.
bool constant_time_equal(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

Authenticator::Authenticator(ApiKeys api_keys) : keys_(std::move(api_keys)) {}

Result<Principal> Authenticator::authenticate(const std::optional<std::string>& authorization,
                                              const std::optional<std::string>& x_api_key) const {
    if (!enabled()) return Principal{"api", true, {}};
    std::string_view key;
    if (authorization) {
        std::string_view value = trim(*authorization);
        // "Bearer <key>", or "Token <key>" as Mem0's clients send it (api/http/mem0_routes.h).
        auto has_scheme = [&](std::string_view scheme) {
            return value.size() > scheme.size() &&
                   std::equal(scheme.begin(), scheme.end(), value.begin(),
                              [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); });
        };
        constexpr std::string_view kBearer = "bearer ";
        constexpr std::string_view kToken = "token ";
        if (has_scheme(kBearer)) {
            key = trim(value.substr(kBearer.size()));
        } else if (has_scheme(kToken)) {
            key = trim(value.substr(kToken.size()));
        } else {
            return Status::unauthenticated(
                "the Authorization header must be 'Bearer <api key>' (or 'Token <api key>')");
        }
    } else if (x_api_key) {
        key = trim(*x_api_key);
    }
    if (key.empty()) {
        return Status::unauthenticated(
            "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'");
    }
    // Every configured key is compared (no early exit), each in time independent of where it differs.
    const std::string key_hash = Sha256::hex(key);
    const ApiKey* match = nullptr;
    for (const ApiKey& candidate : keys_) {
        if (constant_time_equal(candidate.secret, candidate.hashed ? std::string_view(key_hash) : key)) {
            match = &candidate;
        }
    }
    if (match == nullptr) return Status::unauthenticated("unknown API key");
    Principal p;
    p.actor = "key:" + match->name;
    p.all_cubes = std::find(match->cubes.begin(), match->cubes.end(), "*") != match->cubes.end();
    p.cubes = match->cubes;
    return p;
}

bool Authenticator::may_use(const Principal& principal, std::string_view cube_id) {
    if (principal.all_cubes) return true;
    return std::find(principal.cubes.begin(), principal.cubes.end(), cube_id) != principal.cubes.end();
}

Status Authenticator::authorize_cube(const Principal& principal, std::string_view cube_id) {
    if (may_use(principal, cube_id)) return Status::ok();
    return Status::permission_denied("this API key may not use cube '" + std::string(cube_id.substr(0, 128)) + "'");
}

}  // namespace kasten::api
