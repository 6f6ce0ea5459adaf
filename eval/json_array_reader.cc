#include "eval/json_array_reader.h"

#include <cstring>
#include <fstream>

namespace kasten::eval {

namespace {

constexpr std::size_t kBufferBytes = 1 << 20;

bool is_space(int c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

JsonArrayReader::JsonArrayReader(std::unique_ptr<std::istream> in, std::string name)
    : in_(std::move(in)), name_(std::move(name)), buffer_(kBufferBytes) {}

Result<std::unique_ptr<JsonArrayReader>> JsonArrayReader::open(const std::string& path) {
    auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*in) return Status::not_found("cannot open '" + path + "'");
    return std::make_unique<JsonArrayReader>(std::move(in), path);
}

bool JsonArrayReader::refill() {
    if (io_error_ || !in_->good()) return false;
    in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    len_ = static_cast<std::size_t>(in_->gcount());
    pos_ = 0;
    if (in_->bad()) io_error_ = true;
    return len_ > 0;
}

int JsonArrayReader::get() {
    if (pos_ == len_ && !refill()) return -1;
    ++consumed_;
    return static_cast<unsigned char>(buffer_[pos_++]);
}

void JsonArrayReader::copy_string_run(std::string* out) {
    for (;;) {
        if (pos_ == len_ && !refill()) return;
        const char* begin = buffer_.data() + pos_;
        const std::size_t left = len_ - pos_;
        const char* quote = static_cast<const char*>(std::memchr(begin, '"', left));
        const std::size_t to_quote = quote ? static_cast<std::size_t>(quote - begin) : left;
        const char* backslash = static_cast<const char*>(std::memchr(begin, '\\', to_quote));
        const std::size_t run = backslash ? static_cast<std::size_t>(backslash - begin) : to_quote;
        if (out) out->append(begin, run);
        pos_ += run;
        consumed_ += static_cast<std::int64_t>(run);
        if (run < left) return;
    }
}

Status JsonArrayReader::error(const std::string& what) const {
    if (io_error_) return Status::io_error(name_ + ": read error after byte " + std::to_string(consumed_));
    return Status::corruption(name_ + ": " + what + " (element " + std::to_string(elements_) + ", byte " +
                              std::to_string(consumed_) + ")");
}

Result<std::optional<std::string>> JsonArrayReader::next() {
    std::string text;
    KASTEN_ASSIGN_OR_RETURN(bool found, scan(&text));
    if (!found) return std::optional<std::string>{};
    return std::optional<std::string>{std::move(text)};
}

Result<bool> JsonArrayReader::skip() {
    return scan(nullptr);
}

Result<bool> JsonArrayReader::scan(std::string* out) {
    if (state_ == State::kEnd) return false;
    int c = get();
    if (state_ == State::kStart) {
        if (c == 0xEF) {  // UTF-8 byte order mark
            if (get() != 0xBB || get() != 0xBF) return Status::invalid_argument(name_ + ": not a JSON array");
            c = get();
        }
        while (is_space(c)) c = get();
        if (c != '[') {
            if (io_error_) return error("");
            return Status::invalid_argument(name_ + ": not a JSON array (the first character is not '[')");
        }
        c = get();
        while (is_space(c)) c = get();
        state_ = State::kBetween;
        if (c == ']') {
            state_ = State::kEnd;
            for (c = get(); is_space(c); c = get()) {
            }
            if (c != -1) return error("text after the end of the array");
            return false;
        }
    } else {
        while (is_space(c)) c = get();
    }
    if (c == -1) return error("unexpected end of data: the array is not closed");
    if (c == ']' || c == ',') return error("missing element");

    int depth = 0;
    bool in_string = false;
    bool escape = false;
    bool array_closed = false;
    for (;; c = get()) {
        if (c == -1) return error(in_string ? "unexpected end of data inside a string" : "unexpected end of data");
        if (in_string) {
            if (escape) {
                escape = false;
            } else if (c == '\\') {
                escape = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) {
                if (c == '}') return error("unbalanced '}'");
                array_closed = true;
                break;
            }
            --depth;
        } else if (c == ',' && depth == 0) {
            break;
        }
        if (out) out->push_back(static_cast<char>(c));
        if (in_string && !escape) copy_string_run(out);  // the plain bytes of a string in one step
    }
    if (out) {
        while (!out->empty() && is_space(static_cast<unsigned char>(out->back()))) out->pop_back();
    }
    ++elements_;
    if (array_closed) {
        state_ = State::kEnd;
        for (c = get(); is_space(c); c = get()) {
        }
        if (c != -1) return error("text after the end of the array");
    }
    return true;
}

}  // namespace kasten::eval
