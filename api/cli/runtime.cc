#include "api/cli/runtime.h"

#include "common/log.h"
#include "llm/embedder_factory.h"

namespace kasten::api {

Result<Config> load_cli_config(const ParsedArgs& args, const std::map<std::string, std::string>& extra_flags,
                               bool serving) {
    ConfigSources sources;
    sources.env = read_process_env();
    sources.flags = extra_flags;
    if (auto v = args.get("config")) sources.config_file = *v;
    if (auto v = args.get("data-dir")) sources.flags["data_dir"] = *v;
    if (auto v = args.get("embedder")) sources.flags["embedder"] = *v;
    if (auto v = args.get("log-level")) sources.flags["log_level"] = *v;
    if (auto v = args.get("notes")) sources.flags["notes"] = *v;
    KASTEN_ASSIGN_OR_RETURN(Config config, load_config(sources));
    log::Level level = log::Level::kWarn;
    if (serving || args.has("log-level")) log::parse_level(config.log_level, &level);
    log::set_level(level);
    return config;
}

Result<std::shared_ptr<const llm::Embedder>> create_configured_embedder(const Config& config) {
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<llm::Embedder> embedder,
                            llm::create_embedder(config.embedder, config.effective_glove_path(), config.hashing_dim,
                                                 config.effective_use_path(), config.combined_weight));
    return std::shared_ptr<const llm::Embedder>(std::move(embedder));
}

Result<std::unique_ptr<memory::MemoryManager>> open_memory(const Config& config,
                                                           std::shared_ptr<const llm::Embedder> embedder,
                                                           const NotePipeline& notes, const OpenOptions& open_options) {
    memory::MemoryOptions options;
    options.data_dir = config.data_dir;
    options.embedder = std::move(embedder);
    options.verify_on_open = open_options.verify_on_open;
    options.note_builder = notes.builder;
    options.link_decider = notes.decider;
    options.background_jobs = open_options.background_jobs;
    options.hit_cache_bytes = static_cast<std::size_t>(config.hit_cache_mib) << 20;
    Result<std::unique_ptr<memory::MemoryManager>> manager = memory::MemoryManager::open(std::move(options));
    if (!manager.is_ok() && manager.status().code() == StatusCode::kBusy) {
        return Status::busy("the data dir " + config.data_dir +
                            " is in use by another kasten process (is `kasten serve` running on it? stop it, or use "
                            "the REST API instead): " +
                            manager.status().message());
    }
    return manager;
}

Result<Runtime> open_runtime(const ParsedArgs& args, const OpenOptions& options) {
    Runtime rt;
    KASTEN_ASSIGN_OR_RETURN(rt.config, load_cli_config(args, {}, false));
    KASTEN_ASSIGN_OR_RETURN(rt.embedder, create_configured_embedder(rt.config));
    if (options.notes) {
        KASTEN_ASSIGN_OR_RETURN(rt.notes, make_note_pipeline(rt.config.notes, options.language_model));
    }
    KASTEN_ASSIGN_OR_RETURN(rt.memory, open_memory(rt.config, rt.embedder, rt.notes, options));
    return rt;
}

}  // namespace kasten::api
