#include "api/cli/line_editor.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <editline/readline.h>

namespace kasten::api {

LineEditor::LineEditor(std::string history_file)
    : history_file_(std::move(history_file)), interactive_(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
    if (!interactive_) return;
    using_history();
    stifle_history(1000);
    if (!history_file_.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(history_file_).parent_path(), ec);
        read_history(history_file_.c_str());
    }
}

LineEditor::~LineEditor() {
    if (interactive_ && !history_file_.empty()) write_history(history_file_.c_str());
}

std::optional<std::string> LineEditor::read(const std::string& prompt) {
    if (!interactive_) {
        std::string line;
        if (!std::getline(std::cin, line)) return std::nullopt;
        return line;
    }
    char* raw = readline(prompt.c_str());
    if (raw == nullptr) return std::nullopt;
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") != std::string::npos) add_history(line.c_str());
    return line;
}

}  // namespace kasten::api
