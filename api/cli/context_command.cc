#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "common/timestamp.h"
#include "llm/tokenizer_factory.h"
#include "memory/context_builder.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "context";

int run_context(const ParsedArgs& args) {
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required");
    if (args.positionals.empty()) return usage_error(kName, "QUERY is required");
    memory::ContextRequest request;
    request.cube_id = *cube;
    for (size_t i = 0; i < args.positionals.size(); ++i) request.query += (i == 0 ? "" : " ") + args.positionals[i];
    if (auto b = args.get("budget")) {
        Result<int> budget = parse_int_flag("budget", *b, 1, 1 << 20);
        if (!budget.is_ok()) return usage_error(kName, budget.status().message());
        request.token_budget = budget.value();
    }
    if (auto s = args.get("strategy"); s && !memory::parse_context_strategy(*s, &request.strategy)) {
        return usage_error(kName, "--strategy must be auto, turn, session or note");
    }
    request.full_history = !args.has("no-full-history");
    if (auto t = args.get("query-time")) {
        Result<TimeMs> when = parse_timestamp(*t);
        if (!when.is_ok()) return usage_error(kName, "--query-time: " + when.status().message());
        request.query_time = when.value();
    }
    if (auto v = args.get("vocab")) {
        auto tokenizer = llm::load_gguf_tokenizer(*v);
        if (!tokenizer.is_ok()) return failure(kName, tokenizer.status());
        request.counter = std::make_shared<memory::TokenizerTokenCounter>(
            std::shared_ptr<const llm::Tokenizer>(std::move(tokenizer).value()));
    }
    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    Result<memory::PackedContext> packed = rt.value().memory->build_context(request);
    if (!packed.is_ok()) return failure(kName, packed.status());
    const memory::PackedContext& c = packed.value();
    if (args.has("json")) {
        std::cout << dump_json(context_to_json(c), 2) << "\n";
        return kExitOk;
    }
    std::cerr << fmt::format("context: {} mode, {} items, {} of {} tokens ({})", c.mode, c.items.size(), c.tokens,
                             c.budget, c.token_counter);
    if (!c.weights.empty()) {
        std::cerr << "; router weights";
        for (const auto& [g, w] : c.weights) std::cerr << fmt::format(" {} {:.2f}", g, w);
    }
    std::cerr << "\n";
    if (c.mode == "empty") {
        std::cerr << "nothing in cube '" << *cube << "' to give\n";
        return kExitOk;
    }
    std::cout << c.text;
    return kExitOk;
}

}  // namespace

Command context_command() {
    Command c;
    c.name = kName;
    c.summary = "Show the packed context a model would be given for a query.";
    c.usage =
        "kasten context --cube C [--budget N] [--strategy S] [--no-full-history] [--query-time T] [--vocab GGUF] "
        "[--json] QUERY...";
    c.details =
        "Builds what kasten's chat gives a model from memory (docs/context.md): the cube's whole history when it fits\n"
        "the token budget, otherwise the best turns, sessions and notes for the query packed under it, grouped by\n"
        "session in time order. Prints the text on stdout and a summary (mode, items, tokens, router weights) on\n"
        "stderr; --json prints the text with its items, ids, scores and token counts. Tokens are counted with the\n"
        "--vocab file's tokenizer (a GGUF model or vocabulary), else estimated.";
    c.examples =
        "  kasten context --cube alice where do I live\n"
        "  kasten context --cube alice --budget 1024 --strategy note --json \"trip to Portugal\"\n"
        "  kasten context --cube alice --vocab my-model.gguf what did I say about my sister\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"budget", "N", "token budget (default 4096)"},
        {"strategy", "S", "auto | turn | session | note (default auto: routed per query)"},
        {"no-full-history", "", "always retrieve and pack, even when the whole history fits"},
        {"query-time", "T", "when the query is asked (relative dates resolve against it; default now)"},
        {"vocab", "GGUF", "count tokens with this GGUF file's tokenizer (default: estimate)"},
        {"json", "", "print the context and its items as JSON"},
    };
    c.run = run_context;
    return c;
}

}  // namespace kasten::api
