# harness/targets.cmake - THE list of fuzz targets. harness/CMakeLists.txt
# includes it; scripts read it with `cmake -P harness/targets.cmake`, which
# prints the names one per line, so no script hard-codes the list.
# Each name N is harness/fuzz_N.c, corpus/seeds/N/ and corpus/options/N.options.
set(BRINE_FUZZ_TARGETS decode canon encode diff)

if(CMAKE_SCRIPT_MODE_FILE AND CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  foreach(_t IN LISTS BRINE_FUZZ_TARGETS)
    # message() writes to stderr; scripts want stdout.
    execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${_t}")
  endforeach()
endif()
