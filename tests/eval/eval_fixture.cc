#include "eval_fixture.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kasten::eval::testing {

TempDir::TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("kasten-eval-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const {
    return (path_ / std::string(name)).string();
}

void write_file(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

nlohmann::json turn(const std::string& role, const std::string& content, int has_answer) {
    nlohmann::json t = {{"role", role}, {"content", content}};
    if (has_answer >= 0) t["has_answer"] = has_answer == 1;
    return t;
}

nlohmann::json question(const std::string& id, const std::string& type, const std::string& text,
                        const nlohmann::json& answer, const std::vector<FixtureSession>& sessions,
                        const std::vector<std::string>& answer_session_ids) {
    nlohmann::json q;
    q["question_id"] = id;
    q["question_type"] = type;
    q["question"] = text;
    q["question_date"] = "2023/06/01 (Thu) 10:00";
    q["answer"] = answer;
    q["answer_session_ids"] = answer_session_ids;
    q["haystack_dates"] = nlohmann::json::array();
    q["haystack_session_ids"] = nlohmann::json::array();
    q["haystack_sessions"] = nlohmann::json::array();
    for (const auto& s : sessions) {
        q["haystack_dates"].push_back(s.date);
        q["haystack_session_ids"].push_back(s.id);
        q["haystack_sessions"].push_back(nlohmann::json(s.turns));
    }
    return q;
}

}  // namespace kasten::eval::testing
