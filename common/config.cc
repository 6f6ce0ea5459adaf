#include "common/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/json_text.h"

namespace kasten {
namespace {

Result<long long> parse_int(std::string_view key, std::string_view value, long long lo, long long hi) {
    if (value.empty() || value.size() > 18) return Status::invalid_argument(std::string(key) + ": expected an integer");
    long long v = 0;
    size_t i = 0;
    bool neg = false;
    if (value[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == value.size()) return Status::invalid_argument(std::string(key) + ": expected an integer");
    for (; i < value.size(); ++i) {
        char c = value[i];
        if (c < '0' || c > '9') {
            return Status::invalid_argument(std::string(key) + ": expected an integer, got '" + std::string(value) +
                                            "'");
        }
        v = v * 10 + (c - '0');
    }
    if (neg) v = -v;
    if (v < lo || v > hi) {
        return Status::invalid_argument(std::string(key) + ": " + std::to_string(v) + " is outside [" +
                                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return v;
}

std::string default_data_dir(const std::map<std::string, std::string>& env) {
    if (auto it = env.find("KASTEN_HOME"); it != env.end() && !it->second.empty()) return it->second;
    std::string home;
    if (auto it = env.find("HOME"); it != env.end()) home = it->second;
    if (home.empty()) home = ".";
    return home + "/.local/share/kasten";
}

// Environment variable -> config key.
const std::map<std::string, std::string>& env_keys() {
    static const std::map<std::string, std::string> k = {
        {"KASTEN_HOST", "host"},         {"KASTEN_PORT", "port"},
        {"KASTEN_EMBEDDER", "embedder"}, {"KASTEN_GLOVE_PATH", "glove_path"},
        {"KASTEN_USE_PATH", "use_path"}, {"KASTEN_LOG_LEVEL", "log_level"},
        {"KASTEN_API_KEYS", "api_keys"}, {"KASTEN_MAX_BODY_BYTES", "max_body_bytes"},
        {"KASTEN_NOTES", "notes"},
    };
    return k;
}

}  // namespace

// One line per group of keys, so that adding keys touches no other line.
// clang-format off
std::vector<std::string> Config::keys() {
    return {"data_dir",          "host",         "port",           "embedder",  "glove_path",
            "hashing_dim",       "log_level",    "max_body_bytes", "max_top_k", "max_query_chars",
            "max_content_chars", "http_threads", "api_keys",       "notes",
            "http_header_timeout_s", "http_body_timeout_s", "http_max_connections", "http_max_connections_per_client",
            "use_path", "http_max_active_requests",
            "combined_weight",
            "hit_cache_mib"};
}
// clang-format on

Status Config::set(std::string_view key, std::string_view value) {
    if (key == "data_dir") {
        if (value.empty()) return Status::invalid_argument("data_dir: must not be empty");
        data_dir = value;
    } else if (key == "host") {
        if (value.empty()) return Status::invalid_argument("host: must not be empty");
        host = value;
    } else if (key == "port") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 0, 65535));
        port = static_cast<int>(v);
    } else if (key == "embedder") {
        if (value != "auto" && value != "glove" && value != "use" && value != "glove+use" && value != "hashing") {
            return Status::invalid_argument("embedder: expected auto, glove, use, glove+use or hashing, got '" +
                                            std::string(value) + "'");
        }
        embedder = value;
    } else if (key == "glove_path") {
        glove_path = value;
    } else if (key == "use_path") {
        use_path = value;
    } else if (key == "combined_weight") {
        const std::string text(value);
        char* end = nullptr;
        const double v = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !(v > 0.0 && v < 1.0)) {
            return Status::invalid_argument("combined_weight: expected a number between 0 and 1 (exclusive), got '" +
                                            text + "'");
        }
        combined_weight = v;
    } else if (key == "hashing_dim") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 16, 4096));
        hashing_dim = static_cast<int>(v);
    } else if (key == "log_level") {
        if (value != "debug" && value != "info" && value != "warn" && value != "error" && value != "off") {
            return Status::invalid_argument("log_level: expected debug, info, warn, error or off");
        }
        log_level = value;
    } else if (key == "max_body_bytes") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 1024, 1LL << 32));
        max_body_bytes = v;
    } else if (key == "max_top_k") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 1, 10000));
        max_top_k = static_cast<int>(v);
    } else if (key == "max_query_chars") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 16, 1000000));
        max_query_chars = static_cast<int>(v);
    } else if (key == "max_content_chars") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 16, 10000000));
        max_content_chars = static_cast<int>(v);
    } else if (key == "http_threads") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 1, 1024));
        http_threads = static_cast<int>(v);
    } else if (key == "http_header_timeout_s") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 1, 3600));
        http_header_timeout_s = static_cast<int>(v);
    } else if (key == "http_body_timeout_s") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 1, 86400));
        http_body_timeout_s = static_cast<int>(v);
    } else if (key == "http_max_connections") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 0, 1024));
        http_max_connections = static_cast<int>(v);
    } else if (key == "http_max_connections_per_client") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 0, 1024));
        http_max_connections_per_client = static_cast<int>(v);
    } else if (key == "http_max_active_requests") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 0, 1024));
        http_max_active_requests = static_cast<int>(v);
    } else if (key == "hit_cache_mib") {
        KASTEN_ASSIGN_OR_RETURN(long long v, parse_int(key, value, 0, 1 << 20));
        hit_cache_mib = static_cast<int>(v);
    } else if (key == "notes") {
        if (value != "heuristic" && value != "llm" && value != "off") {
            return Status::invalid_argument("notes: expected heuristic, llm or off, got '" + std::string(value) + "'");
        }
        notes = value;
    } else if (key == "api_keys") {
        KASTEN_ASSIGN_OR_RETURN(api_keys, parse_api_keys(value));
    } else {
        return Status::invalid_argument("unknown configuration key '" + std::string(key) + "'");
    }
    return Status::ok();
}

std::string Config::effective_glove_path() const {
    return glove_path.empty() ? data_dir + "/embeddings/glove-6b-100d.kvec" : glove_path;
}

std::string Config::effective_use_path() const {
    return use_path.empty() ? data_dir + "/embeddings/use-lite-en.kuse" : use_path;
}

std::map<std::string, std::string> read_process_env() {
    std::map<std::string, std::string> env;
    for (const char* name :
         {"HOME", "KASTEN_HOME", "KASTEN_HOST", "KASTEN_PORT", "KASTEN_EMBEDDER", "KASTEN_GLOVE_PATH",
          "KASTEN_USE_PATH", "KASTEN_LOG_LEVEL", "KASTEN_API_KEYS", "KASTEN_MAX_BODY_BYTES", "KASTEN_NOTES"}) {
        if (const char* v = std::getenv(name)) env[name] = v;
    }
    return env;
}

Result<Config> load_config(const ConfigSources& sources) {
    Config cfg;
    cfg.data_dir = default_data_dir(sources.env);
    if (auto it = sources.flags.find("data_dir"); it != sources.flags.end()) cfg.data_dir = it->second;

    std::string file = sources.config_file.value_or(cfg.data_dir + "/config.json");
    std::ifstream in(file);
    if (!in) {
        if (sources.config_file) return Status::not_found("config file '" + file + "' cannot be read");
    } else {
        std::stringstream ss;
        ss << in.rdbuf();
        KASTEN_ASSIGN_OR_RETURN(nlohmann::json j,
                                parse_json_text<nlohmann::json>(ss.str(), "config file '" + file + "'"));
        if (!j.is_object()) return Status::invalid_argument("config file '" + file + "' must hold a JSON object");
        for (auto& [key, value] : j.items()) {
            if (key == "api_keys") {
                KASTEN_ASSIGN_OR_RETURN(cfg.api_keys,
                                        parse_api_keys_json(value, "config file '" + file + "': api_keys"));
                continue;
            }
            std::string text = value.is_string() ? value.get<std::string>() : value.dump();
            Status st = cfg.set(key, text);
            if (!st.is_ok()) return st.with_context("config file '" + file + "'");
        }
    }
    for (const auto& [var, key] : env_keys()) {
        if (auto it = sources.env.find(var); it != sources.env.end() && !it->second.empty()) {
            Status st = cfg.set(key, it->second);
            if (!st.is_ok()) return st.with_context("environment variable " + var);
        }
    }
    for (const auto& [key, value] : sources.flags) {
        Status st = cfg.set(key, value);
        if (!st.is_ok()) return st.with_context("flag --" + key);
    }
    return cfg;
}

}  // namespace kasten
