#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kasten::eval::testing {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
  public:
    TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const { return path_; }
    std::string file(std::string_view name) const;

  private:
    std::filesystem::path path_;
};

void write_file(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

// Builders for questions in the official LongMemEval format (the fixtures are written by the tests themselves).
// A turn: {"role", "content"} plus "has_answer" when has_answer is 0 (false) or 1 (true); -1 leaves it out.
nlohmann::json turn(const std::string& role, const std::string& content, int has_answer = -1);

struct FixtureSession {
    std::string id;
    std::string date;  // "2023/05/20 (Sat) 02:21"
    // A vector, not a json: `{turn(…)}` with one element is an array of one under gcc but a copy of the turn under
    // clang (nlohmann's initializer-list constructor), which made a one-turn session an object.
    std::vector<nlohmann::json> turns;
};

// A question object; `answer` may be a string or a number.
nlohmann::json question(const std::string& id, const std::string& type, const std::string& text,
                        const nlohmann::json& answer, const std::vector<FixtureSession>& sessions,
                        const std::vector<std::string>& answer_session_ids);

}  // namespace kasten::eval::testing
