#include "llm/glove_converter.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "llm/crc32c.h"
#include "llm/kvec_format.h"
#include "llm/mapped_file.h"

namespace kasten::llm {
namespace {

static_assert(std::endian::native == std::endian::little, "KVEC float32 rows are written in host order");

constexpr int kMaxJsonDepth = 256;
constexpr std::size_t kMaxWordBytes = 1 << 16;
constexpr std::uint64_t kMaxVocabulary = 1ULL << 28;
constexpr double kNormTolerance = 1e-3;

// A forward-only scanner over JSON text. Errors are kInvalidArgument naming the file and byte offset.
class JsonScanner {
  public:
    JsonScanner(std::string_view text, const std::string& path) : s_(text), path_(path) {}

    std::size_t pos() const { return pos_; }
    std::size_t size() const { return s_.size(); }

    Status error(std::string_view what) const {
        return Status::invalid_argument(fmt::format("{}: {} at byte {}", path_, what, pos_));
    }
    Status unexpected(std::string_view expected) const {
        if (pos_ >= s_.size())
            return error(fmt::format("unexpected end of input (truncated file?), expected {}", expected));
        return error(fmt::format("expected {}, found {}", expected, describe(s_[pos_])));
    }

    void skip_bom() {
        if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    }
    void skip_ws() {
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
            ++pos_;
        }
    }
    bool at_end() {
        skip_ws();
        return pos_ >= s_.size();
    }
    // Consumes c (after whitespace) when it comes next.
    bool consume(char c) {
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    Status expect(char c) {
        if (consume(c)) return Status::ok();
        return unexpected(fmt::format("'{}'", c));
    }
    // After an element of a container: consumes ',' (returns *more = true) or `close` (*more = false).
    Status next_or_close(char close, bool* more) {
        if (consume(',')) {
            *more = true;
            return Status::ok();
        }
        if (consume(close)) {
            *more = false;
            return Status::ok();
        }
        return unexpected(fmt::format("',' or '{}'", close));
    }

    // Parses a JSON string. *out views the input when the string has no escapes, else `scratch`.
    Status string(std::string_view* out, std::string* scratch) {
        skip_ws();
        if (pos_ >= s_.size() || s_[pos_] != '"') return unexpected("a string");
        std::size_t begin = ++pos_;
        while (pos_ < s_.size()) {
            auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                *out = s_.substr(begin, pos_ - begin);
                ++pos_;
                return Status::ok();
            }
            if (c == '\\') break;
            if (c < 0x20) return error("control character in string");
            ++pos_;
        }
        scratch->assign(s_.substr(begin, pos_ - begin));
        while (pos_ < s_.size()) {
            auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                ++pos_;
                *out = *scratch;
                return Status::ok();
            }
            if (c < 0x20) return error("control character in string");
            if (c != '\\') {
                scratch->push_back(static_cast<char>(c));
                ++pos_;
                continue;
            }
            KASTEN_RETURN_IF_ERROR(escape(scratch));
        }
        return error("unexpected end of input (truncated file?) inside a string");
    }

    // Parses a JSON number into a float (decimal rounded once, to nearest).
    Status parse_float(float* out) {
        std::string_view text;
        KASTEN_RETURN_IF_ERROR(number_text(&text));
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
        if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(*out)) {
            return error(fmt::format("number {} is out of float range", text));
        }
        return Status::ok();
    }
    Status parse_double(double* out) {
        std::string_view text;
        KASTEN_RETURN_IF_ERROR(number_text(&text));
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
        if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(*out)) {
            return error(fmt::format("number {} is out of range", text));
        }
        return Status::ok();
    }
    // Parses an integer-valued JSON number in [min, max].
    Status parse_integer(std::string_view what, std::int64_t min, std::int64_t max, std::int64_t* out) {
        std::size_t at = pos_;
        double v = 0;
        KASTEN_RETURN_IF_ERROR(parse_double(&v));
        if (v != std::floor(v) || v < static_cast<double>(min) || v > static_cast<double>(max)) {
            pos_ = at;
            skip_ws();
            return error(fmt::format("{} must be an integer in [{}, {}], got {}", what, min, max, v));
        }
        *out = static_cast<std::int64_t>(v);
        return Status::ok();
    }

    // Skips any JSON value, checking its syntax.
    Status skip_value(int depth = 0) {
        if (depth > kMaxJsonDepth) return error("JSON nested too deeply");
        skip_ws();
        if (pos_ >= s_.size()) return unexpected("a value");
        char c = s_[pos_];
        if (c == '"') {
            std::string_view ignored;
            std::string scratch;
            return string(&ignored, &scratch);
        }
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            ++pos_;
            if (consume(close)) return Status::ok();
            for (bool more = true; more;) {
                if (c == '{') {
                    std::string_view key;
                    std::string scratch;
                    KASTEN_RETURN_IF_ERROR(string(&key, &scratch));
                    KASTEN_RETURN_IF_ERROR(expect(':'));
                }
                KASTEN_RETURN_IF_ERROR(skip_value(depth + 1));
                KASTEN_RETURN_IF_ERROR(next_or_close(close, &more));
            }
            return Status::ok();
        }
        for (std::string_view literal : {"true", "false", "null"}) {
            if (s_.substr(pos_, literal.size()) == literal) {
                pos_ += literal.size();
                return Status::ok();
            }
        }
        double ignored = 0;
        return parse_double(&ignored);
    }

  private:
    static std::string describe(char c) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x21 && u < 0x7F) return fmt::format("'{}'", c);
        return fmt::format("byte 0x{:02x}", u);
    }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }

    // Validates the JSON number grammar and returns its text.
    Status number_text(std::string_view* out) {
        skip_ws();
        const std::size_t begin = pos_;
        const std::size_t n = s_.size();
        auto bad = [&]() {
            if (pos_ >= n) return unexpected("a number");
            return error(
                fmt::format("invalid number '{}'", s_.substr(begin, std::min<std::size_t>(pos_ - begin + 1, 32))));
        };
        if (pos_ < n && s_[pos_] == '-') ++pos_;
        if (pos_ < n && s_[pos_] == '0') {
            ++pos_;
        } else if (pos_ < n && is_digit(s_[pos_])) {
            while (pos_ < n && is_digit(s_[pos_])) ++pos_;
        } else {
            return bad();
        }
        if (pos_ < n && s_[pos_] == '.') {
            ++pos_;
            if (pos_ >= n || !is_digit(s_[pos_])) return bad();
            while (pos_ < n && is_digit(s_[pos_])) ++pos_;
        }
        if (pos_ < n && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < n && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
            if (pos_ >= n || !is_digit(s_[pos_])) return bad();
            while (pos_ < n && is_digit(s_[pos_])) ++pos_;
        }
        *out = s_.substr(begin, pos_ - begin);
        return Status::ok();
    }

    Status hex4(std::uint32_t* out) {
        if (pos_ + 4 > s_.size()) return error("unexpected end of input (truncated file?) in \\u escape");
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = s_[pos_ + i];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else
                return error("invalid \\u escape");
        }
        pos_ += 4;
        *out = v;
        return Status::ok();
    }

    // Decodes the escape at pos_ (a backslash) into out.
    Status escape(std::string* out) {
        ++pos_;
        if (pos_ >= s_.size()) return error("unexpected end of input (truncated file?) in escape");
        char c = s_[pos_++];
        switch (c) {
            case '"':
                out->push_back('"');
                return Status::ok();
            case '\\':
                out->push_back('\\');
                return Status::ok();
            case '/':
                out->push_back('/');
                return Status::ok();
            case 'b':
                out->push_back('\b');
                return Status::ok();
            case 'f':
                out->push_back('\f');
                return Status::ok();
            case 'n':
                out->push_back('\n');
                return Status::ok();
            case 'r':
                out->push_back('\r');
                return Status::ok();
            case 't':
                out->push_back('\t');
                return Status::ok();
            case 'u':
                break;
            default:
                --pos_;
                return error("invalid escape in string");
        }
        std::uint32_t cp = 0;
        KASTEN_RETURN_IF_ERROR(hex4(&cp));
        if (cp >= 0xDC00 && cp <= 0xDFFF) return error("unpaired low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") return error("unpaired high surrogate in \\u escape");
            pos_ += 2;
            std::uint32_t low = 0;
            KASTEN_RETURN_IF_ERROR(hex4(&low));
            if (low < 0xDC00 || low > 0xDFFF) return error("invalid low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp < 0x80) {
            out->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
            out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        return Status::ok();
    }

    std::string_view s_;
    const std::string& path_;
    std::size_t pos_ = 0;
};

// Reports parse progress at most every ~0.5% of the input.
class ProgressReporter {
  public:
    ProgressReporter(const std::function<void(double)>& callback, std::size_t total)
        : callback_(callback), total_(std::max<std::size_t>(total, 1)), step_(std::max<std::size_t>(total / 200, 1)) {}
    void parsed(std::size_t pos) {
        if (!callback_ || pos < next_) return;
        next_ = pos + step_;
        report(kParseShare * static_cast<double>(pos) / static_cast<double>(total_));
    }
    void report(double fraction) {
        if (!callback_) return;
        fraction = std::clamp(fraction, last_, 1.0);
        last_ = fraction;
        callback_(fraction);
    }
    static constexpr double kParseShare = 0.9;

  private:
    const std::function<void(double)>& callback_;
    std::size_t total_;
    std::size_t step_;
    std::size_t next_ = 0;
    double last_ = 0.0;
};

// The contents of a wink embeddings file, rows in frequency-rank order.
struct WinkVectors {
    std::int64_t dim = -1;
    std::int64_t size = -1;
    std::int64_t l2_norm_index = -1;
    std::int64_t word_index = -1;
    bool have_words = false;
    std::vector<std::string> words;  // from "words"
    bool have_vectors = false;
    std::vector<std::string> keys;  // row -> key in "vectors"
    std::vector<float> vectors;     // size * dim
};

class WinkParser {
  public:
    WinkParser(std::string_view text, const std::string& path, ProgressReporter* progress)
        : scan_(text, path), path_(path), progress_(progress) {}

    Status parse(WinkVectors* out) {
        out_ = out;
        scan_.skip_bom();
        KASTEN_RETURN_IF_ERROR(scan_.expect('{'));
        if (!scan_.consume('}')) {
            for (bool more = true; more;) {
                std::string_view key;
                std::string scratch;
                KASTEN_RETURN_IF_ERROR(scan_.string(&key, &scratch));
                std::string name(key);
                KASTEN_RETURN_IF_ERROR(scan_.expect(':'));
                KASTEN_RETURN_IF_ERROR(member(name));
                KASTEN_RETURN_IF_ERROR(scan_.next_or_close('}', &more));
            }
        }
        if (!scan_.at_end()) return scan_.error("unexpected data after the top-level object");
        return check_complete();
    }

  private:
    Status member(const std::string& name) {
        if (name == "dimensions") {
            return scan_.parse_integer("\"dimensions\"", 1, kKvecMaxDim, &out_->dim);
        }
        if (name == "size") {
            return scan_.parse_integer("\"size\"", 1, static_cast<std::int64_t>(kMaxVocabulary), &out_->size);
        }
        if (name == "l2NormIndex") return scan_.parse_integer("\"l2NormIndex\"", 0, 1 << 20, &out_->l2_norm_index);
        if (name == "wordIndex") return scan_.parse_integer("\"wordIndex\"", 0, 1 << 20, &out_->word_index);
        if (name == "words") return words();
        if (name == "vectors") return vectors();
        return scan_.skip_value();
    }

    Status words() {
        if (out_->have_words) return scan_.error("duplicate \"words\"");
        out_->have_words = true;
        KASTEN_RETURN_IF_ERROR(scan_.expect('['));
        if (scan_.consume(']')) return Status::ok();
        std::string scratch;
        for (bool more = true; more;) {
            std::string_view word;
            KASTEN_RETURN_IF_ERROR(scan_.string(&word, &scratch));
            if (out_->words.size() >= kMaxVocabulary) return scan_.error("too many words");
            out_->words.emplace_back(word);
            KASTEN_RETURN_IF_ERROR(scan_.next_or_close(']', &more));
            progress_->parsed(scan_.pos());
        }
        return Status::ok();
    }

    Status vectors() {
        if (out_->have_vectors) return scan_.error("duplicate \"vectors\"");
        out_->have_vectors = true;
        if (out_->dim < 0 || out_->size < 0) return scan_.error("\"dimensions\" and \"size\" must precede \"vectors\"");
        const std::int64_t dim = out_->dim;
        const std::int64_t size = out_->size;
        std::int64_t extras = 0;
        for (std::int64_t index : {out_->l2_norm_index, out_->word_index}) {
            if (index < 0) continue;
            if (index < dim)
                return scan_.error(fmt::format("extra field index {} lies inside the {} dimensions", index, dim));
            ++extras;
        }
        const std::int64_t row_length = dim + extras;
        for (std::int64_t index : {out_->l2_norm_index, out_->word_index}) {
            if (index >= row_length || (extras == 2 && out_->l2_norm_index == out_->word_index)) {
                return scan_.error(
                    fmt::format("\"l2NormIndex\"/\"wordIndex\" must be distinct and below {}", row_length));
            }
        }
        // Every value takes at least two bytes ("0,"), which bounds what a file of this size can hold.
        if (static_cast<double>(size) * static_cast<double>(row_length) * 2.0 > static_cast<double>(scan_.size())) {
            return scan_.error(
                fmt::format("\"size\" {} x {} values cannot fit in a {}-byte file", size, row_length, scan_.size()));
        }
        out_->vectors.assign(static_cast<std::size_t>(size * dim), 0.0f);
        out_->keys.assign(static_cast<std::size_t>(size), std::string());
        std::vector<std::uint8_t> filled(static_cast<std::size_t>(size), 0);
        std::vector<float> row(static_cast<std::size_t>(dim));

        KASTEN_RETURN_IF_ERROR(scan_.expect('{'));
        if (scan_.consume('}')) return Status::ok();
        std::string scratch;
        std::int64_t appearance = 0;
        for (bool more = true; more; ++appearance) {
            std::string_view key;
            KASTEN_RETURN_IF_ERROR(scan_.string(&key, &scratch));
            const std::string word(key);
            const std::size_t entry_pos = scan_.pos();
            KASTEN_RETURN_IF_ERROR(scan_.expect(':'));
            KASTEN_RETURN_IF_ERROR(scan_.expect('['));
            double norm = -1.0;
            double index = static_cast<double>(appearance);
            std::int64_t count = 0;
            if (!scan_.consume(']')) {
                for (bool more_values = true; more_values; ++count) {
                    if (count >= row_length) {
                        return scan_.error(fmt::format("vector of '{}' has more than {} values", word, row_length));
                    }
                    if (count < dim) {
                        KASTEN_RETURN_IF_ERROR(scan_.parse_float(&row[static_cast<std::size_t>(count)]));
                    } else if (count == out_->l2_norm_index) {
                        KASTEN_RETURN_IF_ERROR(scan_.parse_double(&norm));
                    } else {
                        KASTEN_RETURN_IF_ERROR(scan_.parse_double(&index));
                    }
                    KASTEN_RETURN_IF_ERROR(scan_.next_or_close(']', &more_values));
                }
            }
            if (count != row_length) {
                return scan_.error(fmt::format("vector of '{}' has {} values, expected {} ({} dimensions + {} extra)",
                                               word, count, row_length, dim, extras));
            }
            if (index != std::floor(index) || index < 0 || index >= static_cast<double>(size)) {
                return scan_.error(
                    fmt::format("word index {} of '{}' is not an integer in [0, {})", index, word, size));
            }
            const auto r = static_cast<std::size_t>(index);
            if (filled[r]) {
                return scan_.error(
                    fmt::format("word index {} of '{}' is already used by '{}'", r, word, out_->keys[r]));
            }
            if (out_->l2_norm_index >= 0) {
                double sum = 0.0;
                for (float v : row) sum += static_cast<double>(v) * v;
                const double actual = std::sqrt(sum);
                if (std::fabs(actual - norm) > kNormTolerance * std::max(1.0, std::fabs(norm))) {
                    return Status::invalid_argument(
                        fmt::format("vector of '{}' (near byte {}): stored L2 norm {} but the components give {}", word,
                                    entry_pos, norm, actual));
                }
            }
            filled[r] = 1;
            out_->keys[r] = word;
            std::copy(row.begin(), row.end(), out_->vectors.begin() + static_cast<std::ptrdiff_t>(r * dim));
            ++vectors_seen_;
            KASTEN_RETURN_IF_ERROR(scan_.next_or_close('}', &more));
            progress_->parsed(scan_.pos());
        }
        return Status::ok();
    }

    Status check_complete() {
        auto fail = [&](std::string what) { return Status::invalid_argument(fmt::format("{}: {}", path_, what)); };
        if (out_->dim < 0) return fail("missing \"dimensions\"");
        if (out_->size < 0) return fail("missing \"size\"");
        if (!out_->have_vectors) return fail("missing \"vectors\"");
        if (vectors_seen_ != out_->size) {
            return fail(fmt::format("\"vectors\" has {} entries but \"size\" is {}", vectors_seen_, out_->size));
        }
        if (out_->have_words) {
            if (static_cast<std::int64_t>(out_->words.size()) != out_->size) {
                return fail(fmt::format("\"words\" has {} entries but \"size\" is {}", out_->words.size(), out_->size));
            }
            for (std::size_t i = 0; i < out_->words.size(); ++i) {
                if (out_->words[i] != out_->keys[i]) {
                    return fail(fmt::format("words[{}] is '{}' but the vector with index {} is '{}'", i, out_->words[i],
                                            i, out_->keys[i]));
                }
            }
        }
        std::unordered_set<std::string_view> seen;
        seen.reserve(out_->keys.size());
        for (const std::string& key : out_->keys) {
            if (key.empty()) return fail("empty word");
            if (key.size() > kMaxWordBytes) return fail(fmt::format("a word is longer than {} bytes", kMaxWordBytes));
            if (!seen.insert(key).second) return fail(fmt::format("duplicate word '{}'", key));
        }
        return Status::ok();
    }

    JsonScanner scan_;
    const std::string& path_;
    ProgressReporter* progress_;
    WinkVectors* out_ = nullptr;
    std::int64_t vectors_seen_ = 0;
};

struct FileCloser {
    void operator()(std::FILE* f) const {
        if (f != nullptr) std::fclose(f);
    }
};

// Removes a temporary file on scope exit unless released.
class TempFileGuard {
  public:
    explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
    TempFileGuard(const TempFileGuard&) = delete;
    TempFileGuard& operator=(const TempFileGuard&) = delete;
    ~TempFileGuard() {
        if (!path_.empty()) std::remove(path_.c_str());
    }
    void release() { path_.clear(); }

  private:
    std::string path_;
};

// Writes bytes to a file while computing their CRC-32C.
class ChecksummedWriter {
  public:
    ChecksummedWriter(std::FILE* file, const std::string& path) : file_(file), path_(path) {}
    Status write(const void* data, std::size_t size) {
        crc_ = crc32c_extend(crc_, data, size);
        if (size > 0 && std::fwrite(data, 1, size, file_) != size) {
            return Status::io_error(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
        }
        written_ += size;
        return Status::ok();
    }
    Status zeros(std::size_t size) {
        static constexpr std::array<std::uint8_t, kKvecVectorAlignment> kZeros{};
        while (size > 0) {
            std::size_t n = std::min(size, kZeros.size());
            KASTEN_RETURN_IF_ERROR(write(kZeros.data(), n));
            size -= n;
        }
        return Status::ok();
    }
    std::uint32_t crc() const { return crc_; }
    std::uint64_t written() const { return written_; }

  private:
    std::FILE* file_;
    const std::string& path_;
    std::uint32_t crc_ = 0;
    std::uint64_t written_ = 0;
};

Status write_kvec(const WinkVectors& data, const std::string& out_path, ProgressReporter* progress) {
    const auto count = static_cast<std::uint64_t>(data.size);
    const auto dim = static_cast<std::uint64_t>(data.dim);
    std::uint64_t blob_size = 0;
    for (const std::string& key : data.keys) blob_size += key.size();
    if (blob_size > UINT32_MAX) return Status::invalid_argument("vocabulary text exceeds 4 GiB");

    KvecHeader header;
    header.dim = static_cast<std::uint32_t>(dim);
    header.count = static_cast<std::uint32_t>(count);
    header.offsets_offset = kKvecHeaderSize;
    header.strings_offset = header.offsets_offset + 4 * (count + 1);
    const std::uint64_t strings_end = header.strings_offset + blob_size;
    header.vectors_offset = (strings_end + kKvecVectorAlignment - 1) / kKvecVectorAlignment * kKvecVectorAlignment;
    header.file_size = header.vectors_offset + count * dim * sizeof(float) + kKvecTrailerSize;

    std::error_code ec;
    const std::filesystem::path target(out_path);
    if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
    static std::atomic<unsigned> counter{0};
    const std::string tmp_path = fmt::format("{}.tmp.{}.{}", out_path, ::getpid(), counter++);
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(tmp_path.c_str(), "wb"));
    if (!file) return Status::io_error(fmt::format("cannot create '{}': {}", tmp_path, std::strerror(errno)));
    TempFileGuard guard(tmp_path);
    std::setvbuf(file.get(), nullptr, _IOFBF, 1 << 20);
    ChecksummedWriter out(file.get(), tmp_path);

    const auto header_bytes = encode_kvec_header(header);
    KASTEN_RETURN_IF_ERROR(out.write(header_bytes.data(), header_bytes.size()));
    std::vector<std::uint8_t> offsets(4 * (count + 1));
    std::uint64_t offset = 0;
    for (std::uint64_t i = 0; i <= count; ++i) {
        store_le32(offsets.data() + 4 * i, static_cast<std::uint32_t>(offset));
        if (i < count) offset += data.keys[i].size();
    }
    KASTEN_RETURN_IF_ERROR(out.write(offsets.data(), offsets.size()));
    for (const std::string& key : data.keys) KASTEN_RETURN_IF_ERROR(out.write(key.data(), key.size()));
    KASTEN_RETURN_IF_ERROR(out.zeros(header.vectors_offset - strings_end));
    const std::size_t chunk_rows = std::max<std::size_t>(1, (1 << 22) / (dim * sizeof(float)));
    for (std::size_t row = 0; row < count; row += chunk_rows) {
        const std::size_t rows = std::min<std::size_t>(chunk_rows, count - row);
        KASTEN_RETURN_IF_ERROR(out.write(data.vectors.data() + row * dim, rows * dim * sizeof(float)));
        progress->report(ProgressReporter::kParseShare + (1.0 - ProgressReporter::kParseShare) *
                                                             static_cast<double>(out.written()) /
                                                             static_cast<double>(header.file_size) * 0.99);
    }
    std::array<std::uint8_t, kKvecTrailerSize> trailer{};
    store_le32(trailer.data(), out.crc());
    std::memcpy(trailer.data() + 4, kKvecEndMagic.data(), 4);
    KASTEN_RETURN_IF_ERROR(out.write(trailer.data(), trailer.size()));

    if (std::fflush(file.get()) != 0 || ::fsync(::fileno(file.get())) != 0) {
        return Status::io_error(fmt::format("cannot flush '{}': {}", tmp_path, std::strerror(errno)));
    }
    if (std::fclose(file.release()) != 0) {
        return Status::io_error(fmt::format("cannot close '{}': {}", tmp_path, std::strerror(errno)));
    }
    if (std::rename(tmp_path.c_str(), out_path.c_str()) != 0) {
        return Status::io_error(
            fmt::format("cannot rename '{}' to '{}': {}", tmp_path, out_path, std::strerror(errno)));
    }
    guard.release();
    return Status::ok();
}

}  // namespace

Status convert_glove_json(const std::string& json_path, const std::string& out_path,
                          const std::function<void(double fraction)>& progress) {
    try {
        KASTEN_ASSIGN_OR_RETURN(MappedFile json, MappedFile::open(json_path, MappedFile::Access::kSequential));
        if (json.size() == 0) return Status::invalid_argument(fmt::format("{}: empty file", json_path));
        ProgressReporter reporter(progress, json.size());
        reporter.report(0.0);
        WinkVectors data;
        WinkParser parser(json.bytes(), json_path, &reporter);
        KASTEN_RETURN_IF_ERROR(parser.parse(&data));
        KASTEN_RETURN_IF_ERROR(write_kvec(data, out_path, &reporter));
        reporter.report(1.0);
        return Status::ok();
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(fmt::format("out of memory converting '{}'", json_path));
    }
}

}  // namespace kasten::llm
