#include "eval/file_digest.h"

#include <fstream>
#include <vector>

#include "common/sha256.h"

namespace kasten::eval {

Result<std::string> file_sha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::not_found("cannot open '" + path + "'");
    Sha256 sha;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0) sha.update(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) return Status::io_error("reading '" + path + "' failed");
    return sha.hex_digest();
}

}  // namespace kasten::eval
