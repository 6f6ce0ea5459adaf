# kasten_add_compile_flags(target): the one place compile flags are set.
set(KASTEN_ARCH_FLAGS "-march=x86-64-v3" CACHE STRING "Target CPU flags (default x86-64-v3: AVX2/FMA)")
option(KASTEN_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
option(KASTEN_TSAN "Build with ThreadSanitizer (scripts/test.sh builds the concurrency tests this way)" OFF)

function(kasten_add_compile_flags target)
    target_compile_features(${target} PUBLIC cxx_std_20)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter ${KASTEN_ARCH_FLAGS})
    if(KASTEN_SANITIZE OR KASTEN_FUZZ)
        # Any UBSan finding aborts, so it fails the test or the fuzz run instead of printing and going on.
        target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all
                                                 -fno-omit-frame-pointer)
        target_link_options(${target} PUBLIC -fsanitize=address,undefined -fno-sanitize-recover=all)
    endif()
    if(KASTEN_TSAN)
        target_compile_options(${target} PRIVATE -fsanitize=thread)
        target_link_options(${target} PUBLIC -fsanitize=thread)
    endif()
    if(KASTEN_FUZZ)
        # Coverage feedback for libFuzzer in every kasten library; the fuzz executables add -fsanitize=fuzzer.
        target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
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
