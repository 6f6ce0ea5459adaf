#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

#include <fmt/format.h>

#include "api/cli/chat_setup.h"
#include "api/cli/command.h"
#include "api/cli/kv_cache_flags.h"
#include "api/cli/line_editor.h"
#include "api/cli/note_pipeline.h"
#include "api/cli/runtime.h"
#include "common/clock.h"
#include "common/timestamp.h"
#include "llm/embedded_language_model.h"
#include "memory/memory_chat.h"
#include "memory/memory_manager.h"
#include "memory/score_calibrator.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "chat";

constexpr const char* kHelp =
    "  /memories [QUERY]  the memories that best match QUERY (notes and turns); without one, the latest turns\n"
    "  /notes             the cube's current notes (as of /as-of when set)\n"
    "  /forget ID         delete a turn (t_…) or a note (n_…)\n"
    "  /as-of DATE        show notes as they stood at DATE (ISO-8601); /as-of off goes back to now\n"
    "  /context           what the model was given from memory for the last message\n"
    "  /session new       start a new conversation (a new session in the cube)\n"
    "  /model             the answerer, embedder and note builder in use\n"
    "  /help              this list\n"
    "  /quit              leave (Ctrl-D too)\n";

std::string one_line(const std::string& text, size_t max) {
    std::string out;
    for (char c : text) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    if (out.size() > max) {
        size_t cut = max;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out = out.substr(0, cut) + "…";
    }
    return out;
}

// "chat-<UTC time to the second>-<4 random hex digits>": unique even for two new sessions in one second.
std::string new_session_id() {
    static std::mt19937 random{std::random_device{}()};
    return fmt::format("chat-{}-{:04x}", format_timestamp(SystemClock::instance().now_ms()).substr(0, 19),
                       random() & 0xffff);
}

// The REPL's state.
struct ChatState {
    memory::MemoryManager* memory = nullptr;
    memory::MemoryChat* chat = nullptr;
    ChatSetup* setup = nullptr;
    std::string cube;
    std::string session;
    std::string model_line;                 // for /model
    std::vector<llm::ChatMessage> history;  // the conversation as the model saw it (memory messages included)
    std::optional<memory::PackedContext> last_context;
    std::optional<TimeMs> as_of;
};

void sanitize_session(std::string* id) {
    for (char& c : *id) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':')) c = '-';
    }
}

void show_memories(ChatState& s, const std::string& query) {
    if (query.empty()) {
        auto turns = s.memory->list_turns(s.cube, 10, 0);
        if (!turns.is_ok()) {
            std::cout << "error: " << turns.status().message() << "\n";
            return;
        }
        if (turns->empty()) std::cout << "no memories in cube " << s.cube << " yet\n";
        for (const auto& t : *turns) {
            std::cout << fmt::format("  {}  {}  {:<9} {}\n", t.id, format_timestamp(t.conv_time).substr(0, 16), t.role,
                                     one_line(t.content, 100));
        }
        return;
    }
    bool any = false;
    for (memory::Granularity g : {memory::Granularity::kNote, memory::Granularity::kTurn}) {
        memory::SearchRequest req;
        req.cube_id = s.cube;
        req.query = query;
        req.granularity = g;
        req.top_k = 5;
        req.min_score = memory::kDefaultMinScore;
        if (g == memory::Granularity::kNote) req.as_of = s.as_of;
        auto hits = s.memory->search(req);
        if (!hits.is_ok()) {
            if (hits.status().code() == StatusCode::kNotFound) break;
            std::cout << "error: " << hits.status().message() << "\n";
            return;
        }
        for (const auto& h : *hits) {
            if (h.score <= 0) continue;
            any = true;
            std::cout << fmt::format("  {}  {:.3f}  {}  {}\n", h.id, h.score, format_timestamp(h.time).substr(0, 10),
                                     one_line(h.text, 100));
        }
    }
    if (!any) std::cout << "nothing in memory matches '" << query << "'\n";
}

void show_notes(ChatState& s) {
    auto notes = s.memory->list_notes(s.cube, s.as_of ? std::nullopt : std::optional(store::NoteStatus::kActive),
                                      s.as_of ? 1000 : 50, 0);
    if (!notes.is_ok()) {
        std::cout << (notes.status().code() == StatusCode::kNotFound ? "no notes yet\n"
                                                                     : "error: " + notes.status().message() + "\n");
        return;
    }
    int shown = 0;
    for (const auto& n : *notes) {
        if (s.as_of) {
            const TimeMs from = n.valid_from.value_or(n.recorded_at);
            if (from > *s.as_of || (n.valid_to && *n.valid_to <= *s.as_of)) continue;
            if (n.status == store::NoteStatus::kDeleted || n.status == store::NoteStatus::kArchived) continue;
        }
        ++shown;
        std::cout << fmt::format("  {}  {:<10} {}\n", n.id, n.kind, one_line(n.content, 100));
    }
    if (shown == 0) std::cout << "no notes" << (s.as_of ? " valid then" : " yet") << "\n";
}

void forget(ChatState& s, const std::string& id) {
    Status st = id.rfind("n_", 0) == 0   ? s.memory->delete_note(s.cube, id, "chat")
                : id.rfind("t_", 0) == 0 ? s.memory->delete_turn(s.cube, id, "chat")
                                         : Status::invalid_argument("give a turn id (t_…) or a note id (n_…)");
    std::cout << (st.is_ok() ? "forgotten: " + id : "error: " + st.message()) << "\n";
}

constexpr size_t kMaxRemoteHistory = 64;  // messages kept for upstream and extractive answerers

// Drops the oldest messages until the conversation, its memory and the answer fit the model's context (embedded) or
// at most kMaxRemoteHistory messages are left. The cached prefix is recomputed once after a trim.
void trim_history(ChatState& s, int max_tokens) {
    if (s.setup->n_ctx <= 0) {
        while (s.history.size() > kMaxRemoteHistory) s.history.erase(s.history.begin());
        return;
    }
    const memory::TokenCounter& counter = *s.setup->memory.counter;
    const int room = s.setup->n_ctx - max_tokens - s.setup->memory.context_budget - 64;  // 64: template markup
    auto total = [&] {
        int t = 0;
        for (const auto& m : s.history) t += counter.count(m.content) + 8;
        return t;
    };
    while (s.history.size() > 1 && total() > room) s.history.erase(s.history.begin());
}

// One exchange: context, streamed answer, written back.
void answer_message(ChatState& s, const std::string& line) {
    llm::GenerationOptions options;
    options.max_tokens = s.setup->n_ctx > 0 ? std::clamp(s.setup->n_ctx / 4, 1, 512) : 512;
    options.temperature = 0;
    s.history.push_back({"user", line});
    trim_history(s, options.max_tokens);
    memory::ChatExchange ex{s.cube, s.session, s.history};
    auto prepared = s.chat->prepare(ex);
    if (!prepared.is_ok()) {
        s.history.pop_back();
        std::cout << "error: " << prepared.status().message() << "\n";
        return;
    }
    s.last_context = prepared->context;
    s.chat->pin_prefix(ex, *prepared, *s.setup->model);
    bool wrote = false;
    auto generation = s.setup->model->chat(prepared->messages, options, [&](std::string_view piece) {
        std::cout << piece << std::flush;
        wrote = true;
        return true;
    });
    if (!generation.is_ok()) {
        std::cout << (wrote ? "\n" : "") << "error: " << generation.status().message() << "\n";
        s.history.pop_back();
        return;
    }
    std::cout << "\n";
    const bool extractive = s.setup->kind == AnswererKind::kExtractive;
    auto stored = s.chat->remember(ex, *prepared, generation->text, extractive);
    if (!stored.is_ok()) std::cout << "(not stored in memory: " << stored.status().message() << ")\n";
    // The conversation continues from what the model saw, so its prompt prefix stays cached.
    s.history = prepared->messages;
    s.history.push_back({"assistant", generation->text});
}

// A slash command; false to quit.
bool command(ChatState& s, const std::string& line) {
    const size_t space = line.find(' ');
    const std::string name = line.substr(0, space);
    std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
    while (!arg.empty() && arg.back() == ' ') arg.pop_back();
    while (!arg.empty() && arg.front() == ' ') arg.erase(0, 1);
    if (name == "/quit" || name == "/exit") return false;
    if (name == "/help") {
        std::cout << kHelp;
    } else if (name == "/memories") {
        show_memories(s, arg);
    } else if (name == "/notes") {
        show_notes(s);
    } else if (name == "/forget") {
        if (arg.empty()) {
            std::cout << "usage: /forget ID\n";
        } else {
            forget(s, arg);
        }
    } else if (name == "/as-of") {
        if (arg.empty() || arg == "off" || arg == "now") {
            s.as_of.reset();
            std::cout << "notes as they stand now\n";
        } else if (auto t = parse_timestamp(arg); t.is_ok()) {
            s.as_of = t.value();
            std::cout << "notes as they stood at " << format_timestamp(*s.as_of) << "\n";
        } else {
            std::cout << "error: " << t.status().message() << "\n";
        }
    } else if (name == "/context") {
        if (!s.last_context || s.last_context->mode == "empty") {
            std::cout << "no memory was given to the model for the last message\n";
        } else {
            const auto& c = *s.last_context;
            std::cout << fmt::format("[{} mode, {} items, {} of {} tokens ({})]\n", c.mode, c.items.size(), c.tokens,
                                     c.budget, c.token_counter)
                      << c.text;
        }
    } else if (name == "/session") {
        if (arg != "new") {
            std::cout << "session " << s.session << " (/session new starts another)\n";
        } else {
            const std::string old = s.session;
            do s.session = new_session_id();
            while (s.session == old);
            s.history.clear();
            s.last_context.reset();
            std::cout << "new session " << s.session << "\n";
        }
    } else if (name == "/model") {
        std::cout << s.model_line;
    } else {
        std::cout << "unknown command " << name << " (/help lists them)\n";
    }
    return true;
}

int run_chat(const ParsedArgs& args) {
    if (!args.positionals.empty()) return usage_error(kName, "unexpected argument '" + args.positionals[0] + "'");
    const std::string cube = args.get("cube").value_or("default");
    llm::EmbeddedModelOptions model_options;
    std::shared_ptr<llm::EmbeddedLanguageModel> embedded;
    if (auto v = args.get("model")) {
        if (v->empty()) return usage_error(kName, "--model needs a file");
        model_options.model_path = *v;
        if (auto c = args.get("ctx")) {
            Result<int> ctx = parse_int_flag("ctx", *c, 2, 1 << 20);
            if (!ctx.is_ok()) return usage_error(kName, ctx.status().message());
            model_options.n_ctx = ctx.value();
        }
        if (Status st = parse_kv_cache_flags(args, &model_options.kv_cache); !st.is_ok()) {
            return usage_error(kName, st.message());
        }
        std::error_code ec;
        if (!std::filesystem::is_regular_file(model_options.model_path, ec)) {
            return failure(kName, Status::not_found("--model: no such file: " + model_options.model_path));
        }
        auto opened = llm::EmbeddedLanguageModel::open(model_options);
        if (!opened.is_ok()) return failure(kName, opened.status());
        embedded = std::move(opened).value();
        std::cerr << describe_kv_cache(embedded->kv_cache()) << "\n";
    } else if (args.has("ctx") || args.has("kv-policy") || args.has("kv-budget")) {
        return usage_error(kName, "--ctx, --kv-policy and --kv-budget go with --model");
    }

    Result<Config> config = load_cli_config(args, {}, false);
    if (!config.is_ok()) return failure(kName, config.status());
    auto embedder = create_configured_embedder(*config);
    if (!embedder.is_ok()) return failure(kName, embedder.status());
    Result<ChatSetup> setup = make_chat_setup(args, embedded, *embedder);
    if (!setup.is_ok()) return usage_error(kName, setup.status().message());
    setup->memory.placement = memory::ContextPlacement::kBeforeLastUser;
    Result<NotePipeline> notes = make_note_pipeline(config->notes, embedded);
    if (!notes.is_ok()) return failure(kName, notes.status());
    OpenOptions open_options;
    open_options.notes = true;
    open_options.background_jobs = true;
    auto memory = open_memory(*config, *embedder, *notes, open_options);
    if (!memory.is_ok()) return failure(kName, memory.status());
    memory::MemoryChat chat(**memory, setup->memory);

    ChatState s;
    s.memory = memory->get();
    s.chat = &chat;
    s.setup = &*setup;
    s.cube = cube;
    s.session = args.get("session").value_or(new_session_id());
    sanitize_session(&s.session);
    s.model_line = fmt::format(
        "  answerer  {}\n  embedder  {}\n  notes     {}\n  memory    {} tokens of context per message ({})\n",
        setup->description, (*embedder)->id(), notes->enabled() ? notes->description() : "off",
        setup->memory.context_budget, memory::context_strategy_name(setup->memory.strategy));
    std::cout << fmt::format("kasten chat · cube {} · session {}\n", s.cube, s.session) << s.model_line
              << (setup->kind == AnswererKind::kExtractive
                      ? "No language model: answers are the stored memories that match (extractive). Give --model "
                        "FILE.gguf or --upstream URL --upstream-model M for a model.\n"
                      : "")
              << "Every message is remembered. /help lists the commands, /quit leaves.\n";

    const char* home = std::getenv("HOME");
    LineEditor editor(args.has("no-history") || home == nullptr
                          ? ""
                          : (std::filesystem::path(config->data_dir) / "chat_history").string());
    while (true) {
        auto line = editor.read("you> ");
        if (!line) break;
        if (line->find_first_not_of(" \t") == std::string::npos) continue;
        if ((*line)[0] == '/') {
            if (!command(s, *line)) break;
            continue;
        }
        if (!editor.interactive()) std::cout << "you> " << *line << "\n";
        std::cout << "kasten> " << std::flush;
        answer_message(s, *line);
    }
    std::cout << "bye\n";
    // Notes of the last exchanges are built before leaving (they are queued in the store either way).
    (void)(*memory)->wait_for_jobs(10000);
    return kExitOk;
}

}  // namespace

Command chat_command() {
    Command c;
    c.name = kName;
    c.summary = "Chat in the terminal, with memory.";
    c.usage =
        "kasten chat [--cube C] [--session ID] [--model FILE [--ctx N] | --upstream URL --upstream-model M] "
        "[--context-budget N] [--context-strategy S] [--notes MODE] [--no-history]";
    c.details =
        "A terminal chat whose every exchange is written to the cube's memory (notes are built in the background),\n"
        "and whose every answer is given the memories that matter for the message (docs/chat.md). The answerer is\n"
        "the embedded GGUF model (--model), a remote OpenAI-compatible server (--upstream, e.g. Ollama or a\n"
        "llama.cpp server), or, with neither, the extractive answerer, which replies with the best matching stored\n"
        "memories and says so. With the embedded model the conversation's prompt stays a cached prefix, so a\n"
        "message's latency does not grow with the conversation. Line editing and history (libedit) on a terminal;\n"
        "plain lines from a pipe. Commands:\n" +
        std::string(kHelp);
    c.examples =
        "  kasten chat --cube alice\n"
        "  kasten chat --cube alice --model my-instruct-model.gguf --ctx 4096\n"
        "  kasten chat --cube alice --upstream http://127.0.0.1:11434/v1 --upstream-model llama3.2\n";
    c.flags = {{"cube", "C", "the cube (default 'default')"},
               {"session", "ID", "the conversation's session id (default chat-<now>)"},
               {"model", "FILE", "a GGUF model to answer with"},
               {"ctx", "N", "the model's context size in tokens (default 2048)"},
               {"notes", "MODE", "heuristic | llm | off: how notes are built (default heuristic)"},
               {"no-history", "", "do not load or save the line history"}};
    for (auto& f : chat_setup_flags()) c.flags.push_back(std::move(f));
    for (auto& f : kv_cache_flags()) c.flags.push_back(std::move(f));
    c.run = run_chat;
    return c;
}

}  // namespace kasten::api
