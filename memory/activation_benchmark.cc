#include "memory/activation_benchmark.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "llm/embedded_language_model.h"
#include "llm/hashing_embedder.h"
#include "llm/random_model_writer.h"
#include "memory/memory_chat.h"
#include "memory/memory_manager.h"
#include "memory/token_counter.h"

namespace kasten::memory {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// A system prompt of about `target` tokens for `model` (the random model's vocabulary spells most text in bytes).
std::string system_prompt(const llm::EmbeddedLanguageModel& model, int target) {
    static const char* kSentences[] = {
        "You are a patient assistant for a small bakery; answer questions about orders, opening hours and recipes.",
        "Keep answers short, friendly and precise, and say so when you do not know something.",
        "Prices are in euros and include tax; deliveries leave at eight and at two on weekdays.",
        "Never promise a delivery time that the schedule above does not allow, and never invent an order number.",
    };
    std::string text;
    int tokens = 0;
    for (std::size_t i = 0; tokens < target; ++i) {
        std::string sentence = std::string(kSentences[i % 4]) + " ";
        tokens += static_cast<int>(model.tokenizer().encode(sentence, {.add_special = false}).size());
        text += sentence;
    }
    return text;
}

}  // namespace

std::string ActivationBenchmarkReport::to_text() const {
    std::string out = fmt::format("{:<14} {:>7} {:>7} {:>10} {:>10} {:>13} {:>11} {:>9} {:>7}\n", "cache", "prefix",
                                  "prompt", "segment", "store ms", "recompute ms", "loaded ms", "(load)", "ratio");
    for (const auto& r : rows) {
        out += fmt::format("{:<14} {:>7} {:>7} {:>9.1f}M {:>10.1f} {:>13.1f} {:>11.1f} {:>9.1f} {:>7.3f}\n", r.cache,
                           r.prefix_tokens, r.prompt_tokens, static_cast<double>(r.segment_bytes) / (1 << 20),
                           r.store_ms, r.recompute_median_ms, r.loaded_median_ms, r.load_median_ms, r.ratio);
        std::string rounds;
        for (std::size_t i = 0; i < r.loaded_ms.size(); ++i) {
            rounds += fmt::format(" {:.1f}/{:.1f}", r.recompute_ms[i], r.loaded_ms[i]);
        }
        out += "  rounds (recompute/loaded ms):" + rounds + "\n";
    }
    return out;
}

Result<ActivationBenchmarkReport> run_activation_benchmark(const ActivationBenchmarkOptions& options) {
    if (options.rounds < 1 || options.prefix_tokens < 64 || options.threads < 1) {
        return Status::invalid_argument("rounds >= 1, prefix_tokens >= 64 and threads >= 1 are required");
    }
    const auto started = Clock::now();
    auto say = [&](const std::string& line) {
        if (options.progress) options.progress(line);
    };
    std::error_code ec;
    std::filesystem::create_directories(options.work_dir, ec);
    const std::string model_path = (std::filesystem::path(options.work_dir) / "smollm2-135m-shape-q8_0.gguf").string();
    if (!std::filesystem::is_regular_file(model_path, ec)) {
        say("writing the random 135M-shaped model (Q8_0)");
        KASTEN_RETURN_IF_ERROR(
            llm::write_random_model(llm::RandomModelSpec::smollm2_135m_shape(llm::TensorType::kQ8_0), model_path));
    }
    MemoryOptions mo;
    mo.data_dir = (std::filesystem::path(options.work_dir) / "data").string();
    mo.embedder = std::make_shared<llm::HashingEmbedder>(64);
    mo.background_jobs = false;
    KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<MemoryManager> mm, MemoryManager::open(mo));
    AddMessagesRequest add;
    add.cube_id = "bench";
    add.session_id = "earlier";
    add.messages = {{"user", "The wedding cake order for Saturday is three tiers, lemon and raspberry.", std::nullopt}};
    KASTEN_RETURN_IF_ERROR(mm->add_messages(add).status());

    ActivationBenchmarkReport report;
    for (const std::string& policy : options.policies) {
        llm::EmbeddedModelOptions eo;
        eo.model_path = model_path;
        eo.n_ctx = options.prefix_tokens + 1024;
        eo.n_threads = options.threads;
        eo.kv_cache.policy = policy;
        KASTEN_ASSIGN_OR_RETURN(std::unique_ptr<llm::EmbeddedLanguageModel> opened,
                                llm::EmbeddedLanguageModel::open(eo));
        std::shared_ptr<llm::EmbeddedLanguageModel> model = std::move(opened);
        MemoryChatOptions co;
        co.context_budget = 256;
        co.counter =
            std::make_shared<TokenizerTokenCounter>(std::shared_ptr<const llm::Tokenizer>(model, &model->tokenizer()));
        co.store_answers = false;
        MemoryChat chat(*mm, co);
        // The pinned prefix also holds the template header and the memory preamble.
        const std::string system = system_prompt(*model, options.prefix_tokens - 60);
        ChatExchange ex{"bench", "bench-talk", {{"system", system}, {"user", "When does the Saturday cake leave?"}}};
        KASTEN_ASSIGN_OR_RETURN(PreparedChat prepared, chat.prepare(ex));

        ActivationBenchmarkRow row;
        row.cache = model->kv_cache().name();
        row.prefix_tokens = static_cast<int>(model->chat_prompt_prefix(prepared.messages, prepared.pinned_text).size());
        row.prompt_tokens = static_cast<int>(model->chat_prompt(prepared.messages).size());
        llm::GenerationOptions one;
        one.max_tokens = 1;
        one.temperature = 0;
        // Empties what the model's cache could reuse: a one-token prompt that no chat prompt starts with.
        auto forget = [&]() -> Status {
            return model->generate({model->tokenizer().bos() == 3 ? 4 : 3}, one).status();
        };
        KASTEN_RETURN_IF_ERROR(forget());
        auto t0 = Clock::now();
        if (chat.pin_prefix(ex, prepared, *model) != PinnedPrefixOutcome::kStored) {
            return Status::internal("the pinned prefix was not stored (policy " + policy + ")");
        }
        row.store_ms = ms_since(t0);
        KASTEN_ASSIGN_OR_RETURN(auto segments, mm->list_kv_segments("bench"));
        for (const auto& s : segments) {
            if (s.codec == row.cache) {
                KASTEN_ASSIGN_OR_RETURN(auto full, mm->get_kv_segment("bench", s.model_id, s.text_hash));
                row.segment_bytes = full.data.size();
            }
        }
        say(fmt::format("{}: pinned prefix {} tokens of a {}-token prompt, segment {:.1f} MiB, stored in {:.0f} ms",
                        row.cache, row.prefix_tokens, row.prompt_tokens,
                        static_cast<double>(row.segment_bytes) / (1 << 20), row.store_ms));
        std::string recomputed_text, loaded_text;
        for (int round = 0; round < options.rounds; ++round) {
            for (int side = 0; side < 2; ++side) {
                const bool loaded = (side == 0) == (round % 2 == 0);
                KASTEN_RETURN_IF_ERROR(forget());
                t0 = Clock::now();
                if (loaded) {
                    if (chat.pin_prefix(ex, prepared, *model) != PinnedPrefixOutcome::kLoaded) {
                        return Status::internal("the stored prefix was not loaded (policy " + policy + ")");
                    }
                    row.load_ms.push_back(ms_since(t0));
                }
                KASTEN_ASSIGN_OR_RETURN(llm::Generation g, model->chat(prepared.messages, one));
                const double ms = ms_since(t0);
                if (g.cached_prompt_tokens != (loaded ? row.prefix_tokens : 0)) {
                    return Status::internal(fmt::format("{} cached prompt tokens, expected {}", g.cached_prompt_tokens,
                                                        loaded ? row.prefix_tokens : 0));
                }
                (loaded ? row.loaded_ms : row.recompute_ms).push_back(ms);
                (loaded ? loaded_text : recomputed_text) = g.text;
            }
            say(fmt::format("{} round {}: recompute {:.1f} ms, loaded {:.1f} ms", row.cache, round + 1,
                            row.recompute_ms.back(), row.loaded_ms.back()));
        }
        if (loaded_text != recomputed_text && (policy == "full" || policy == "f16")) {
            return Status::internal("the first token differs between the loaded and the recomputed prefix");
        }
        row.recompute_median_ms = median(row.recompute_ms);
        row.loaded_median_ms = median(row.loaded_ms);
        row.load_median_ms = median(row.load_ms);
        row.ratio = row.recompute_median_ms > 0 ? row.loaded_median_ms / row.recompute_median_ms : 0;
        report.rows.push_back(std::move(row));
    }
    report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return report;
}

}  // namespace kasten::memory
