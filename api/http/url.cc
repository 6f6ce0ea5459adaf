#include "api/http/url.h"

#include "memory/input_validation.h"

namespace kasten::api {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) {
                return Status::invalid_argument("bad percent-escape in the URL");
            }
            int hi = hex_value(text[i + 1]);
            int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return Status::invalid_argument("bad percent-escape in the URL");
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    if (out.find('\0') != std::string::npos || !memory::is_valid_utf8(out)) {
        return Status::invalid_argument("the URL does not decode to valid UTF-8 text");
    }
    return out;
}

Result<std::vector<std::string>> split_path(std::string_view raw_path) {
    std::vector<std::string> segments;
    if (raw_path.empty() || raw_path.front() != '/') return segments;
    raw_path.remove_prefix(1);
    if (!raw_path.empty() && raw_path.back() == '/') raw_path.remove_suffix(1);
    if (raw_path.empty()) return segments;
    size_t start = 0;
    while (true) {
        size_t end = raw_path.find('/', start);
        std::string_view seg =
            raw_path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        KASTEN_ASSIGN_OR_RETURN(std::string decoded, percent_decode(seg, false));
        segments.push_back(std::move(decoded));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return segments;
}

Result<std::map<std::string, std::string>> parse_query(std::string_view raw_query) {
    std::map<std::string, std::string> out;
    size_t start = 0;
    while (start < raw_query.size()) {
        size_t end = raw_query.find('&', start);
        if (end == std::string_view::npos) end = raw_query.size();
        std::string_view pair = raw_query.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) continue;
        size_t eq = pair.find('=');
        KASTEN_ASSIGN_OR_RETURN(std::string name, percent_decode(pair.substr(0, eq), true));
        std::string value;
        if (eq != std::string_view::npos) {
            KASTEN_ASSIGN_OR_RETURN(value, percent_decode(pair.substr(eq + 1), true));
        }
        if (out.count(name) != 0) {
            return Status::invalid_argument("query parameter '" + name + "' is given more than once");
        }
        out.emplace(std::move(name), std::move(value));
    }
    return out;
}

std::string percent_encode(std::string_view text) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        unsigned char u = static_cast<unsigned char>(c);
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                     c == '_' || c == '~' || c == '-';
        if (plain) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        }
    }
    return out;
}

}  // namespace kasten::api
