# cmake/fuzzing.cmake - compiler flags for the fuzzing engines (included
# before libbrine is defined, so that the library is instrumented too).
# BRINE_FUZZ_ENGINE: replay (default, any compiler), libfuzzer, afl, external
# (OSS-Fuzz style: $CC, $CFLAGS and $LIB_FUZZING_ENGINE from the environment).
#
# The flags are global (add_compile_options) on purpose: coverage feedback
# and sanitizers are only useful when the library under test carries them,
# not just the fuzz target's own file. harness/CMakeLists.txt adds the
# engine's driver at link time through BRINE_FUZZ_LINK_FLAGS.

if(BRINE_FUZZ_ENGINE STREQUAL "replay")
  # Plain builds: the targets link harness/replay.c, which has main().
  set(BRINE_FUZZ_LINK_FLAGS "")
elseif(BRINE_FUZZ_ENGINE STREQUAL "libfuzzer")
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BRINE_FUZZ_ENGINE=libfuzzer needs clang (got ${CMAKE_C_COMPILER_ID}); "
                        "use the libfuzzer preset")
  endif()
  # fuzzer-no-link: coverage and comparison tracing without libFuzzer's
  # main(); only the fuzz targets link the engine itself. Recovery is off
  # so that UBSan findings abort and the engine saves the input.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=all -gline-tables-only)
  # A known, reported UBSan finding can stop every run at its first input;
  # list its check here (e.g. pointer-overflow) to fuzz past it meanwhile.
  set(BRINE_FUZZ_UBSAN_EXCLUDE "" CACHE STRING "UBSan checks to leave out of the libfuzzer build")
  if(BRINE_FUZZ_UBSAN_EXCLUDE)
    string(REPLACE ";" "," _ubsan_exclude "${BRINE_FUZZ_UBSAN_EXCLUDE}")
    add_compile_options(-fno-sanitize=${_ubsan_exclude})
  endif()
  add_link_options(-fsanitize=address,undefined)
  set(BRINE_FUZZ_LINK_FLAGS -fsanitize=fuzzer,address,undefined)
elseif(BRINE_FUZZ_ENGINE STREQUAL "afl")
  get_filename_component(_cc_name "${CMAKE_C_COMPILER}" NAME)
  if(NOT _cc_name MATCHES "^afl-")
    message(FATAL_ERROR "BRINE_FUZZ_ENGINE=afl needs afl-clang-fast as the C compiler "
                        "(got ${CMAKE_C_COMPILER}); use the afl preset")
  endif()
  # afl-clang-fast instruments every file it compiles. -fsanitize=fuzzer at
  # link time makes it link AFL++'s libFuzzer-compatible persistent driver
  # (libAFLDriver). No sanitizer: AFL++ instances run fastest without one,
  # the libFuzzer build is the ASan/UBSan one, and FUZZ_ASSERT aborts anyway.
  set(BRINE_FUZZ_LINK_FLAGS -fsanitize=fuzzer)
elseif(BRINE_FUZZ_ENGINE STREQUAL "external")
  # OSS-Fuzz and ClusterFuzzLite (.clusterfuzzlite/build.sh): the build
  # environment owns the compiler, the sanitizers and the coverage flags
  # ($CC and $CFLAGS, which CMake reads by itself), so nothing is added at
  # compile time; the engine to link is $LIB_FUZZING_ENGINE, a flag
  # (-fsanitize=fuzzer) or a driver library (AFL++'s libAFLDriver.a).
  set(BRINE_FUZZ_ENGINE_LINK "$ENV{LIB_FUZZING_ENGINE}" CACHE STRING
      "Link flags or library of the external fuzzing engine (default: $LIB_FUZZING_ENGINE)")
  if(NOT BRINE_FUZZ_ENGINE_LINK)
    message(FATAL_ERROR "BRINE_FUZZ_ENGINE=external needs LIB_FUZZING_ENGINE in the environment "
                        "(or -DBRINE_FUZZ_ENGINE_LINK=...)")
  endif()
  separate_arguments(BRINE_FUZZ_LINK_FLAGS UNIX_COMMAND "${BRINE_FUZZ_ENGINE_LINK}")
else()
  message(FATAL_ERROR "BRINE_FUZZ_ENGINE must be replay, libfuzzer, afl or external "
                      "(got ${BRINE_FUZZ_ENGINE})")
endif()
