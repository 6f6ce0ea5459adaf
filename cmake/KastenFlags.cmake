# kasten_add_compile_flags(target): the one place compile flags are set.
set(KASTEN_ARCH_FLAGS "-march=x86-64-v3" CACHE STRING "Target CPU flags (default x86-64-v3: AVX2/FMA)")
option(KASTEN_SANITIZE "Build with AddressSanitizer and UBSan" OFF)

function(kasten_add_compile_flags target)
    target_compile_features(${target} PUBLIC cxx_std_20)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter ${KASTEN_ARCH_FLAGS})
    if(KASTEN_SANITIZE)
        target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
        target_link_options(${target} PUBLIC -fsanitize=address,undefined)
    endif()
endfunction()

# kasten_add_tsan_flags(target): ThreadSanitizer build of a target that links no other kasten library (TSan
# needs every racing translation unit instrumented, so such a target compiles its sources itself).
function(kasten_add_tsan_flags target)
    target_compile_features(${target} PUBLIC cxx_std_20)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter ${KASTEN_ARCH_FLAGS}
                                             -fsanitize=thread -g -O1)
    target_link_options(${target} PRIVATE -fsanitize=thread)
endfunction()
