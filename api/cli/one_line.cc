#include "api/cli/one_line.h"

namespace kasten::api {

std::string one_line(const std::string& text, std::size_t max_bytes) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    if (out.size() <= max_bytes) return out;
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    return out.substr(0, cut) + "…";
}

}  // namespace kasten::api
