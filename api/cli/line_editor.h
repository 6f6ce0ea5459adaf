#pragma once

#include <optional>
#include <string>

namespace kasten::api {

// Reads lines for the terminal chat. On a terminal: libedit (line editing, history with up/down, a history file kept
// across runs); otherwise plain line reads from stdin (pipes, scripts). Not thread-safe (one per process).
class LineEditor {
  public:
    // `history_file`: where the history is loaded from and saved to ("" = none).
    explicit LineEditor(std::string history_file);
    ~LineEditor();
    LineEditor(const LineEditor&) = delete;
    LineEditor& operator=(const LineEditor&) = delete;

    // The next line without its newline; nullopt at end of input (Ctrl-D). Non-empty lines join the history.
    std::optional<std::string> read(const std::string& prompt);
    bool interactive() const { return interactive_; }

  private:
    std::string history_file_;
    bool interactive_ = false;
};

}  // namespace kasten::api
