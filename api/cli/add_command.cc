#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "api/cli/command.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "api/dto/request_parser.h"
#include "common/timestamp.h"
#include "memory/input_validation.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "add";

// The messages of --file: a JSON array of {"role","content","time"?} or an object like the REST body
// {"messages": [...], "session_id"?, "time"?}.
Result<memory::AddMessagesRequest> read_messages_file(const std::string& path, const Config& config) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::not_found("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '[') text = "{\"messages\": " + text + "}";
    RequestLimits limits{config.max_query_chars, config.max_top_k, config.max_content_chars};
    Result<AddMemoriesBody> body = parse_add_memories(text, limits);
    if (!body.is_ok()) return body.status().with_context(path);
    if (!body.value().messages) return Status::invalid_argument(path + ": expected messages, not a note");
    return std::move(*body.value().messages);
}

int run_add(const ParsedArgs& args) {
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required");
    const bool from_file = args.has("file");
    if (from_file && !args.positionals.empty()) return usage_error(kName, "give either --file or TEXT, not both");
    if (from_file && (args.has("role") || args.has("time"))) {
        return usage_error(kName, "--role and --time apply to TEXT; put roles and times in the --file messages");
    }
    if (!from_file && args.positionals.empty()) return usage_error(kName, "nothing to add: give TEXT or --file");

    memory::AddMessagesRequest request;
    OpenOptions open_options;
    open_options.notes = true;  // foreground: the jobs run below, before the command exits
    Result<Runtime> rt = open_runtime(args, open_options);
    if (!rt.is_ok()) return failure(kName, rt.status());
    if (from_file) {
        Result<memory::AddMessagesRequest> read = read_messages_file(*args.get("file"), rt.value().config);
        if (!read.is_ok()) return failure(kName, read.status());
        request = std::move(read).value();
    } else {
        memory::MessageInput message;
        message.role = args.get("role").value_or("user");
        if (!memory::validate_role(message.role).is_ok()) {
            return usage_error(kName, "--role must be one of user, assistant, system, tool");
        }
        for (size_t i = 0; i < args.positionals.size(); ++i) {
            message.content += (i == 0 ? "" : " ") + args.positionals[i];
        }
        if (auto t = args.get("time")) {
            Result<TimeMs> parsed = parse_timestamp(*t);
            if (!parsed.is_ok()) return usage_error(kName, "--time: " + parsed.status().message());
            message.time = parsed.value();
        }
        request.messages.push_back(std::move(message));
    }
    request.cube_id = *cube;
    if (auto s = args.get("session")) request.session_id = *s;
    request.actor = "cli";
    memory::MemoryManager& m = *rt.value().memory;
    Result<memory::AddMessagesResult> added = m.add_messages(request, true);
    if (!added.is_ok()) return failure(kName, added.status());
    // The turns are stored. Build their notes now (this also runs note jobs an earlier process left queued).
    std::optional<store::JobRecord> job;
    int jobs_ran = 0;
    if (!added.value().job_id.empty()) {
        Result<int> ran = m.run_jobs();
        if (!ran.is_ok()) return failure(kName, ran.status().with_context("the turns were added; building notes"));
        jobs_ran = ran.value();
        Result<store::JobRecord> got = m.get_job(added.value().job_id);
        if (!got.is_ok()) return failure(kName, got.status());
        job = std::move(got).value();
    }
    if (args.has("json")) {
        nlohmann::json out = add_messages_result_to_json(added.value());
        out["job"] = job ? job_to_json(*job) : nlohmann::json(nullptr);
        std::cout << dump_json(out, 2) << "\n";
        return kExitOk;
    }
    std::cout << "added " << added.value().turn_ids.size() << " turn(s) to cube " << *cube << ", session "
              << added.value().session_id << "\n";
    for (const auto& id : added.value().turn_ids) std::cout << "  " << id << "\n";
    if (!job) {
        std::cout << "notes: off (no notes built)\n";
    } else if (job->state == store::JobState::kDone) {
        const nlohmann::json r = nlohmann::json::parse(job->result_json, nullptr, /*allow_exceptions=*/false);
        auto count = [&](const char* key) -> std::int64_t {
            return r.is_object() && r.contains(key) && r[key].is_number_integer() ? r[key].get<std::int64_t>() : 0;
        };
        std::cout << "built " << count("notes") << " note(s) (" << count("links") << " link(s), " << count("superseded")
                  << " superseded, " << count("evolved") << " evolved) in job " << job->id << "\n";
    } else {
        std::cout << "note job " << job->id << " is " << store::job_state_name(job->state)
                  << (job->error.empty() ? "" : ": " + job->error) << "\n";
    }
    if (jobs_ran > 1) std::cout << "also ran " << jobs_ran - 1 << " note job(s) queued earlier\n";
    return kExitOk;
}

}  // namespace

Command add_command() {
    Command c;
    c.name = kName;
    c.summary = "Add conversation messages to a cube (created if missing).";
    c.usage =
        "kasten add --cube C [--session S] [--role ROLE] [--time T] TEXT...\n       kasten add --cube C "
        "[--session S] --file messages.json";
    c.details =
        "TEXT (all words, joined by spaces) becomes one message. --file reads a JSON array of\n"
        "{\"role\", \"content\", \"time\"?} objects, or an object {\"messages\": [...], \"session_id\"?, \"time\"?}.\n"
        "Without --session a new session is started. Times are ISO-8601 (\"2024-05-30T14:00:00Z\").\n"
        "Then the new turns become notes before the command exits (and so do turns of note jobs an earlier\n"
        "process left queued): --notes (config key notes, KASTEN_NOTES) is heuristic (default) or off; llm needs\n"
        "a language model, which only `kasten serve --model` has. It prints how many notes were built; see them\n"
        "with `kasten list --cube C --what notes` and `kasten jobs --cube C`. Other commands never run note jobs.";
    c.examples =
        "  kasten add --cube alice \"I moved to Lisbon last spring\"\n"
        "  kasten add --cube alice --session trip --role assistant --time 2024-05-30T14:00:00Z \"Noted!\"\n"
        "  kasten add --cube alice --file conversation.json\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"session", "S", "session id (default: a new session)"},
        {"role", "ROLE", "user | assistant | system | tool (default user)"},
        {"time", "T", "conversation time of the message (ISO-8601; default now)"},
        {"file", "FILE", "read messages from a JSON file"},
        {"notes", "MODE", "heuristic | off: build notes from the new turns (default heuristic)"},
        {"json", "", "print the result (and the note job) as JSON"},
    };
    c.run = run_add;
    return c;
}

}  // namespace kasten::api
