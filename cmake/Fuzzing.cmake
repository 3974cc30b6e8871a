# SPDX-License-Identifier: Apache-2.0
# ATT_FUZZ=ON: build tests/fuzz/fuzz_*.c as libFuzzer targets (shared/STYLE.md §9).
# Needs clang (-DCMAKE_C_COMPILER=clang) and its compiler-rt fuzzer runtime
# (Debian: libclang-rt-dev, for the default clang).
# Everything, the libraries included, is compiled with coverage instrumentation
# (-fsanitize=fuzzer-no-link) plus ASan and UBSan; only the fuzz executables
# link the libFuzzer runtime and its main() (tests/CMakeLists.txt). Without
# ATT_FUZZ nothing changes: tests/fuzz/replay_main.c replays the corpora.
# Include after Hardening so that the -U_FORTIFY_SOURCE below wins: the
# fortified libc wrappers would hide accesses from ASan's interceptors.
option(ATT_FUZZ "Build libFuzzer targets from tests/fuzz (clang only)" OFF)

if(ATT_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ATT_FUZZ=ON needs clang: -DCMAKE_C_COMPILER=clang")
  endif()
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer")
  check_c_source_compiles("
    #include <stddef.h>
    #include <stdint.h>
    int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
    int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }"
    ATT_HAVE_LIBFUZZER)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT ATT_HAVE_LIBFUZZER)
    string(REGEX MATCH "^[0-9]+" _att_clang_major "${CMAKE_C_COMPILER_VERSION}")
    message(FATAL_ERROR "clang cannot link -fsanitize=fuzzer: install the compiler-rt "
                        "package for this clang (Debian: libclang-rt-${_att_clang_major}-dev)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -U_FORTIFY_SOURCE)
  add_link_options(-fsanitize=address,undefined)
  set(ATT_FUZZ_LINK_OPTIONS -fsanitize=fuzzer,address,undefined)
endif()
