#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api_keys.h"
#include "common/result.h"

namespace kasten::api {

// Who is calling: the key's cube list and a log-safe actor name for the audit trail.
struct Principal {
    std::string actor;               // "api" without auth, else "key:<the key's name>" (never key material)
    bool all_cubes = false;          // no auth, or the key lists "*"
    std::vector<std::string> cubes;  // the cubes the key may use (when !all_cubes)
};

// API-key authentication and per-cube authorisation. Each named key lists the cube ids it may use ("*" = every
// cube); a key may be configured as its SHA-256. With no keys configured authentication is off and every caller may
// use every cube (the server then listens on loopback only). Immutable after construction; thread-safe.
class Authenticator {
  public:
    explicit Authenticator(ApiKeys api_keys);

    bool enabled() const { return !keys_.empty(); }

    // The key comes from `Authorization: Bearer <key>` (or `Token <key>`, Mem0's scheme) or `X-API-Key: <key>`
    // (either header; absent = nullopt).
    // kUnauthenticated when auth is on and the key is missing, malformed or unknown. Keys are compared in time
    // independent of where they differ.
    Result<Principal> authenticate(const std::optional<std::string>& authorization,
                                   const std::optional<std::string>& x_api_key) const;

    // kPermissionDenied unless the principal may use the cube (whether or not it exists).
    static Status authorize_cube(const Principal& principal, std::string_view cube_id);
    static bool may_use(const Principal& principal, std::string_view cube_id);

  private:
    ApiKeys keys_;
};

}  // namespace kasten::api
