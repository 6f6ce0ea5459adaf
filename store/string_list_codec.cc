#include "store/string_list_codec.h"

#include <cstdint>

namespace kasten::store {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_escaped(const std::string& s, std::string* out) {
    out->push_back('"');
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out->append("\\\"");
                break;
            case '\\':
                out->append("\\\\");
                break;
            case '\n':
                out->append("\\n");
                break;
            case '\r':
                out->append("\\r");
                break;
            case '\t':
                out->append("\\t");
                break;
            case '\b':
                out->append("\\b");
                break;
            case '\f':
                out->append("\\f");
                break;
            default:
                if (u < 0x20) {
                    out->append("\\u00");
                    out->push_back(kHex[u >> 4]);
                    out->push_back(kHex[u & 0xf]);
                } else {
                    out->push_back(c);
                }
        }
    }
    out->push_back('"');
}

void append_utf8(std::uint32_t cp, std::string* out) {
    if (cp < 0x80) {
        out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

class Parser {
  public:
    explicit Parser(std::string_view text) : text_(text) {}

    bool parse(std::vector<std::string>* out) {
        out->clear();
        skip_ws();
        if (!consume('[')) return false;
        skip_ws();
        if (consume(']')) return at_end();
        for (;;) {
            skip_ws();
            std::string item;
            if (!parse_string(&item)) return false;
            out->push_back(std::move(item));
            skip_ws();
            if (consume(']')) return at_end();
            if (!consume(',')) return false;
        }
    }

  private:
    bool at_end() {
        skip_ws();
        return pos_ == text_.size();
    }

    void skip_ws() {
        while (pos_ < text_.size() &&
               (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t')) {
            ++pos_;
        }
    }

    bool consume(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    bool parse_hex4(std::uint32_t* out) {
        if (text_.size() - pos_ < 4) return false;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = text_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return false;
            }
        }
        *out = v;
        return true;
    }

    bool parse_string(std::string* out) {
        if (!consume('"')) return false;
        for (;;) {
            if (pos_ >= text_.size()) return false;
            char c = text_[pos_++];
            if (c == '"') return true;
            if (c != '\\') {
                out->push_back(c);
                continue;
            }
            if (pos_ >= text_.size()) return false;
            char e = text_[pos_++];
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out->push_back(e);
                    break;
                case 'b':
                    out->push_back('\b');
                    break;
                case 'f':
                    out->push_back('\f');
                    break;
                case 'n':
                    out->push_back('\n');
                    break;
                case 'r':
                    out->push_back('\r');
                    break;
                case 't':
                    out->push_back('\t');
                    break;
                case 'u': {
                    std::uint32_t cp = 0;
                    if (!parse_hex4(&cp)) return false;
                    if (cp >= 0xdc00 && cp <= 0xdfff) return false;  // lone low surrogate
                    if (cp >= 0xd800 && cp <= 0xdbff) {
                        std::uint32_t low = 0;
                        if (!consume('\\') || !consume('u') || !parse_hex4(&low)) return false;
                        if (low < 0xdc00 || low > 0xdfff) return false;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    }
                    append_utf8(cp, out);
                    break;
                }
                default:
                    return false;
            }
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

void encode_string_list(const std::vector<std::string>& items, std::string* out) {
    out->clear();
    out->push_back('[');
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0) out->push_back(',');
        append_escaped(items[i], out);
    }
    out->push_back(']');
}

std::string encode_string_list(const std::vector<std::string>& items) {
    std::string out;
    encode_string_list(items, &out);
    return out;
}

bool decode_string_list(std::string_view json, std::vector<std::string>* out) {
    return Parser(json).parse(out);
}

}  // namespace kasten::store
