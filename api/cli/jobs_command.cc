#include <iostream>

#include <fmt/format.h>

#include "api/cli/command.h"
#include "api/cli/one_line.h"
#include "api/cli/runtime.h"
#include "api/dto/json_codec.h"
#include "common/timestamp.h"

namespace kasten::api {
namespace {

constexpr const char* kName = "jobs";

// "notes 3, links 2, superseded 1" from a done job's result; "" when it has none of these counts.
std::string result_summary(const store::JobRecord& job) {
    const nlohmann::json r = nlohmann::json::parse(job.result_json, nullptr, /*allow_exceptions=*/false);
    if (!r.is_object()) return "";
    std::string out;
    for (const char* key : {"notes", "links", "superseded", "evolved"}) {
        auto it = r.find(key);
        if (it == r.end() || !it->is_number_integer()) continue;
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", key, it->get<std::int64_t>());
    }
    return out;
}

int run_jobs(const ParsedArgs& args) {
    auto cube = args.get("cube");
    if (!cube || cube->empty()) return usage_error(kName, "--cube is required");
    if (args.positionals.size() > 1) return usage_error(kName, "give at most one job id");
    const std::optional<std::string> job_id =
        args.positionals.empty() ? std::nullopt : std::optional<std::string>(args.positionals[0]);
    if (job_id && (args.has("limit") || args.has("offset"))) {
        return usage_error(kName, "--limit and --offset apply to the list, not to one job");
    }
    Result<Paging> paging = parse_paging(args);
    if (!paging.is_ok()) return usage_error(kName, paging.status().message());
    const int limit = paging.value().limit;
    const int offset = paging.value().offset;
    const bool json = args.has("json");

    Result<Runtime> rt = open_runtime(args);
    if (!rt.is_ok()) return failure(kName, rt.status());
    memory::MemoryManager& m = *rt.value().memory;
    if (job_id) {
        auto job = m.get_job(*job_id);
        if (job.is_ok() && job.value().cube_id != *cube) {
            job = Status::not_found("job '" + *job_id + "' does not exist in cube '" + *cube + "'");
        }
        if (!job.is_ok()) return failure(kName, job.status());
        const store::JobRecord& j = job.value();
        if (json) {
            std::cout << dump_json(job_to_json(j), 2) << "\n";
            return kExitOk;
        }
        std::cout << fmt::format("job {}  (cube {}, {})\nstate:    {}\nattempts: {}\ncreated:  {}\nupdated:  {}\n",
                                 j.id, j.cube_id, j.kind, store::job_state_name(j.state), j.attempts,
                                 format_timestamp(j.created_at), format_timestamp(j.updated_at));
        if (!j.error.empty()) std::cout << "error:    " << j.error << "\n";
        std::cout << "result:   " << dump_json(job_to_json(j)["result"], 2) << "\n";
        return kExitOk;
    }
    auto jobs = m.list_jobs(*cube, limit, offset);
    if (!jobs.is_ok()) return failure(kName, jobs.status());
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& j : jobs.value()) out.push_back(job_to_json(j));
        std::cout << dump_json({{"jobs", std::move(out)}}, 2) << "\n";
        return kExitOk;
    }
    if (jobs.value().empty()) {
        std::cout << "no jobs\n";
        return kExitOk;
    }
    for (const auto& j : jobs.value()) {
        std::string detail = j.state == store::JobState::kDone ? result_summary(j) : one_line(j.error, 80);
        std::cout << fmt::format("{}  {:<7}  {}  attempts {}  {}\n", j.id, store::job_state_name(j.state),
                                 format_timestamp(j.updated_at), j.attempts, detail);
    }
    return kExitOk;
}

}  // namespace

Command jobs_command() {
    Command c;
    c.name = kName;
    c.summary = "List a cube's note jobs (newest first), or show one with its result.";
    c.usage = "kasten jobs --cube C [--limit N] [--offset N] [--json]\n       kasten jobs --cube C JOB_ID [--json]";
    c.details =
        "Each add queues a note job (one per session; adds to a session whose job has not started join it).\n"
        "States: queued, running, done, failed. A done job's result counts the drafts, the notes built,\n"
        "duplicates dropped, links made, notes superseded and neighbours evolved. `kasten add` and `kasten serve`\n"
        "run jobs; other commands leave queued jobs queued.";
    c.examples =
        "  kasten jobs --cube alice\n"
        "  kasten jobs --cube alice j_5d2c8e0a1b3f4a67 --json\n";
    c.flags = {
        {"cube", "C", "the cube (required)"},
        {"limit", "N", "page size, 1..1000 (default 50)"},
        {"offset", "N", "entries to skip (default 0)"},
        {"json", "", "print JSON"},
    };
    c.run = run_jobs;
    return c;
}

}  // namespace kasten::api
