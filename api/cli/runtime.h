#pragma once

#include <map>
#include <memory>
#include <string>

#include "api/cli/arg_parser.h"
#include "api/cli/note_pipeline.h"
#include "common/config.h"
#include "common/result.h"
#include "llm/embedder.h"
#include "llm/language_model.h"
#include "memory/memory_manager.h"

namespace kasten::api {

// How a command opens the data dir.
struct OpenOptions {
    // Compare the indexes with the store and repair them at open (MemoryOptions::verify_on_open).
    bool verify_on_open = true;
    // Build notes as the `notes` setting says. Commands that add no turns leave this false: their manager has no
    // note builder, so notes jobs queued by an earlier process are neither made nor run by them (reads stay fast;
    // the next `kasten add` or `kasten serve` runs them).
    bool notes = false;
    // true: a background thread runs note jobs (the server). false: they wait for MemoryManager::run_jobs().
    bool background_jobs = false;
    // The model for notes = llm (only `kasten serve --model` has one); null otherwise.
    std::shared_ptr<llm::LanguageModel> language_model;
};

// What a CLI command works with: the configuration, the active embedder, the note pipeline and the opened data dir.
struct Runtime {
    Config config;
    std::shared_ptr<const llm::Embedder> embedder;
    NotePipeline notes;  // empty unless OpenOptions::notes and the setting is not "off"
    std::unique_ptr<memory::MemoryManager> memory;
};

// Builds the configuration from the global flags (--data-dir, --config, --embedder, --log-level) and --notes in
// `args`, the process environment and `extra_flags` (Config::set keys, e.g. {"port": "0"}), then sets the log level:
// the configured one when `serving`, else "warn" unless --log-level was given (commands print their own results).
Result<Config> load_cli_config(const ParsedArgs& args, const std::map<std::string, std::string>& extra_flags,
                               bool serving);

// The embedder the configuration asks for (llm/embedder_factory.h).
Result<std::shared_ptr<const llm::Embedder>> create_configured_embedder(const Config& config);

// Opens config.data_dir with the embedder and `notes` (empty: no note building). kBusy (another process, e.g.
// `kasten serve`, holds the data dir) gets a message saying what to do.
Result<std::unique_ptr<memory::MemoryManager>> open_memory(const Config& config,
                                                           std::shared_ptr<const llm::Embedder> embedder,
                                                           const NotePipeline& notes, const OpenOptions& options);

// load_cli_config + create_configured_embedder + make_note_pipeline (when options.notes) + open_memory.
Result<Runtime> open_runtime(const ParsedArgs& args, const OpenOptions& options = {});

}  // namespace kasten::api
