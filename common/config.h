#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api_keys.h"
#include "common/result.h"

namespace kasten {

// Process configuration. Precedence (lowest to highest): built-in defaults, the JSON config file
// (`--config FILE`, else `<data_dir>/config.json` when present), environment variables (KASTEN_*), flags.
struct Config {
    std::string data_dir;            // $KASTEN_HOME, else ~/.local/share/kasten
    std::string host = "127.0.0.1";  // forced to loopback when no API keys are configured
    int port = 8420;
    std::string embedder = "auto";  // auto | glove | use | glove+use | hashing ("auto": GloVe when its file exists)
    std::string glove_path;         // default <data_dir>/embeddings/glove-6b-100d.kvec
    std::string use_path;           // default <data_dir>/embeddings/use-lite-en.kuse (Universal Sentence Encoder lite)
    double combined_weight = 0.5;   // glove+use: the weight w of the GloVe cosine (the encoder's is 1 - w), in (0, 1)
    int hashing_dim = 256;
    std::string log_level = "info";
    std::int64_t max_body_bytes = 8 << 20;  // request bodies above this are rejected (413)
    int max_top_k = 200;
    int max_query_chars = 4096;
    int max_content_chars = 100000;  // one message or note
    // HTTP worker threads: connections served at once (cpp-httplib keeps a connection on one worker for its whole
    // keep-alive life). 256 lets `kasten serve` handle 200 concurrent keep-alive clients; see api/http/http_server.h.
    int http_threads = 256;
    // HTTP limits against slow or greedy clients (api/http/http_server.h, docs/api.md#limits): read deadlines per
    // request in seconds, and connection caps (0 = threads minus an eighth / no per-address cap).
    int http_header_timeout_s = 10;
    int http_body_timeout_s = 60;
    int http_max_connections = 0;
    int http_max_connections_per_client = 64;
    // Requests doing memory work at once; the others wait, first come first served (api/http/request_gate.h).
    // 0 = 8 per hardware thread. A value >= http_threads sets no effective limit.
    int http_max_active_requests = 0;
    // Memory for what searches show of recently written or read units (memory/hit_cache.h), in MiB; 0 = no cache
    // (every search reads its hits from the store).
    int hit_cache_mib = 64;
    // How conversation turns become notes (agentic notes): "heuristic" (no model; the default), "llm" (the language
    // model of `kasten serve --model FILE`; any other command refuses it) or "off" (no notes are built).
    std::string notes = "heuristic";
    // Named API keys and the cube ids each may use (common/api_keys.h). Empty = no authentication, loopback only.
    ApiKeys api_keys;

    // Sets one key by name from text ("port", "8420"). kInvalidArgument on unknown keys or bad values.
    Status set(std::string_view key, std::string_view value);
    // Path of the GloVe binary, applying the default.
    std::string effective_glove_path() const;
    // Path of the Universal Sentence Encoder lite file, applying the default.
    std::string effective_use_path() const;
    // The names accepted by set(), for help text.
    static std::vector<std::string> keys();
};

// Where configuration comes from. `env` is injected so tests need not touch the real environment.
struct ConfigSources {
    std::optional<std::string> config_file;    // explicit --config
    std::map<std::string, std::string> env;    // e.g. {"KASTEN_HOME": "/tmp/x"}
    std::map<std::string, std::string> flags;  // key -> value, same keys as Config::set
};

// Reads the process environment variables kasten knows (KASTEN_HOME, KASTEN_PORT, ...; see Config::keys()).
std::map<std::string, std::string> read_process_env();

// Builds the configuration. Errors name the source and key that was wrong.
Result<Config> load_config(const ConfigSources& sources);

}  // namespace kasten
