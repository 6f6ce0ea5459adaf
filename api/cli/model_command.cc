#include "api/cli/model_command.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/kv_cache_flags.h"
#include "api/cli/runtime.h"
#include "llm/embedded_language_model.h"
#include "llm/model_converter.h"
#include "llm/model_info.h"
#include "llm/tensor_type.h"

namespace kasten::api {
namespace {

constexpr const char* kOverview = R"(Usage: kasten model SUBCOMMAND [options]

Inspect, convert and run the embedded language model (GGUF files, llama.cpp-compatible).

Subcommands:
  info      Print a model file's architecture, shapes, weight types and tokenizer.
  convert   Convert a llama2.c checkpoint to GGUF, or requantize a GGUF file.
  generate  Generate text from a prompt with a model (streamed to stdout).

Run 'kasten model SUBCOMMAND --help' for a subcommand's options.
)";

// Parses a finite number in [lo, hi] given to --flag.
Result<double> parse_double_flag(const std::string& flag, const std::string& text, double lo, double hi) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v) || v < lo || v > hi) {
        return Status::invalid_argument(
            fmt::format("flag --{}: expected a number in [{}, {}], got '{}'", flag, lo, hi, text));
    }
    return v;
}

// Parses a whole number in [0, 2^63) given to --flag.
Result<std::uint64_t> parse_seed_flag(const std::string& flag, const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || text[0] == '-' || end != text.c_str() + text.size() || errno != 0) {
        return Status::invalid_argument(fmt::format("flag --{}: expected a whole number >= 0, got '{}'", flag, text));
    }
    return static_cast<std::uint64_t>(v);
}

Status require_file(const std::string& flag, const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return Status::not_found(flag.empty() ? "no such file: " + path
                                              : fmt::format("--{}: no such file: {}", flag, path));
    }
    return Status::ok();
}

// Honours --log-level (and the other global flags) like every other command.
int apply_globals(const std::string& name, const ParsedArgs& args) {
    Result<Config> config = load_cli_config(args, {}, /*serving=*/false);
    if (!config.is_ok()) return failure(name, config.status());
    return kExitOk;
}

int run_info(const ParsedArgs& args) {
    const std::string name = "model info";
    if (args.positionals.size() != 1) return usage_error(name, "give exactly one model file");
    if (int rc = apply_globals(name, args); rc != kExitOk) return rc;
    const std::string& path = args.positionals[0];
    if (Status st = require_file("", path); !st.is_ok()) return failure(name, st);
    Result<llm::ModelInfo> info = llm::read_model_info(path);
    if (!info.is_ok()) return failure(name, info.status());
    std::cout << info.value().to_text();
    if (!info.value().to_text().empty() && info.value().to_text().back() != '\n') std::cout << "\n";
    return kExitOk;
}

void print_report(const std::string& out, llm::TensorType type, const llm::ConversionReport& r) {
    std::cout << fmt::format(
        "wrote {} ({}): {} tensors, {} quantized, {} stored as F16 (width not a multiple of the block), {} kept; "
        "{} bytes of tensor data read, {} written\n",
        out, llm::tensor_type_name(type), r.tensors, r.quantized, r.fell_back, r.kept, r.bytes_in, r.bytes_out);
    if (r.calibration_tokens > 0) std::cout << fmt::format("calibrated on {} tokens", r.calibration_tokens);
    if (r.predicted_kl > 0.0) {
        std::cout << fmt::format(
            "; {} matrices stored one type up by the mixed-precision rule (predicted KL {:.4f} "
            "nats/token)",
            r.promoted, r.predicted_kl);
    }
    if (r.calibration_tokens > 0) std::cout << "\n";
}

int run_convert(const ParsedArgs& args) {
    const std::string name = "model convert";
    if (!args.positionals.empty()) return usage_error(name, "unexpected argument '" + args.positionals[0] + "'");
    const auto llama2c = args.get("llama2c");
    const auto gguf = args.get("gguf");
    const auto out = args.get("out");
    if (llama2c.has_value() == gguf.has_value()) return usage_error(name, "give exactly one of --llama2c and --gguf");
    if (!out || out->empty()) return usage_error(name, "--out FILE is required");
    if (gguf && !args.has("type")) return usage_error(name, "--type is required with --gguf");
    if (llama2c && !args.has("tokenizer")) return usage_error(name, "--tokenizer FILE is required with --llama2c");
    if (gguf && args.has("tokenizer")) return usage_error(name, "--tokenizer only goes with --llama2c");
    for (const char* flag : {"calibration-text", "no-calibration", "pure"}) {
        if (llama2c && args.has(flag)) return usage_error(name, fmt::format("--{} only goes with --gguf", flag));
    }
    if (args.has("calibration-text") && args.has("no-calibration")) {
        return usage_error(name, "give at most one of --calibration-text and --no-calibration");
    }
    llm::TensorType type = llm::TensorType::kF32;
    if (auto t = args.get("type")) {
        Result<llm::TensorType> parsed = llm::tensor_type_from_name(*t);
        if (!parsed.is_ok() || !llm::is_compute_type(parsed.value())) {
            return usage_error(name, "--type: expected f32, f16, q8_0, q4_0, q4_k or q6_k, got '" + *t + "'");
        }
        type = parsed.value();
    }
    if (int rc = apply_globals(name, args); rc != kExitOk) return rc;
    const std::string input = llama2c ? *llama2c : *gguf;
    if (Status st = require_file(llama2c ? "llama2c" : "gguf", input); !st.is_ok()) return failure(name, st);
    std::error_code ec;
    if (std::filesystem::equivalent(input, *out, ec)) return usage_error(name, "--out must differ from the input");
    Result<llm::ConversionReport> report = Status::internal("unreachable");
    if (llama2c) {
        const std::string tokenizer = *args.get("tokenizer");
        if (Status st = require_file("tokenizer", tokenizer); !st.is_ok()) return failure(name, st);
        report = llm::convert_llama2c_to_gguf(input, tokenizer, *out, type);
    } else {
        llm::RequantizeOptions options;
        options.calibrate = !args.has("no-calibration");
        options.mixed_precision = !args.has("pure");
        if (auto text_path = args.get("calibration-text")) {
            if (Status st = require_file("calibration-text", *text_path); !st.is_ok()) return failure(name, st);
            std::ifstream text(*text_path, std::ios::binary);
            std::ostringstream buffer;
            buffer << text.rdbuf();
            if (!text.good() && !text.eof()) {
                return failure(name, Status::io_error("cannot read --calibration-text " + *text_path));
            }
            options.calibration_text = buffer.str();
        }
        report = llm::requantize_gguf(input, *out, type, options);
    }
    if (!report.is_ok()) return failure(name, report.status());
    print_report(*out, type, report.value());
    return kExitOk;
}

int run_generate(const ParsedArgs& args) {
    const std::string name = "model generate";
    if (!args.positionals.empty()) return usage_error(name, "unexpected argument '" + args.positionals[0] + "'");
    const auto model_path = args.get("model");
    const auto prompt = args.get("prompt");
    if (!model_path || model_path->empty()) return usage_error(name, "--model FILE is required");
    if (!prompt) return usage_error(name, "--prompt TEXT is required");

    llm::EmbeddedModelOptions model_options;
    model_options.model_path = *model_path;
    if (auto v = args.get("tokenizer")) model_options.tokenizer_path = *v;
    llm::GenerationOptions gen;
    gen.max_tokens = 256;
    gen.temperature = 0.8;
    gen.top_p = 0.95;
    gen.top_k = 40;
    std::string schema_path;
    {
        auto int_flag = [&](const char* flag, int lo, int hi, int* dst) -> Status {
            if (auto v = args.get(flag)) {
                KASTEN_ASSIGN_OR_RETURN(*dst, parse_int_flag(flag, *v, lo, hi));
            }
            return Status::ok();
        };
        auto double_flag = [&](const char* flag, double lo, double hi, double* dst) -> Status {
            if (auto v = args.get(flag)) {
                KASTEN_ASSIGN_OR_RETURN(*dst, parse_double_flag(flag, *v, lo, hi));
            }
            return Status::ok();
        };
        std::vector<Status> checks = {
            double_flag("temp", 0.0, 100.0, &gen.temperature), int_flag("top-k", 0, 1 << 20, &gen.top_k),
            double_flag("top-p", 0.0, 1.0, &gen.top_p),        int_flag("max-tokens", 1, 1 << 20, &gen.max_tokens),
            int_flag("ctx", 2, 1 << 20, &model_options.n_ctx), int_flag("threads", 1, 256, &model_options.n_threads),
        };
        if (auto v = args.get("seed")) {
            Result<std::uint64_t> seed = parse_seed_flag("seed", *v);
            checks.push_back(seed.is_ok() ? Status::ok() : seed.status());
            if (seed.is_ok()) gen.seed = seed.value();
        }
        for (const Status& st : checks) {
            if (!st.is_ok()) return usage_error(name, st.message());
        }
        if (gen.top_p <= 0.0) return usage_error(name, "flag --top-p: must be greater than 0");
        if (auto v = args.get("json-schema")) schema_path = *v;
        if (Status st = parse_kv_cache_flags(args, &model_options.kv_cache); !st.is_ok()) {
            return usage_error(name, st.message());
        }
    }
    if (int rc = apply_globals(name, args); rc != kExitOk) return rc;
    if (Status st = require_file("model", *model_path); !st.is_ok()) return failure(name, st);
    if (!model_options.tokenizer_path.empty()) {
        if (Status st = require_file("tokenizer", model_options.tokenizer_path); !st.is_ok()) return failure(name, st);
    }
    if (!schema_path.empty()) {
        if (Status st = require_file("json-schema", schema_path); !st.is_ok()) return failure(name, st);
        std::ifstream in(schema_path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in && !in.eof()) return failure(name, Status::io_error("cannot read " + schema_path));
        gen.json_schema = text.str();
    }

    Result<std::unique_ptr<llm::EmbeddedLanguageModel>> model = llm::EmbeddedLanguageModel::open(model_options);
    if (!model.is_ok()) return failure(name, model.status());
    std::cerr << describe_kv_cache(model.value()->kv_cache()) << "\n";
    Result<llm::Generation> g = model.value()->complete(*prompt, gen, [](std::string_view piece) {
        std::cout << piece << std::flush;
        return true;
    });
    if (!g.is_ok()) {
        std::cout << std::flush;
        return failure(name, g.status());
    }
    std::cout << "\n" << std::flush;
    return kExitOk;
}

std::vector<Command> model_commands() {
    std::vector<Command> out;
    {
        Command c;
        c.name = "model info";
        c.summary = "Print a model file's architecture, shapes, weight types and tokenizer.";
        c.usage = "kasten model info FILE";
        c.details = "FILE is a GGUF model or a llama2.c checkpoint.";
        c.examples = "  kasten model info data/models/stories260K/stories260K-tok512.gguf\n";
        c.run = run_info;
        out.push_back(std::move(c));
    }
    {
        Command c;
        c.name = "model convert";
        c.summary = "Convert a llama2.c checkpoint to GGUF, or requantize a GGUF model.";
        c.usage =
            "kasten model convert --llama2c CKPT --tokenizer TOK --out OUT.gguf [--type T]\n"
            "       kasten model convert --gguf IN.gguf --out OUT.gguf --type T";
        c.details =
            "With --llama2c, writes the checkpoint and its tokenizer.bin as a GGUF llama model (default type f32,\n"
            "which keeps the weights bit for bit). With --gguf, rewrites the 2-D weight matrices in --type; norms and\n"
            "biases are kept, and a matrix whose width does not fill the type's blocks is stored as F16.\n"
            "Types: f32, f16, q8_0, q4_0, q4_k, q6_k.\n"
            "\n"
            "q8_0 and q4_0 are calibrated when kasten can run the model: it writes 4096 tokens of its own text (or\n"
            "reads --calibration-text) and, for small models, quantizes every matrix by GPTQ against the inputs of "
            "the\n"
            "already quantized layers, then stores the matrices whose error hurts the output most per byte one type\n"
            "up (q4_0: Q8_0, q8_0: F16) until the predicted KL divergence is at most 0.01 (q4_0) / 0.0003 (q8_0)\n"
            "nats per token; large models get llama.cpp-style importance-weighted scales. The blocks stay standard\n"
            "(llama.cpp reads them). --pure keeps every matrix in the chosen type (the classifier of q4_0 files\n"
            "stays Q8_0/Q6_K); --no-calibration rounds to nearest as llama.cpp does without an imatrix.";
        c.examples =
            "  kasten model convert --llama2c stories260K.bin --tokenizer tok512.bin --out stories260K.gguf\n"
            "  kasten model convert --gguf stories260K.gguf --out stories260K-q8_0.gguf --type q8_0\n"
            "  kasten model convert --gguf stories260K.gguf --out stories260K-q4_0.gguf --type q4_0 --pure\n";
        c.flags = {
            {"llama2c", "CKPT", "llama2.c checkpoint to convert"},
            {"tokenizer", "TOK", "llama2.c tokenizer.bin (with --llama2c)"},
            {"gguf", "IN", "GGUF model to requantize"},
            {"out", "FILE", "the GGUF file to write"},
            {"type", "T", "weight type: f32 | f16 | q8_0 | q4_0 | q4_k | q6_k (default f32 for --llama2c)"},
            {"calibration-text", "FILE", "calibrate q8_0/q4_0 on this UTF-8 text instead of the model's own (--gguf)"},
            {"no-calibration", "", "plain round-to-nearest q8_0/q4_0, no calibration (--gguf)"},
            {"pure", "", "no mixed precision: every matrix in --type (--gguf)"},
        };
        c.run = run_convert;
        out.push_back(std::move(c));
    }
    {
        Command c;
        c.name = "model generate";
        c.summary = "Generate text from a prompt (streamed to stdout).";
        c.usage = "kasten model generate --model FILE --prompt TEXT [options]";
        c.details =
            "Runs the embedded decoder on the raw prompt (no chat template; a BOS token is added when the model\n"
            "uses one) and prints the continuation as it is generated, then a newline. --temp 0 is greedy decoding.\n"
            "--ctx is the runtime context in tokens, whatever the file records. --json-schema constrains the output\n"
            "to JSON of the schema in FILE (when the constrained decoder is available).";
        c.examples =
            "  kasten model generate --model data/models/stories260K/stories260K-tok512.gguf "
            "--prompt \"Once upon a time\" --temp 0\n"
            "  kasten model generate --model model.gguf --prompt \"Hello\" --temp 0.7 --seed 42 --max-tokens 64\n";
        c.flags = {
            {"model", "FILE", "GGUF model (or llama2.c checkpoint with --tokenizer)"},
            {"tokenizer", "TOK", "llama2.c tokenizer.bin (llama2.c checkpoints only)"},
            {"prompt", "TEXT", "the text to continue"},
            {"temp", "T", "temperature (default 0.8; 0 = greedy)"},
            {"top-k", "K", "keep the K most likely tokens (default 40; 0 = off)"},
            {"top-p", "P", "nucleus sampling mass in (0, 1] (default 0.95)"},
            {"seed", "S", "sampling seed (default 0)"},
            {"max-tokens", "N", "tokens to generate at most (default 256)"},
            {"ctx", "N", "context size in tokens (default 2048)"},
            {"threads", "N", "decoder threads (default 2)"},
            {"json-schema", "FILE", "constrain the output to JSON valid against this JSON schema"},
        };
        for (FlagSpec& f : kv_cache_flags()) c.flags.push_back(std::move(f));
        c.run = run_generate;
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace

int run_model_command(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    if (args.empty()) {
        std::cerr << kOverview;
        return kExitUsage;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::cout << kOverview;
        return kExitOk;
    }
    const std::vector<Command> commands = model_commands();
    const Command* command = nullptr;
    for (const auto& c : commands) {
        if (c.name == "model " + args[0]) command = &c;
    }
    if (command == nullptr) {
        std::cerr << "kasten model: unknown subcommand '" << args[0] << "' (available: info, convert, generate)\n"
                  << "Run 'kasten model --help' for usage.\n";
        return kExitUsage;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    Result<ParsedArgs> parsed = ArgParser(command->flags).parse(rest);
    if (!parsed.is_ok()) return usage_error(command->name, parsed.status().message());
    if (parsed.value().help) {
        std::cout << command_help(*command);
        return kExitOk;
    }
    return command->run(parsed.value());
}

}  // namespace kasten::api
