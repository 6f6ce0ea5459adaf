// Cube archives as `kasten import` and POST /v1/cubes/{cube}/import read them (memory/cube_archive.h). An archive
// that reads back is written again; the written archive must read back to the same records.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "memory/cube_archive.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace kasten::memory;
    std::istringstream in{std::string(kasten::fuzz::as_text(data, size))};
    auto archive = read_cube_archive(in);
    if (!archive.is_ok()) return 0;
    std::ostringstream out;
    KASTEN_FUZZ_CHECK(write_cube_archive(archive.value(), out).is_ok());
    std::string first = out.str();
    std::istringstream again_in{first};
    auto again = read_cube_archive(again_in);
    KASTEN_FUZZ_CHECK(again.is_ok());
    std::ostringstream again_out;
    KASTEN_FUZZ_CHECK(write_cube_archive(again.value(), again_out).is_ok());
    KASTEN_FUZZ_CHECK(again_out.str() == first);
    return 0;
}
