#include "eval/qa_cache.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"

namespace kasten::eval {

Result<std::unique_ptr<QaCache>> QaCache::open(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path p(path);
    if (p.has_parent_path()) {
        fs::create_directories(p.parent_path(), ec);
        if (ec) return Status::io_error("cannot create the directory of '" + path + "': " + ec.message());
    }
    std::unordered_map<std::string, std::string> entries;
    std::int64_t skipped = 0;
    {
        std::ifstream in(path, std::ios::binary);
        std::string line;
        while (in && std::getline(in, line)) {
            if (line.empty()) continue;
            try {
                auto j = nlohmann::json::parse(line);
                if (!j.is_object() || !j.contains("key") || !j["key"].is_string() || !j.contains("text") ||
                    !j["text"].is_string()) {
                    ++skipped;
                    continue;
                }
                entries[j["key"].get<std::string>()] = j["text"].get<std::string>();
            } catch (const nlohmann::json::exception&) {
                ++skipped;
            }
        }
        if (in.bad()) return Status::io_error("reading '" + path + "' failed");
    }
    std::ofstream out(path, std::ios::binary | std::ios::app);
    if (!out) return Status::io_error("cannot open '" + path + "' for appending");
    auto cache = std::unique_ptr<QaCache>(new QaCache(path, std::move(out)));
    cache->entries_ = std::move(entries);
    cache->skipped_lines_ = skipped;
    return cache;
}

std::string QaCache::key(const std::string& model_id, const std::string& prompt, int max_tokens, double temperature) {
    Sha256 sha;
    auto field = [&](const std::string& s) {
        sha.update(std::to_string(s.size()) + ":");
        sha.update(s);
    };
    field(model_id);
    field(prompt);
    field(std::to_string(max_tokens));
    field(fmt::format("{:.6f}", temperature));
    return sha.hex_digest();
}

std::optional<std::string> QaCache::get(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

Status QaCache::put(const std::string& key, const std::string& model_id, const std::string& text) {
    nlohmann::ordered_json j;
    j["key"] = key;
    j["model"] = model_id;
    j["text"] = text;
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::lock_guard<std::mutex> lock(mu_);
    entries_[key] = text;
    out_ << line << '\n';
    out_.flush();
    if (!out_) return Status::io_error("writing to '" + path_ + "' failed");
    return Status::ok();
}

std::int64_t QaCache::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<std::int64_t>(entries_.size());
}

}  // namespace kasten::eval
