/*
 * fuzz_assert.h - FUZZ_ASSERT(cond, fmt, ...): the fuzz targets' one way to
 * report a broken property.
 *
 * Unlike assert() it stays on in release builds (the fuzzing presets are
 * RelWithDebInfo, and NDEBUG must not silence the oracle of a fuzzer). On
 * failure it prints ONE line to stderr,
 *
 *   FUZZ_ASSERT failed: fuzz_decode.c:42: eq: canonical text changed ...
 *
 * with control characters of the message escaped and long messages cut, so
 * that logs and crash triage can rely on one line per finding, and then
 * calls abort(): libFuzzer and AFL++ see a crash and save the input; the
 * replay driver prints the input's path from its SIGABRT handler.
 */
#ifndef BRINE_FUZZ_ASSERT_H
#define BRINE_FUZZ_ASSERT_H

#if defined(__GNUC__) || defined(__clang__)
#define FUZZ_NORETURN  __attribute__((noreturn))
#define FUZZ_PRINTF(i) __attribute__((format(printf, i, i + 1)))
#else
#define FUZZ_NORETURN
#define FUZZ_PRINTF(i)
#endif

/* Prints the one-line description and aborts. */
FUZZ_NORETURN FUZZ_PRINTF(4) void fuzz_fail(const char *file, int line, const char *cond,
                                            const char *fmt, ...);

#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                            \
    } while (0)

#endif
