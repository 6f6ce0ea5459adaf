#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "eval/json_array_reader.h"
#include "eval/longmemeval_question.h"

namespace kasten::eval {

// One element of the file, not yet parsed (so that workers can parse outside the reader's lock).
struct LongMemEvalElement {
    std::int64_t index = 0;  // 0-based position in the file
    std::string text;        // the element's JSON text
};

// Streams the questions of an official LongMemEval file (a JSON array, `_s`, `_m` or `_oracle`) one at a time: only
// the current question is held in memory, never the file's DOM. Errors are those of JsonArrayReader and
// parse_longmemeval_question. Not thread-safe.
class LongMemEvalReader {
  public:
    explicit LongMemEvalReader(std::unique_ptr<JsonArrayReader> array);
    // kNotFound when the file cannot be opened.
    [[nodiscard]] static Result<std::unique_ptr<LongMemEvalReader>> open(const std::string& path);
    // Reads from a stream (tests); `name` is used in error messages.
    static std::unique_ptr<LongMemEvalReader> from_stream(std::unique_ptr<std::istream> in, std::string name);

    // The next question; std::nullopt after the last one.
    [[nodiscard]] Result<std::optional<LongMemEvalQuestion>> next();
    // The next element's raw text; std::nullopt after the last one. Parse it with parse_longmemeval_question.
    [[nodiscard]] Result<std::optional<LongMemEvalElement>> next_element();
    // Skips one element without keeping it; false after the last one.
    [[nodiscard]] Result<bool> skip() { return array_->skip(); }

    // Elements read or skipped so far (the file index of the next one).
    std::int64_t elements() const { return array_->elements(); }
    std::int64_t bytes_consumed() const { return array_->bytes_consumed(); }

  private:
    std::unique_ptr<JsonArrayReader> array_;
};

}  // namespace kasten::eval
