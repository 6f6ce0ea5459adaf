#include "memory/input_validation.h"

namespace kasten::memory {

Status validate_identifier(std::string_view field, std::string_view value) {
    if (value.empty()) return Status::invalid_argument(std::string(field) + " must not be empty");
    if (value.size() > 128) return Status::invalid_argument(std::string(field) + " is longer than 128 characters");
    for (char c : value) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == ':' || c == '-';
        if (!ok) {
            return Status::invalid_argument(std::string(field) +
                                            " may contain only letters, digits and . _ : - (got '" +
                                            std::string(value.substr(0, 64)) + "')");
        }
    }
    return Status::ok();
}

bool is_valid_utf8(std::string_view s) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int len;
        unsigned cp;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (int k = 1; k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

Status validate_text(std::string_view field, std::string_view value, bool allow_empty) {
    if (!allow_empty && value.empty()) return Status::invalid_argument(std::string(field) + " must not be empty");
    if (value.find('\0') != std::string_view::npos) {
        return Status::invalid_argument(std::string(field) + " must not contain NUL characters");
    }
    if (!is_valid_utf8(value)) return Status::invalid_argument(std::string(field) + " is not valid UTF-8");
    return Status::ok();
}

Status validate_role(std::string_view role) {
    if (role == "user" || role == "assistant" || role == "system" || role == "tool") return Status::ok();
    return Status::invalid_argument("role must be one of user, assistant, system, tool (got '" +
                                    std::string(role.substr(0, 32)) + "')");
}

}  // namespace kasten::memory
