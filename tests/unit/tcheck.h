/*
 * tcheck.h - the smallest test harness that does the job.
 *
 * A test file defines functions `static void test_x(void)` and a main()
 * that calls TRUN(test_x) for each and returns TDONE(). Checks record the
 * failure with file and line and carry on; TDONE() prints a summary and
 * gives the exit status ctest reads.
 */
#ifndef BRINE_TCHECK_H
#define BRINE_TCHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tcheck_failures;
static int tcheck_checks;
static const char *tcheck_current = "";

#define TFAIL_(...)                                                                                \
    do {                                                                                           \
        tcheck_failures++;                                                                         \
        fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, tcheck_current);                        \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        tcheck_checks++;                                                                           \
        if (!(cond)) TFAIL_("CHECK(%s) failed", #cond);                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        tcheck_checks++;                                                                           \
        if (a_ != b_) TFAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                            \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                           \
        tcheck_checks++;                                                                           \
        if (a_ != b_) TFAIL_("%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, #a, #b, a_, b_);             \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        tcheck_checks++;                                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            TFAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
    } while (0)

/* Compares n bytes; prints both as escaped text on failure. */
#define CHECK_EQ_MEM(a, alen, b, blen)                                                             \
    do {                                                                                           \
        const void *a_ = (a), *b_ = (b);                                                           \
        size_t al_ = (alen), bl_ = (blen);                                                         \
        tcheck_checks++;                                                                           \
        if (al_ != bl_ || memcmp(a_, b_, al_) != 0) {                                              \
            TFAIL_("%s == %s: lengths %zu, %zu", #a, #b, al_, bl_);                                \
            tcheck_dump_("  got", a_, al_);                                                        \
            tcheck_dump_("  want", b_, bl_);                                                       \
        }                                                                                          \
    } while (0)

static inline void tcheck_dump_(const char *label, const void *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    fprintf(stderr, "%s: \"", label);
    for (size_t i = 0; i < n && i < 400; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' && s[i] != '"')
            fputc(s[i], stderr);
        else
            fprintf(stderr, "\\x%02x", s[i]);
    }
    fprintf(stderr, n > 400 ? "\"...\n" : "\"\n");
}

#define TRUN(fn)                                                                                   \
    do {                                                                                           \
        tcheck_current = #fn;                                                                      \
        fn();                                                                                      \
    } while (0)

#define TDONE()                                                                                    \
    (fprintf(stderr, "%s: %d checks, %d failures\n", __FILE__, tcheck_checks, tcheck_failures),    \
     tcheck_failures ? 1 : 0)

#endif
