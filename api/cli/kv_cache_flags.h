#pragma once

#include <string>
#include <vector>

#include "api/cli/arg_parser.h"
#include "common/status.h"
#include "llm/kv_cache.h"
#include "llm/kv_cache_factory.h"

namespace kasten::api {

// --kv-policy P and --kv-budget SIZE, shared by the commands that open an embedded model (model generate, chat,
// serve).
std::vector<FlagSpec> kv_cache_flags();

// Fills `out` from the flags; kInvalidArgument naming the flag for an unknown policy or a malformed size.
Status parse_kv_cache_flags(const ParsedArgs& args, llm::KvCacheOptions* out);

// "KV cache: kivi-q2-r32, 1.3 MiB for 8192 tokens" (which policy was chosen, for the user).
std::string describe_kv_cache(const llm::KvCache& cache);

}  // namespace kasten::api
