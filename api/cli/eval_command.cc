#include "api/cli/eval_command.h"

#include "api/cli/eval_cv_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/cli/arg_parser.h"
#include "api/cli/command.h"
#include "api/cli/note_pipeline.h"
#include "api/cli/runtime.h"
#include "api/cli/split_list.h"
#include "eval/convomem_report.h"
#include "eval/convomem_runner.h"
#include "eval/kasten_retriever_spec.h"
#include "eval/locomo_report.h"
#include "eval/locomo_runner.h"
#include "eval/longmemeval_qa_stage.h"
#include "eval/longmemeval_report.h"
#include "eval/longmemeval_runner.h"
#include "eval/qa_cache.h"
#include "eval/qa_model.h"
#include "llm/openai_client.h"
#include "llm/tokenizer_factory.h"
#include "memory/token_counter.h"

namespace kasten::api {
namespace {

constexpr const char* kEvalUsage = R"(usage: kasten eval BENCHMARK [options]

Runs a benchmark's official evaluation protocol against kasten. Benchmarks:
  longmemeval   LongMemEval retrieval and QA (kasten eval longmemeval --help)
  locomo        LoCoMo evidence retrieval and QA (kasten eval locomo --help)
  convomem      ConvoMem evidence retrieval, full context vs retrieval, QA (kasten eval convomem --help)
  cv            k-fold cross-validation of a choice among runs of one benchmark (kasten eval cv --help)
)";

// The QA options every benchmark shares (appended to each benchmark's help).
constexpr const char* kQaUsage = R"(
QA (optional; needs an OpenAI-compatible server, e.g. api.openai.com, llama.cpp server, vLLM, kasten serve):
  --reader URL|none     base URL of the reader's API (".../v1"; a URL without a path gets /v1); default none:
                        retrieval only
  --reader-model M      model name sent to the reader (required with --reader)
  --judge URL|none      base URL of the judge's API; default none (no accuracy, hypotheses only)
  --judge-model M       model name sent to the judge (required with --judge)
  --api-key-env NAME    environment variable holding the reader's API key (default OPENAI_API_KEY; unset or empty:
                        no Authorization header, as local servers need)
  --judge-api-key-env NAME  the judge's key variable (default: the reader's)
  --reader-retriever R  whose ranking feeds the reader (default: the last --retriever)
  --reader-top-k K      items given to the reader (benchmark default below)
  --qa-cache FILE       generation cache (default DIR/qa_cache.jsonl); a rerun with the same models and prompts
                        makes no model call
  --timeout S           per-request timeout in seconds (default 300); --retries N retries on 429/5xx/network
                        errors with exponential backoff (default 4)
)";

constexpr const char* kLongMemEvalUsage = R"(usage: kasten eval longmemeval --data FILE --out DIR [options]

Official LongMemEval retrieval evaluation (xiaowu0162/LongMemEval, src/retrieval). The data file (longmemeval_s,
_m or _oracle; a JSON array) is streamed one question at a time. For each question the official corpus is built
(user turns only; session or turn documents; the noans rewrite), every retriever ranks it, and the rankings are
scored with the official recall_any@k, recall_all@k and ndcg_any@k (k = 1, 3, 5, 10, 30, 50). Kasten retrievers
ingest the question's haystack into a fresh in-memory cube (sessions in date order, with their dates) through
MemoryManager. Two averages are reported, each labelled: strict (skips abstention questions and questions without
user-side evidence) and no_abs (skips abstention questions only), overall and per question type. The bm25
baseline always runs beside the others.

With --reader, each question is also answered (QA mode): the top --reader-top-k items (default 10) of the reader's
retriever, mapped back to the haystack (sessions, or rounds in a turn run), sorted by date and given as JSON with
their dates in the Chain-of-Note reader prompt (greedy, at most 800 tokens); the hypotheses go to
DIR/hypotheses.jsonl in the official format ({"question_id", "hypothesis"}). With --judge, each hypothesis is judged
with the official per-type prompt (temperature 0, max_tokens 10; correct iff 'yes' in the reply) and the report adds
accuracy per type, task-averaged, overall and abstention. Reader and judge replies are cached on disk.

Writes DIR/per_question.jsonl, DIR/metrics.json, DIR/report.md and DIR/recall.svg; prints a summary.

options:
  --data FILE           the official JSON file (required)
  --out DIR             output directory, created when missing (required)
  --granularity G       session | turn (default session); turn runs are also scored at session level
  --retriever LIST      comma-separated: bm25, lexical, vector, hybrid, lexical+notes, vector+notes, hybrid+notes
                        (default bm25,hybrid); "+notes": the haystack's notes are built (--notes) and used as
                        extra search keys
  --notes MODE          how notes are built for "+notes" retrievers: heuristic (the default and, for now, the only
                        mode in evaluations)
  --limit N             evaluate the first N selected questions only
  --types LIST          comma-separated question types, full or short: ssu, ssa, ssp, ms, ku, tr
  --threads N           questions evaluated in parallel (default: the number of cores)
  --context-budget N    also build each question's packed context (docs/context.md) at N tokens with every strategy
                        (auto, turn, session, note) and the top-5-sessions baseline, and score which evidence
                        sessions and turns each holds: DIR/context.md, a "contexts" entry per question
  --context-vocab GGUF  count those tokens with this GGUF file's tokenizer (e.g. a model or vocabulary file);
                        default: the estimate of docs/context.md
  --tune SPEC           search settings changed from the defaults for this run, name=value[,name=value...]:
                        note_key_weight, temporal_weight, lexical_weight, vector_weight, fusion (minmax|rrf),
                        rrf_k, link_decay, turn_context_weight, session_context_weight, turn_rollup_weight,
                        subquery_weight, second_hop_weight, event_anchor_weight, bm25_k1, bm25_b (b <= 1);
                        recorded in metrics.json ("tuning"). Compare runs with kasten eval cv
  --quiet               no progress bar
  --embedder KIND       auto | glove | use | glove+use | hashing (global option; default from the configuration)

examples:
  kasten eval longmemeval --data longmemeval_s.json --out runs/lme-ctx --retriever bm25,hybrid,hybrid+notes \
      --context-budget 4096
  kasten eval longmemeval --data longmemeval_s.json --out runs/lme-s --retriever bm25,hybrid
  kasten eval longmemeval --data longmemeval_s.json --out runs/lme-qa --reader https://api.openai.com/v1 \
      --reader-model gpt-4o-2024-08-06 --judge https://api.openai.com/v1 --judge-model gpt-4o-2024-08-06
)";

constexpr const char* kLocomoUsage = R"(usage: kasten eval locomo --data FILE --out DIR [options]

LoCoMo evaluation (snap-research/locomo, task_eval/evaluation.py). Each sample (conversation) is ingested into a
fresh in-memory cube session by session, every message with its session's date_time ("1:56 pm on 8 May, 2023",
parsed) and its dia_id ("D<session>:<turn>") kept in a map. Every question is ranked by every retriever over the
dialogues and over the sessions and scored with the official evidence recall (share of the evidence dia_ids in the
top k; session level: of their sessions) at k = 1, 3, 5, 10, 25, 50 (dialogues) and 1, 2, 3, 5, 10 (sessions), overall,
for categories 1-4 and per category under the real meanings of the official ids: 1 multi-hop, 2 temporal,
3 open-domain, 4 single-hop, 5 adversarial (Mem0-lineage tables label ids 1/3/4 differently).

With --reader, every question is answered with the official prompts (evaluate_gpts.py, batch size 1: category 2 gets
the DATE hint, category 5 the (a)/(b) choice; temperature 0, 32 tokens) over the top --reader-top-k dialogues
(default 5) of the reader's retriever and/or the full conversation (--reader-context), and scored with the official
F1 (normalised, Porter-stemmed token F1; cat 1 comma-split best match; cat 3 gold cut at ';'; cat 5 = abstention).
With --judge, categories 1-4 are also judged with Mem0's J prompt.

Writes DIR/per_question.jsonl, DIR/metrics.json, DIR/report.md and DIR/recall.svg; prints a summary.

options:
  --data FILE           the official JSON (locomo10.json or a subset) (required)
  --out DIR             output directory, created when missing (required)
  --retriever LIST      comma-separated: bm25, lexical, vector, hybrid, lexical+notes, vector+notes, hybrid+notes
                        (default bm25,hybrid; bm25 always runs); "+notes": the conversation's notes are built
                        (--notes) and used as extra search keys
  --notes MODE          how notes are built for "+notes" retrievers: heuristic (the default and, for now, the only
                        mode in evaluations)
  --categories LIST     official category ids to keep, e.g. 1,2,3,4
  --limit N             evaluate the first N selected questions only
  --reader-context LIST retrieval and/or full (default retrieval)
  --context-budget N    also build each question's packed context (docs/context.md) at N tokens with every strategy
                        (needs a kasten retriever; asked at the last session's time) and score the evidence dialogues
                        and their sessions it holds: DIR/context.md, a "contexts" entry per question
  --context-vocab GGUF  count those tokens with this GGUF file's tokenizer (default: the estimate)
  --threads N           parallel workers (default: the number of cores)
  --tune SPEC           search settings changed from the defaults for this run, name=value[,name=value...]:
                        note_key_weight, temporal_weight, lexical_weight, vector_weight, fusion (minmax|rrf),
                        rrf_k, link_decay, turn_context_weight, session_context_weight, turn_rollup_weight,
                        subquery_weight, second_hop_weight, event_anchor_weight, bm25_k1, bm25_b (b <= 1);
                        recorded in metrics.json ("tuning"). Compare runs with kasten eval cv
  --quiet               no progress bar
  --embedder KIND       auto | glove | use | glove+use | hashing (global option)

example:
  kasten eval locomo --data locomo10.json --out runs/locomo --retriever bm25,hybrid
)";

constexpr const char* kConvoMemUsage = R"(usage: kasten eval convomem --data FILE|DIR --out DIR [options]

ConvoMem evaluation (SalesforceAIResearch/ConvoMem). Reads test cases ({"evidenceItems", "conversations",
"contextSize"}) and evidence files ({"evidence_items": [...]}, each item with its own conversations), from one file or
every *.json under a directory. Each test case's conversations are ingested into a fresh in-memory cube (ConvoMem has
no dates: conversation i is dated 2024-01-01 + i days); evidence messages are located by their text. Every question is
ranked by every retriever over the messages and the conversations and scored by evidence recall at k = 1, 3, 5, 10,
20, 50 (messages) and 1, 2, 3, 5, 10 (conversations), overall, per category and per context size. The report sets the
full-context path (the whole context in the answer prompt, ConvoMem's long_context) beside the retrieval path (the top
--reader-top-k messages, default 10): prompt size and evidence held.

With --reader, both paths (--reader-context, default full,retrieval) are answered with ConvoMem's answer prompt; with
--judge, judged with the official per-category prompts (RIGHT/WRONG), reported by category and context size.

Writes DIR/per_question.jsonl, DIR/metrics.json, DIR/report.md and DIR/recall.svg; prints a summary.

options:
  --data FILE|DIR       a ConvoMem JSON file or a directory of them (required)
  --out DIR             output directory, created when missing (required)
  --retriever LIST      comma-separated: bm25, lexical, vector, hybrid, lexical+notes, vector+notes, hybrid+notes
                        (default bm25,hybrid; bm25 always runs); "+notes": the conversation's notes are built
                        (--notes) and used as extra search keys
  --notes MODE          how notes are built for "+notes" retrievers: heuristic (the default and, for now, the only
                        mode in evaluations)
  --limit N             evaluate the first N items only
  --reader-context LIST full and/or retrieval (default full,retrieval)
  --threads N           parallel workers (default: the number of cores)
  --tune SPEC           search settings changed from the defaults for this run, name=value[,name=value...]:
                        note_key_weight, temporal_weight, lexical_weight, vector_weight, fusion (minmax|rrf),
                        rrf_k, link_decay, turn_context_weight, session_context_weight, turn_rollup_weight,
                        subquery_weight, second_hop_weight, event_anchor_weight, bm25_k1, bm25_b (b <= 1);
                        recorded in metrics.json ("tuning"). Compare runs with kasten eval cv
  --quiet               no progress bar
  --embedder KIND       auto | glove | use | glove+use | hashing (global option)

example:
  kasten eval convomem --data ConvoMem/test_cases/locomo --out runs/convomem
)";

std::string quote_arg(const std::string& a) {
    if (!a.empty() && a.find_first_of(" \t\n'\"\\$`") == std::string::npos) return a;
    std::string q = "'";
    for (char c : a) {
        if (c == '\'')
            q += "'\\''";
        else
            q.push_back(c);
    }
    return q + "'";
}

constexpr const char* kRetrieverNames = "bm25, lexical, vector, hybrid, lexical+notes, vector+notes, hybrid+notes";

// The note building for "+notes" retrievers: --notes (only "heuristic" for now; default heuristic). Empty when no
// "+notes" retriever is requested. kInvalidArgument (a usage error) for any other mode, or --notes without a "+notes"
// retriever.
Result<eval::NoteBuilding> eval_note_building(const ParsedArgs& args, const std::vector<std::string>& retrievers) {
    bool wanted = false;
    for (const auto& r : retrievers) {
        eval::KastenRetrieverSpec spec;
        wanted = wanted || (eval::parse_kasten_retriever_spec(r, &spec) && spec.notes);
    }
    const std::string mode = args.get("notes").value_or("heuristic");
    if (mode != "heuristic") {
        return Status::invalid_argument("--notes " + mode +
                                        ": evaluations build notes with the heuristic builder only (--notes "
                                        "heuristic, the default); llm note building is for `kasten serve --model`");
    }
    if (!wanted) {
        if (args.has("notes")) {
            return Status::invalid_argument(
                "--notes goes with a +notes retriever (e.g. --retriever bm25,hybrid,hybrid+notes)");
        }
        return eval::NoteBuilding{};
    }
    KASTEN_ASSIGN_OR_RETURN(NotePipeline pipeline, make_note_pipeline(mode, nullptr));
    return eval::NoteBuilding{pipeline.builder, pipeline.decider};
}

// Like usage_error(), pointing at this subcommand's own --help.
int eval_usage_error(const std::string& benchmark, const std::string& message) {
    std::cerr << "kasten eval " << benchmark << ": " << message << "\nRun 'kasten eval " << benchmark
              << " --help' for usage.\n";
    return kExitUsage;
}

std::vector<FlagSpec> qa_flags() {
    return {{"reader", "URL", "reader API base URL, or none"},
            {"reader-model", "M", "reader model name"},
            {"judge", "URL", "judge API base URL, or none"},
            {"judge-model", "M", "judge model name"},
            {"api-key-env", "NAME", "API key variable (default OPENAI_API_KEY)"},
            {"judge-api-key-env", "NAME", "the judge's API key variable"},
            {"reader-retriever", "R", "whose ranking feeds the reader"},
            {"reader-top-k", "K", "items given to the reader"},
            {"qa-cache", "FILE", "generation cache (default DIR/qa_cache.jsonl)"},
            {"timeout", "S", "request timeout in seconds (default 300)"},
            {"retries", "N", "retries on 429/5xx/network errors (default 4)"}};
}

// The reader and judge of a run, built from the QA flags.
struct QaSetup {
    std::shared_ptr<eval::QaCache> cache;
    std::shared_ptr<eval::QaModel> reader;
    std::shared_ptr<eval::QaModel> judge;
    std::optional<std::string> reader_retriever;
    std::optional<int> top_k;
};

bool given(const std::optional<std::string>& v) {
    return v && !v->empty() && *v != "none";
}

// kInvalidArgument for inconsistent flags (usage errors); client creation errors otherwise.
Result<QaSetup> make_qa(const ParsedArgs& args, const std::string& out_dir) {
    QaSetup qa;
    const auto reader_url = args.get("reader");
    const auto judge_url = args.get("judge");
    if (!given(reader_url)) {
        if (given(judge_url)) return Status::invalid_argument("--judge needs --reader (the judge grades its answers)");
        for (const char* f : {"reader-model", "judge-model", "reader-retriever", "reader-top-k", "reader-context"}) {
            if (args.has(f)) return Status::invalid_argument(std::string("--") + f + " needs --reader");
        }
        return qa;
    }
    int timeout_s = 300, retries = 4;
    if (auto t = args.get("timeout")) {
        KASTEN_ASSIGN_OR_RETURN(timeout_s, parse_int_flag("timeout", *t, 1, 86400));
    }
    if (auto r = args.get("retries")) {
        KASTEN_ASSIGN_OR_RETURN(retries, parse_int_flag("retries", *r, 0, 20));
    }
    const std::string key_env = args.get("api-key-env").value_or("OPENAI_API_KEY");
    auto client = [&](const std::string& url, const std::optional<std::string>& model, const std::string& env,
                      const char* flag) -> Result<std::shared_ptr<eval::QaModel>> {
        if (!model || model->empty()) return Status::invalid_argument(std::string("--") + flag + " is required");
        llm::OpenAiClientOptions o;
        o.base_url = url;
        o.model = *model;
        o.api_key_env = env;
        o.request_timeout_ms = timeout_s * 1000;
        o.max_retries = retries;
        KASTEN_ASSIGN_OR_RETURN(auto c, llm::OpenAiClient::create(std::move(o)));
        return std::make_shared<eval::QaModel>(std::shared_ptr<llm::LanguageModel>(std::move(c)), qa.cache);
    };
    const std::string cache_path =
        args.get("qa-cache").value_or((std::filesystem::path(out_dir) / "qa_cache.jsonl").string());
    KASTEN_ASSIGN_OR_RETURN(auto cache, eval::QaCache::open(cache_path));
    qa.cache = std::move(cache);
    KASTEN_ASSIGN_OR_RETURN(qa.reader, client(*reader_url, args.get("reader-model"), key_env, "reader-model"));
    if (given(judge_url)) {
        KASTEN_ASSIGN_OR_RETURN(qa.judge, client(*judge_url, args.get("judge-model"),
                                                 args.get("judge-api-key-env").value_or(key_env), "judge-model"));
    } else if (args.has("judge-model")) {
        return Status::invalid_argument("--judge-model needs --judge");
    }
    if (auto r = args.get("reader-retriever")) qa.reader_retriever = *r;
    if (auto k = args.get("reader-top-k")) {
        KASTEN_ASSIGN_OR_RETURN(int v, parse_int_flag("reader-top-k", *k, 1, 100000));
        qa.top_k = v;
    }
    return qa;
}

eval::QaRunInfo qa_info(const QaSetup& qa, const std::string& retriever, int top_k) {
    eval::QaRunInfo info;
    info.reader = qa.reader->id();
    info.judge = qa.judge ? qa.judge->id() : "";
    info.retriever = retriever;
    info.top_k = top_k;
    info.cache_path = qa.cache ? qa.cache->path() : "";
    info.reader_calls = qa.reader->model_calls();
    info.reader_cache_hits = qa.reader->cache_hits();
    if (qa.judge) {
        info.judge_calls = qa.judge->model_calls();
        info.judge_cache_hits = qa.judge->cache_hits();
    }
    return info;
}

// --retriever for locomo and convomem: the list with bm25 first (added when missing).
Result<std::vector<std::string>> retriever_list(const ParsedArgs& args, const std::string& benchmark) {
    std::vector<std::string> out = {"bm25", "hybrid"};
    if (auto r = args.get("retriever")) {
        out = split_list(*r);
        if (out.empty()) return Status::invalid_argument("--retriever needs at least one retriever");
        for (const auto& x : out) {
            if (!eval::is_longmemeval_retriever(x)) {
                return Status::invalid_argument("unknown retriever '" + x + "' (available: " + kRetrieverNames + ")");
            }
        }
        if (std::find(out.begin(), out.end(), "bm25") == out.end()) {
            out.insert(out.begin(), "bm25");
            std::cerr << "kasten eval " << benchmark << ": the bm25 baseline runs beside " << *r << "\n";
        }
    }
    return out;
}

int default_threads() {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::vector<FlagSpec> longmemeval_flags() {
    return {{"data", "FILE", "the official JSON file (required)"},
            {"out", "DIR", "output directory (required)"},
            {"granularity", "G", "session | turn (default session)"},
            {"retriever", "LIST", "bm25, lexical, vector, hybrid, and each kasten one +notes (default bm25,hybrid)"},
            {"notes", "MODE", "heuristic: how notes are built for +notes retrievers"},
            {"limit", "N", "evaluate the first N selected questions only"},
            {"types", "LIST", "question types: ssu, ssa, ssp, ms, ku, tr (or full names)"},
            {"threads", "N", "questions in parallel (default: number of cores)"},
            {"context-budget", "N", "also pack each question's context at N tokens and score its evidence"},
            {"context-vocab", "GGUF", "count context tokens with this GGUF file's tokenizer (default: estimate)"},
            {"tune", "SPEC", "search settings changed from the defaults: name=value,... (see kasten eval cv)"},
            {"quiet", "", "no progress bar"}};
}

std::vector<FlagSpec> with_qa(std::vector<FlagSpec> flags) {
    for (auto& f : qa_flags()) flags.push_back(std::move(f));
    return flags;
}

int run_longmemeval(int argc, char** argv, const std::string& command_line) {
    const std::string name = "eval longmemeval";
    std::vector<std::string> raw(argv + 2, argv + argc);
    auto parsed = ArgParser(with_qa(longmemeval_flags())).parse(raw);
    if (!parsed) return eval_usage_error("longmemeval", parsed.status().message());
    const ParsedArgs& args = *parsed;
    if (args.help) {
        std::cout << kLongMemEvalUsage << kQaUsage;
        return kExitOk;
    }
    if (!args.positionals.empty())
        return eval_usage_error("longmemeval", "unexpected argument '" + args.positionals[0] + "'");
    auto data = args.get("data");
    auto out = args.get("out");
    if (!data || data->empty()) return eval_usage_error("longmemeval", "--data FILE is required");
    if (!out || out->empty()) return eval_usage_error("longmemeval", "--out DIR is required");

    eval::LongMemEvalOptions options;
    options.data_path = *data;
    if (auto g = args.get("granularity")) {
        if (!eval::parse_corpus_granularity(*g, &options.granularity)) {
            return eval_usage_error("longmemeval", "--granularity must be session or turn, not '" + *g + "'");
        }
    }
    if (auto r = args.get("retriever")) {
        options.retrievers = split_list(*r);
        if (options.retrievers.empty())
            return eval_usage_error("longmemeval", "--retriever needs at least one retriever");
        for (const auto& x : options.retrievers) {
            if (!eval::is_longmemeval_retriever(x)) {
                return eval_usage_error("longmemeval",
                                        "unknown retriever '" + x + "' (available: " + kRetrieverNames + ")");
            }
        }
        if (std::find(options.retrievers.begin(), options.retrievers.end(), "bm25") == options.retrievers.end()) {
            options.retrievers.insert(options.retrievers.begin(), "bm25");
            std::cerr << "kasten eval longmemeval: the bm25 baseline runs beside " << *r << "\n";
        }
    }
    auto notes = eval_note_building(args, options.retrievers);
    if (!notes) return eval_usage_error("longmemeval", notes.status().message());
    options.notes = *notes;
    if (auto spec = args.get("tune")) {
        auto tuning = eval::SearchTuning::parse(*spec);
        if (!tuning) return eval_usage_error("longmemeval", tuning.status().message());
        options.tuning = *tuning;
    }
    if (options.notes.builder) {
        std::cerr << "kasten eval longmemeval: notes built by " << options.notes.builder->id() << " (links "
                  << options.notes.decider->id() << ")\n";
    }
    if (auto l = args.get("limit")) {
        auto v = parse_int_flag("limit", *l, 1, 1000000000);
        if (!v) return eval_usage_error("longmemeval", v.status().message());
        options.limit = *v;
    }
    if (auto t = args.get("types")) {
        for (const auto& x : split_list(*t)) {
            auto type = eval::canonical_question_type(x);
            if (!type) {
                return eval_usage_error("longmemeval",
                                        "unknown question type '" + x + "' (ssu, ssa, ssp, ms, ku, tr or full names)");
            }
            options.types.push_back(*type);
        }
    }
    options.threads = default_threads();
    if (auto t = args.get("threads")) {
        auto v = parse_int_flag("threads", *t, 1, 256);
        if (!v) return eval_usage_error("longmemeval", v.status().message());
        options.threads = *v;
    }
    options.progress = !args.has("quiet");
    if (auto b = args.get("context-budget")) {
        auto v = parse_int_flag("context-budget", *b, 1, 1 << 20);
        if (!v) return eval_usage_error("longmemeval", v.status().message());
        options.context.budget = *v;
        if (auto vocab = args.get("context-vocab")) {
            auto tokenizer = llm::load_gguf_tokenizer(*vocab);
            if (!tokenizer) return failure(name, tokenizer.status());
            options.context.counter = std::make_shared<memory::TokenizerTokenCounter>(
                std::shared_ptr<const llm::Tokenizer>(std::move(tokenizer).value()));
        }
    } else if (args.has("context-vocab")) {
        return eval_usage_error("longmemeval", "--context-vocab goes with --context-budget");
    }

    auto config = load_cli_config(args, {}, false);
    if (!config) return failure(name, config.status());
    bool kasten_retriever = false;
    for (const auto& r : options.retrievers) kasten_retriever = kasten_retriever || r != "bm25";
    if (kasten_retriever) {
        auto embedder = create_configured_embedder(*config);
        if (!embedder) return failure(name, embedder.status());
        options.embedder = *embedder;
        std::cerr << "kasten eval longmemeval: embedder " << options.embedder->id() << "\n";
    }

    auto qa = make_qa(args, *out);
    if (!qa) {
        if (qa.status().code() == StatusCode::kInvalidArgument)
            return eval_usage_error("longmemeval", qa.status().message());
        return failure(name, qa.status());
    }
    std::string reader_retriever = options.retrievers.back();
    const int reader_top_k = qa->top_k.value_or(10);
    if (qa->reader) {
        if (qa->reader_retriever) reader_retriever = *qa->reader_retriever;
        if (std::find(options.retrievers.begin(), options.retrievers.end(), reader_retriever) ==
            options.retrievers.end()) {
            return eval_usage_error("longmemeval",
                                    "--reader-retriever '" + reader_retriever + "' is not among the retrievers");
        }
        eval::LongMemEvalQaOptions qo;
        qo.reader = qa->reader;
        qo.judge = qa->judge;
        qo.retriever = reader_retriever;
        qo.top_k = reader_top_k;
        options.hook = eval::make_longmemeval_qa_hook(std::move(qo), options.granularity);
        std::cerr << "kasten eval longmemeval: reader " << qa->reader->id() << " on the top " << reader_top_k << " of "
                  << reader_retriever << (qa->judge ? ", judge " + qa->judge->id() : std::string()) << "\n";
    }

    auto run = eval::run_longmemeval(options);
    if (!run) return failure(name, run.status());
    if (qa->reader) run->qa = qa_info(*qa, reader_retriever, reader_top_k);
    eval::LongMemEvalReport report(*run, command_line);
    Status st = report.write(*out);
    if (!st.is_ok()) return failure(name, st);

    const char* primary = options.granularity == eval::CorpusGranularity::kTurn ? "turn" : "session";
    std::cout << fmt::format("LongMemEval {} run: {} questions in {:.1f} s\n", primary, run->questions.size(),
                             run->wall_seconds);
    std::vector<std::string> levels = {primary};
    if (options.granularity == eval::CorpusGranularity::kTurn) levels.push_back("session");
    for (const auto& level : levels) {
        for (const char* avg : {"strict", "no_abs"}) {
            for (const auto& [retriever, per_level] : report.averages()) {
                auto it = per_level.find(level);
                if (it == per_level.end()) continue;
                const auto& a = std::string(avg) == "strict" ? it->second.strict : it->second.no_abs;
                auto m = [&](const char* k) {
                    auto v = a.mean.find(k);
                    return v == a.mean.end() ? 0.0 : v->second;
                };
                std::cout << fmt::format(
                    "  {:<8} {:<7} {:<6} n={:<4} recall_all@5 {:.3f}  ndcg_any@5 {:.3f}  recall_all@10 {:.3f}  "
                    "ndcg_any@10 {:.3f}\n",
                    level, retriever, avg, a.n, m("recall_all@5"), m("ndcg_any@5"), m("recall_all@10"),
                    m("ndcg_any@10"));
            }
        }
    }
    if (run->qa) {
        std::cout << fmt::format("  QA: reader {} ({} calls, {} cached)", run->qa->reader, run->qa->reader_calls,
                                 run->qa->reader_cache_hits);
        if (qa->judge) {
            const auto acc = report.qa_accuracy();
            std::cout << fmt::format(
                "; judge {} ({} calls, {} cached): overall {:.4f} (n={}), task-averaged {:.4f}, "
                "abstention {:.4f} (n={})",
                run->qa->judge, run->qa->judge_calls, run->qa->judge_cache_hits, acc.overall.accuracy(), acc.overall.n,
                acc.task_averaged, acc.abstention.accuracy(), acc.abstention.n);
        }
        std::cout << "\n";
    }
    if (options.context.budget > 0) {
        std::vector<std::vector<eval::ContextCoverage>> per_question;
        for (const auto& q : run->questions) per_question.push_back(q.contexts);
        const std::string counter_name = options.context.counter ? options.context.counter->name() : "estimate";
        const std::string md = eval::context_coverage_markdown(per_question, options.context.budget, counter_name);
        std::ofstream f(std::filesystem::path(*out) / "context.md");
        f << md;
        if (!f) return failure(name, Status::io_error("cannot write " + *out + "/context.md"));
        std::cout << md;
    }
    std::cout << "outputs: " << *out << "/{per_question.jsonl, metrics.json, report.md, recall.svg"
              << (run->qa ? ", hypotheses.jsonl" : "") << (options.context.budget > 0 ? ", context.md" : "") << "}\n";
    return kExitOk;
}

std::vector<FlagSpec> conversation_flags(bool locomo) {
    std::vector<FlagSpec> f = {
        {"data", locomo ? "FILE" : "PATH", "the data (required)"},
        {"out", "DIR", "output directory (required)"},
        {"retriever", "LIST", "bm25, lexical, vector, hybrid, and each kasten one +notes (default bm25,hybrid)"},
        {"notes", "MODE", "heuristic: how notes are built for +notes retrievers"},
        {"limit", "N", "evaluate the first N questions only"},
        {"reader-context", "LIST", "retrieval and/or full"},
        {"threads", "N", "parallel workers (default: number of cores)"},
        {"tune", "SPEC", "search settings changed from the defaults: name=value,... (see kasten eval cv)"},
        {"quiet", "", "no progress bar"}};
    if (locomo) {
        f.push_back({"categories", "LIST", "official category ids to keep"});
        f.push_back({"context-budget", "N", "also pack each question's context at N tokens and score its evidence"});
        f.push_back({"context-vocab", "GGUF", "count context tokens with this GGUF file's tokenizer"});
    }
    return with_qa(std::move(f));
}

// Shared front half of locomo and convomem: parsed arguments, embedder, QA. Returns an exit code on failure.
struct ConversationArgs {
    ParsedArgs args;
    std::string data;
    std::string out;
    std::vector<std::string> retrievers;
    std::int64_t limit = 0;
    int threads = 1;
    std::shared_ptr<const llm::Embedder> embedder;
    eval::NoteBuilding notes;  // set when a "+notes" retriever is requested
    eval::SearchTuning tuning;
    QaSetup qa;
    std::vector<std::string> reader_contexts;
};

std::optional<int> parse_conversation_args(int argc, char** argv, const std::string& benchmark, const char* usage,
                                           std::vector<std::string> default_contexts, ConversationArgs* out) {
    const std::string name = "eval " + benchmark;
    std::vector<std::string> raw(argv + 2, argv + argc);
    auto parsed = ArgParser(conversation_flags(benchmark == "locomo")).parse(raw);
    if (!parsed) return eval_usage_error(benchmark, parsed.status().message());
    out->args = *parsed;
    const ParsedArgs& args = out->args;
    if (args.help) {
        std::cout << usage << kQaUsage;
        return kExitOk;
    }
    if (!args.positionals.empty())
        return eval_usage_error(benchmark, "unexpected argument '" + args.positionals[0] + "'");
    auto data = args.get("data");
    auto dir = args.get("out");
    if (!data || data->empty()) return eval_usage_error(benchmark, "--data is required");
    if (!dir || dir->empty()) return eval_usage_error(benchmark, "--out DIR is required");
    out->data = *data;
    out->out = *dir;
    auto retrievers = retriever_list(args, benchmark);
    if (!retrievers) return eval_usage_error(benchmark, retrievers.status().message());
    out->retrievers = *retrievers;
    auto notes = eval_note_building(args, out->retrievers);
    if (!notes) return eval_usage_error(benchmark, notes.status().message());
    out->notes = *notes;
    if (auto spec = args.get("tune")) {
        auto tuning = eval::SearchTuning::parse(*spec);
        if (!tuning) return eval_usage_error(benchmark, tuning.status().message());
        out->tuning = *tuning;
    }
    if (out->notes.builder) {
        std::cerr << "kasten eval " << benchmark << ": notes built by " << out->notes.builder->id() << " (links "
                  << out->notes.decider->id() << ")\n";
    }
    if (auto l = args.get("limit")) {
        auto v = parse_int_flag("limit", *l, 1, 1000000000);
        if (!v) return eval_usage_error(benchmark, v.status().message());
        out->limit = *v;
    }
    out->threads = default_threads();
    if (auto t = args.get("threads")) {
        auto v = parse_int_flag("threads", *t, 1, 256);
        if (!v) return eval_usage_error(benchmark, v.status().message());
        out->threads = *v;
    }
    out->reader_contexts = std::move(default_contexts);
    if (auto c = args.get("reader-context")) {
        out->reader_contexts = split_list(*c);
        if (out->reader_contexts.empty())
            return eval_usage_error(benchmark, "--reader-context needs retrieval and/or full");
        for (const auto& x : out->reader_contexts) {
            if (x != "retrieval" && x != "full") {
                return eval_usage_error(benchmark, "unknown reader context '" + x + "' (retrieval, full)");
            }
        }
    }
    auto qa = make_qa(args, out->out);
    if (!qa) {
        if (qa.status().code() == StatusCode::kInvalidArgument)
            return eval_usage_error(benchmark, qa.status().message());
        return failure(name, qa.status());
    }
    out->qa = *qa;
    if (out->qa.reader_retriever &&
        std::find(out->retrievers.begin(), out->retrievers.end(), *out->qa.reader_retriever) == out->retrievers.end()) {
        return eval_usage_error(benchmark,
                                "--reader-retriever '" + *out->qa.reader_retriever + "' is not among the retrievers");
    }
    auto config = load_cli_config(args, {}, false);
    if (!config) return failure(name, config.status());
    bool kasten_retriever = false;
    for (const auto& r : out->retrievers) kasten_retriever = kasten_retriever || r != "bm25";
    if (kasten_retriever) {
        auto embedder = create_configured_embedder(*config);
        if (!embedder) return failure(name, embedder.status());
        out->embedder = *embedder;
        std::cerr << "kasten eval " << benchmark << ": embedder " << out->embedder->id() << "\n";
    }
    return std::nullopt;
}

double metric(const std::map<std::string, eval::MetricAverage>& groups, const std::string& group,
              const std::string& m) {
    auto g = groups.find(group);
    if (g == groups.end()) return 0.0;
    auto v = g->second.mean.find(m);
    return v == g->second.mean.end() ? 0.0 : v->second;
}

int run_locomo(int argc, char** argv, const std::string& command_line) {
    const std::string name = "eval locomo";
    ConversationArgs ca;
    if (auto code = parse_conversation_args(argc, argv, "locomo", kLocomoUsage, {"retrieval"}, &ca)) return *code;
    eval::LocomoOptions options;
    options.data_path = ca.data;
    options.retrievers = ca.retrievers;
    options.embedder = ca.embedder;
    options.notes = ca.notes;
    options.tuning = ca.tuning;
    options.threads = ca.threads;
    options.progress = !ca.args.has("quiet");
    options.limit = ca.limit;
    if (auto c = ca.args.get("categories")) {
        for (const auto& x : split_list(*c)) {
            auto v = parse_int_flag("categories", x, 1, 5);
            if (!v) return eval_usage_error("locomo", v.status().message());
            options.categories.push_back(*v);
        }
    }
    if (auto b = ca.args.get("context-budget")) {
        auto v = parse_int_flag("context-budget", *b, 1, 1 << 20);
        if (!v) return eval_usage_error("locomo", v.status().message());
        options.context.budget = *v;
        if (auto vocab = ca.args.get("context-vocab")) {
            auto tokenizer = llm::load_gguf_tokenizer(*vocab);
            if (!tokenizer) return failure(name, tokenizer.status());
            options.context.counter = std::make_shared<memory::TokenizerTokenCounter>(
                std::shared_ptr<const llm::Tokenizer>(std::move(tokenizer).value()));
        }
    } else if (ca.args.has("context-vocab")) {
        return eval_usage_error("locomo", "--context-vocab goes with --context-budget");
    }
    options.reader = ca.qa.reader;
    options.judge = ca.qa.judge;
    options.reader_retriever = ca.qa.reader_retriever.value_or(ca.retrievers.back());
    options.reader_top_k = ca.qa.top_k.value_or(5);
    options.reader_contexts = ca.reader_contexts;
    auto run = eval::run_locomo(options);
    if (!run) return failure(name, run.status());
    if (ca.qa.reader) run->qa = qa_info(ca.qa, options.reader_retriever, options.reader_top_k);
    eval::LocomoReport report(*run, command_line);
    Status st = report.write(ca.out);
    if (!st.is_ok()) return failure(name, st);
    std::cout << fmt::format("LoCoMo: {} questions from {} samples in {:.1f} s\n", run->questions.size(), run->samples,
                             run->wall_seconds);
    if (options.context.budget > 0) {
        std::vector<std::vector<eval::ContextCoverage>> per_question;
        for (const auto& q : run->questions) per_question.push_back(q.contexts);
        const std::string counter_name = options.context.counter ? options.context.counter->name() : "estimate";
        const std::string md = eval::context_coverage_markdown(per_question, options.context.budget, counter_name);
        std::ofstream f(std::filesystem::path(ca.out) / "context.md");
        f << md;
        if (!f) return failure(name, Status::io_error("cannot write " + ca.out + "/context.md"));
        std::cout << md;
    }
    for (const auto& [retriever, levels] : report.averages()) {
        for (const auto& [level, groups] : levels) {
            const bool dialogue = level == "dialogue";
            std::cout << fmt::format(
                "  {:<8} {:<8} n={:<4} recall@{} {:.3f}  recall@{} {:.3f}  recall@{} {:.3f}  "
                "(cats 1-4 recall@{} {:.3f})\n",
                level, retriever, groups.count("all") ? groups.at("all").n : 0, dialogue ? 5 : 1,
                metric(groups, "all", dialogue ? "recall@5" : "recall@1"), dialogue ? 10 : 3,
                metric(groups, "all", dialogue ? "recall@10" : "recall@3"), dialogue ? 25 : 5,
                metric(groups, "all", dialogue ? "recall@25" : "recall@5"), dialogue ? 5 : 1,
                metric(groups, "cats_1_4", dialogue ? "recall@5" : "recall@1"));
        }
    }
    for (const auto& [path, groups] : report.qa_averages()) {
        std::cout << "  QA " << path << ":";
        if (groups.count("cats_1_4")) {
            std::cout << fmt::format(" F1 cats 1-4 {:.3f} (n={})", metric(groups, "cats_1_4", "f1"),
                                     groups.at("cats_1_4").n);
            if (ca.qa.judge) std::cout << fmt::format(", J cats 1-4 {:.3f}", metric(groups, "cats_1_4", "judge"));
        }
        if (groups.count("5")) {
            std::cout << fmt::format("{} F1 cat 5 {:.3f} (n={})", groups.count("cats_1_4") ? ";" : "",
                                     metric(groups, "5", "f1"), groups.at("5").n);
        }
        std::cout << "\n";
    }
    std::cout << "outputs: " << ca.out << "/{per_question.jsonl, metrics.json, report.md, recall.svg}\n";
    return kExitOk;
}

int run_convomem(int argc, char** argv, const std::string& command_line) {
    const std::string name = "eval convomem";
    ConversationArgs ca;
    if (auto code = parse_conversation_args(argc, argv, "convomem", kConvoMemUsage, {"full", "retrieval"}, &ca)) {
        return *code;
    }
    eval::ConvoMemOptions options;
    options.data_path = ca.data;
    options.retrievers = ca.retrievers;
    options.embedder = ca.embedder;
    options.notes = ca.notes;
    options.tuning = ca.tuning;
    options.threads = ca.threads;
    options.progress = !ca.args.has("quiet");
    options.limit = ca.limit;
    options.reader = ca.qa.reader;
    options.judge = ca.qa.judge;
    options.reader_retriever = ca.qa.reader_retriever.value_or(ca.retrievers.back());
    options.reader_top_k = ca.qa.top_k.value_or(10);
    options.reader_contexts = ca.reader_contexts;
    auto run = eval::run_convomem(options);
    if (!run) return failure(name, run.status());
    if (ca.qa.reader) run->qa = qa_info(ca.qa, options.reader_retriever, options.reader_top_k);
    eval::ConvoMemReport report(*run, command_line);
    Status st = report.write(ca.out);
    if (!st.is_ok()) return failure(name, st);
    std::cout << fmt::format("ConvoMem: {} items from {} test cases in {:.1f} s\n", run->items.size(), run->test_cases,
                             run->wall_seconds);
    for (const auto& [retriever, levels] : report.averages()) {
        for (const auto& [level, groups] : levels) {
            const bool message = level == "message";
            std::cout << fmt::format("  {:<12} {:<8} n={:<4} recall@{} {:.3f}  recall@{} {:.3f}  recall@{} {:.3f}\n",
                                     level, retriever, groups.count("all") ? groups.at("all").n : 0, message ? 5 : 1,
                                     metric(groups, "all", message ? "recall@5" : "recall@1"), message ? 10 : 3,
                                     metric(groups, "all", message ? "recall@10" : "recall@3"), message ? 20 : 5,
                                     metric(groups, "all", message ? "recall@20" : "recall@5"));
        }
    }
    for (const auto& [path, groups] : report.qa_averages()) {
        std::cout << fmt::format("  QA {}: accuracy {:.3f} (n={})\n", path, metric(groups, "all", "accuracy"),
                                 groups.count("all") ? groups.at("all").n : 0);
    }
    std::cout << "outputs: " << ca.out << "/{per_question.jsonl, metrics.json, report.md, recall.svg}\n";
    return kExitOk;
}

}  // namespace

int run_eval_command(int argc, char** argv) {
    // argv[0] = "eval"
    std::string command_line = "kasten";
    for (int i = 0; i < argc; ++i) command_line += " " + quote_arg(argv[i]);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
        std::string(argv[1]) == "help") {
        std::cout << kEvalUsage;
        return argc < 2 ? kExitUsage : kExitOk;
    }
    const std::string benchmark = argv[1];
    if (benchmark == "longmemeval") return run_longmemeval(argc, argv, command_line);
    if (benchmark == "locomo") return run_locomo(argc, argv, command_line);
    if (benchmark == "convomem") return run_convomem(argc, argv, command_line);
    if (benchmark == "cv") return run_eval_cv(argc - 1, argv + 1);
    std::cerr << "kasten eval: unknown benchmark '" << benchmark << "'\n" << kEvalUsage;
    return kExitUsage;
}

}  // namespace kasten::api
