#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace kasten::eval {

// Splits a stream holding one JSON array into the raw text of its top-level elements, one at a time, without parsing
// them: brackets and braces are counted outside strings (escapes honoured), so a 270 MB benchmark file is read with one
// element and a fixed read buffer in memory, never as a whole DOM. The element text is handed to a JSON parser by the
// caller; malformed element contents are the parser's to report.
//
// Errors: kInvalidArgument when the stream does not start with '[' (after whitespace and an optional UTF-8 BOM),
// kCorruption on a truncated array, unbalanced brackets or text after the closing ']', kIOError on read failures.
// Not thread-safe: one reader per thread (or guard it with a mutex).
class JsonArrayReader {
  public:
    // Reads from `in`, which the reader owns. `name` appears in error messages (usually the file path).
    JsonArrayReader(std::unique_ptr<std::istream> in, std::string name);
    // Opens a file; kNotFound when it cannot be opened.
    [[nodiscard]] static Result<std::unique_ptr<JsonArrayReader>> open(const std::string& path);

    // The next element's text (leading and trailing whitespace removed); std::nullopt after the last element.
    [[nodiscard]] Result<std::optional<std::string>> next();
    // Like next() but does not keep the text; false after the last element.
    [[nodiscard]] Result<bool> skip();

    // Elements returned or skipped so far.
    std::int64_t elements() const { return elements_; }
    // Bytes consumed from the stream so far.
    std::int64_t bytes_consumed() const { return consumed_; }

  private:
    enum class State { kStart, kBetween, kEnd };
    // The next byte, or -1 at the end of the stream (a read error is recorded in io_error_).
    int get();
    // Reads the next buffer; false at the end of the stream or on a read error (recorded in io_error_).
    bool refill();
    // Consumes the bytes before the next '"' or '\\' (inside a string: bytes that need no look), appending them to
    // `out` when it is not null.
    void copy_string_run(std::string* out);
    [[nodiscard]] Result<bool> scan(std::string* out);
    Status error(const std::string& what) const;

    std::unique_ptr<std::istream> in_;
    std::string name_;
    std::vector<char> buffer_;
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
    std::int64_t consumed_ = 0;
    std::int64_t elements_ = 0;
    bool io_error_ = false;
    State state_ = State::kStart;
};

}  // namespace kasten::eval
