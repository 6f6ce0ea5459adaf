#pragma once

#include <map>
#include <memory>
#include <string>

#include "api/cli/arg_parser.h"
#include "common/config.h"
#include "common/result.h"
#include "llm/embedder.h"
#include "memory/memory_manager.h"

namespace kasten::api {

// What a CLI command works with: the configuration, the active embedder and the opened data dir.
struct Runtime {
    Config config;
    std::shared_ptr<const llm::Embedder> embedder;
    std::unique_ptr<memory::MemoryManager> memory;
};

// Builds the configuration from the global flags (--data-dir, --config, --embedder, --log-level) in `args`, the
// process environment and `extra_flags` (Config::set keys, e.g. {"port": "0"}), then sets the log level: the
// configured one when `serving`, else "warn" unless --log-level was given (commands print their own results).
Result<Config> load_cli_config(const ParsedArgs& args, const std::map<std::string, std::string>& extra_flags,
                               bool serving);

// The embedder the configuration asks for (llm/embedder_factory.h).
Result<std::shared_ptr<const llm::Embedder>> create_configured_embedder(const Config& config);

// Opens config.data_dir with the embedder. kBusy (another process, e.g. `kasten serve`, holds the data dir) gets a
// message saying what to do. verify_on_open = false skips the index check-and-repair at open (MemoryOptions).
Result<std::unique_ptr<memory::MemoryManager>> open_memory(const Config& config,
                                                           std::shared_ptr<const llm::Embedder> embedder,
                                                           bool verify_on_open = true);

// load_cli_config + create_configured_embedder + open_memory.
Result<Runtime> open_runtime(const ParsedArgs& args, bool verify_on_open = true);

}  // namespace kasten::api
