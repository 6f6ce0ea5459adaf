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

# kasten_add_tsan_test(target source...): a GoogleTest executable built with ThreadSanitizer from its sources alone,
# linking no kasten library (TSan needs every racing translation unit instrumented, so the target compiles the code
# under test itself). Its tests run in every build's ctest, prefixed "tsan."; any TSan report fails them
# (halt_on_error, exit code 66). Not in sanitizer builds (KASTEN_SANITIZE), which instrument differently.
function(kasten_add_tsan_test target)
    if(KASTEN_SANITIZE)
        return()
    endif()
    add_executable(${target} ${ARGN})
    target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} PRIVATE GTest::gtest GTest::gtest_main Threads::Threads)
    target_compile_features(${target} PUBLIC cxx_std_20)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter ${KASTEN_ARCH_FLAGS}
                                             -fsanitize=thread -g -O1)
    target_link_options(${target} PRIVATE -fsanitize=thread)
    gtest_discover_tests(${target} TEST_PREFIX tsan.
        PROPERTIES LABELS unit TIMEOUT 300 ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:exitcode=66"
        DISCOVERY_TIMEOUT 60)
endfunction()
