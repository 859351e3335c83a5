# cmake/fuzzing.cmake - compiler flags for the fuzzing engines (not written yet).
