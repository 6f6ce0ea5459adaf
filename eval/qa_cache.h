#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/result.h"

namespace kasten::eval {

// The on-disk cache of reader and judge generations, so a rerun of an evaluation costs no model call: a JSONL file of
// {"key", "model", "text"} lines, appended (and flushed) as generations arrive and loaded whole at open. The key is
// QaCache::key(): the SHA-256 of the model id, the prompt and the generation settings that change the output, so a
// different judge model or a changed prompt misses. Lines that do not parse (e.g. a line cut by a killed run) are
// skipped and counted. Thread-safe.
class QaCache {
  public:
    // Opens (creating when missing, with its directory) the cache file. kIOError when it cannot be read or created.
    [[nodiscard]] static Result<std::unique_ptr<QaCache>> open(const std::string& path);

    // Hex SHA-256 over model_id, prompt, max_tokens and temperature, each field length-prefixed. Pure.
    static std::string key(const std::string& model_id, const std::string& prompt, int max_tokens, double temperature);

    std::optional<std::string> get(const std::string& key) const;
    // Records a generation (in memory and on disk). kIOError when the line cannot be written.
    [[nodiscard]] Status put(const std::string& key, const std::string& model_id, const std::string& text);

    std::int64_t size() const;
    std::int64_t skipped_lines() const { return skipped_lines_; }
    const std::string& path() const { return path_; }

  private:
    QaCache(std::string path, std::ofstream out) : path_(std::move(path)), out_(std::move(out)) {}

    const std::string path_;
    mutable std::mutex mu_;
    std::ofstream out_;
    std::unordered_map<std::string, std::string> entries_;
    std::int64_t skipped_lines_ = 0;
};

}  // namespace kasten::eval
