#include "llm/unicode_nfkc.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <climits>
#include <vector>

namespace kasten::llm {
namespace {

constexpr UChar32 kReplacement = 0xFFFD;

// UTF-8 -> UTF-16 with U+FFFD for invalid sequences; empty on failure.
std::vector<UChar> to_utf16(std::string_view utf8) {
    std::vector<UChar> out(utf8.size() + 1);
    int32_t length = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8WithSub(out.data(), static_cast<int32_t>(out.size()), &length, utf8.data(),
                         static_cast<int32_t>(utf8.size()), kReplacement, nullptr, &status);
    if (U_FAILURE(status)) return {};
    out.resize(static_cast<std::size_t>(length));
    return out;
}

std::string to_utf8(const std::vector<UChar>& utf16) {
    std::string out(utf16.size() * 3 + 1, '\0');
    int32_t length = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strToUTF8WithSub(out.data(), static_cast<int32_t>(out.size()), &length, utf16.data(),
                       static_cast<int32_t>(utf16.size()), kReplacement, nullptr, &status);
    if (U_FAILURE(status)) return {};
    out.resize(static_cast<std::size_t>(length));
    return out;
}

}  // namespace

std::string to_nfkc(std::string_view utf8) {
    if (utf8.empty() || utf8.size() > static_cast<std::size_t>(INT32_MAX / 4)) return {};
    const std::vector<UChar> input = to_utf16(utf8);
    if (input.empty()) return {};
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* nfkc = unorm2_getNFKCInstance(&status);
    if (U_FAILURE(status)) return to_utf8(input);
    // NFKC can expand a code unit up to 18 times (U+FDFA); grow on U_BUFFER_OVERFLOW_ERROR.
    std::vector<UChar> output(input.size() * 2 + 16);
    for (int attempt = 0; attempt < 2; ++attempt) {
        status = U_ZERO_ERROR;
        const int32_t length = unorm2_normalize(nfkc, input.data(), static_cast<int32_t>(input.size()), output.data(),
                                                static_cast<int32_t>(output.size()), &status);
        if (status == U_BUFFER_OVERFLOW_ERROR) {
            output.resize(static_cast<std::size_t>(length) + 1);
            continue;
        }
        if (U_FAILURE(status)) return to_utf8(input);
        output.resize(static_cast<std::size_t>(length));
        return to_utf8(output);
    }
    return to_utf8(input);
}

}  // namespace kasten::llm
