/*
 * test_pyfloat_vectors.c - pyfloat against CPython, on many generated cases.
 *
 * Two modes:
 *   test_pyfloat_vectors          a self-contained check (ctest runs it this
 *                                 way): parse(repr(x)) == x for pseudo-random
 *                                 doubles of every kind, and timing-bounded
 *                                 parses of megabyte literals.
 *   test_pyfloat_vectors --serve  answers requests on stdin, one per line;
 *                                 tests/py/test_pyfloat_vectors.py sends
 *                                 them and compares with CPython's answers:
 *     r HEX16     -> "<repr> <bits of pyfloat_parse(repr)> <status>"
 *     p HEXBYTES  -> "<status> <bits> <consumed>"   (pyfloat_parse)
 *     f HEXBYTES  -> "<status> <bits>"              (pyfloat_from_bytes)
 *   The bytes are hex-encoded because they may hold NUL, newline or any
 *   other byte. The server runs in the locale the environment names.
 */
#include "pyfloat.h"
#include "tcheck.h"

#include <locale.h>
#include <stdlib.h>
#include <time.h>

/* ---- self check ---------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) {
    /* xorshift64*: deterministic, good enough to spread bit patterns. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static int is_nan_bits(uint64_t b) {
    return (b & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
           (b & UINT64_C(0x000fffffffffffff)) != 0;
}

static void check_round_trip(uint64_t bits) {
    char buf[PYFLOAT_REPR_MAX];
    size_t n = pyfloat_repr(pyfloat_from_bits(bits), buf);
    tcheck_checks++;
    if (n != strlen(buf) || n >= PYFLOAT_REPR_MAX) {
        TFAIL_("repr of 0x%016" PRIx64 " has bad length %zu", bits, n);
        return;
    }
    double v = 0;
    size_t used = 0;
    pyfloat_status st = pyfloat_parse(buf, n, &v, &used);
    uint64_t want = is_nan_bits(bits) ? UINT64_C(0x7ff8000000000000) : bits;
    if (st != PYF_OK || used != n || pyfloat_bits(v) != want)
        TFAIL_("parse(repr(0x%016" PRIx64 ")) = parse(\"%s\") -> status %d bits 0x%016" PRIx64,
               bits, buf, (int)st, pyfloat_bits(v));
    double w = 0;
    if (pyfloat_from_bytes(buf, n, &w) != PYF_OK || pyfloat_bits(w) != want)
        TFAIL_("float(b\"%s\") differs from the double it came from", buf);
}

static void test_round_trip_random(void) {
    uint64_t s = UINT64_C(0x9e3779b97f4a7c15);
    for (int i = 0; i < 300000; i++) {
        uint64_t r = rng_next(&s);
        switch (i % 6) {
        case 0: break;                                                   /* any bits */
        case 1: r &= UINT64_C(0x800fffffffffffff); break;                /* subnormal */
        case 2: r &= UINT64_C(0xfff0000000000000); break;                /* power of two */
        case 3: r = (r & UINT64_C(0xfff0000000000000)) | (r & 3); break; /* near one */
        case 4: r = (r & UINT64_C(0x800fffffffffffff)) | (UINT64_C(0x3ff) << 52); break;
        default: r = (r & UINT64_C(0x803fffffffffffff)) | (UINT64_C(0x3e0) << 52); break;
        }
        check_round_trip(r);
    }
}

/* Huge literals must be linear in their length: 4 MB in well under a
 * second even with sanitizers (quadratic work would take hours). */
static void test_huge_literals(void) {
    size_t n = (size_t)1 << 20;
    char *s = malloc(4 * n + 1024);
    CHECK(s != NULL);
    if (!s) return;
    double v = 0;
    size_t used = 0;
    clock_t t0 = clock();

    /* "0." then n zeros, then "1e<n>": exactly 0.1. */
    memcpy(s, "0.", 2);
    memset(s + 2, '0', n);
    int k = snprintf(s + 2 + n, 32, "1e%zu", n);
    CHECK_EQ_INT(pyfloat_parse(s, 2 + n + (size_t)k, &v, &used), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(0.1));
    CHECK_EQ_INT(used, 2 + n + (size_t)k);

    /* 2^-1075, the halfway point between 0 and the smallest subnormal,
     * written out in full, then 4 MB of zeros: a tie, rounds to even (0);
     * a final 1 far beyond the digits kept tips it to 5e-324. */
    static const char half[] =
        "2.470328229206232720882843964341106861825299013071623822127928412503377536351043"
        "75932649918180817996189898282347722858865463328355177969898199387398005390939063"
        "15035659515570226392290858392449105184435931802849936536152500319370457678249219"
        "36562366986365848075700158576926990370631192827955855133292783433840935197801553"
        "12465972635795746227664652728272200563740064854999770965994704540208281662262378"
        "57393450736339007967761930577506740176324673600968951340535537458516661134223766"
        "67860416215968046191446729184030053005753084904876539171138659164623952491262365"
        "38818796362393732804238910186723484976682350898633885879256283027559956575244555"
        "07255189313690836254779186948667994968324049705821028513185451396213837722826145"
        "437693412532098591327667236328125";
    size_t h = strlen(half);
    memcpy(s, half, h);
    memset(s + h, '0', 4 * n);
    memcpy(s + h + 4 * n, "e-324", 6);
    CHECK_EQ_INT(pyfloat_parse(s, h + 4 * n + 5, &v, &used), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), 0);
    CHECK_EQ_INT(used, h + 4 * n + 5);
    s[h + 4 * n - 1] = '1';
    CHECK_EQ_INT(pyfloat_parse(s, h + 4 * n + 5, &v, &used), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), 1);

    /* A million nines before the point: overflow; after "0.": 1.0. */
    memset(s, '9', n);
    CHECK_EQ_INT(pyfloat_parse(s, n, &v, &used), PYF_OVERFLOW);
    memcpy(s, "0.", 2);
    CHECK_EQ_INT(pyfloat_parse(s, n, &v, &used), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(1.0));
    CHECK_EQ_INT(pyfloat_from_bytes(s, n, &v), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(1.0));

    /* Underscores between a million digits, for float(). */
    for (size_t i = 0; i < n; i++)
        s[i] = (i & 1) ? '_' : '1';
    s[n - 1] = '1';
    memcpy(s + n, "e-524288", 8);
    CHECK_EQ_INT(pyfloat_from_bytes(s, n + 8, &v), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(1.1111111111111112));

    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    fprintf(stderr, "huge literals: %.3f s\n", secs);
    CHECK(secs < 2.0);
    free(s);
}

/* ---- server -------------------------------------------------------- */

/* Reads one line (without its newline) into *buf; returns its length, or
 * -1 at end of input. */
static long read_line(char **buf, size_t *cap) {
    size_t n = 0;
    int c;
    while ((c = getchar()) != EOF && c != '\n') {
        if (n + 1 >= *cap) {
            size_t ncap = *cap ? *cap * 2 : 256;
            char *nb = realloc(*buf, ncap);
            if (!nb) return -1;
            *buf = nb;
            *cap = ncap;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0) return -1;
    return (long)n;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex in place; returns the byte count or -1. */
static long unhex(char *s, size_t n) {
    if (n % 2) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        s[i] = (char)(hi * 16 + lo);
    }
    return (long)(n / 2);
}

static int serve(void) {
    /* Take the locale from the environment: the driver asks for one with a
     * decimal comma, to show that nothing depends on it. */
    const char *loc = setlocale(LC_ALL, "");
    fprintf(stderr, "locale: %s (decimal point '%s')\n", loc ? loc : "C",
            localeconv()->decimal_point);
    char *line = NULL;
    size_t cap = 0;
    long n;
    while ((n = read_line(&line, &cap)) >= 0) {
        if (n < 2 || line[1] != ' ') {
            fprintf(stderr, "bad request\n");
            return 2;
        }
        long m = unhex(line + 2, (size_t)n - 2);
        if (m < 0) {
            fprintf(stderr, "bad hex\n");
            return 2;
        }
        const char *arg = line + 2;
        double v = 0;
        size_t used = 0;
        if (line[0] == 'r' && m == 8) {
            uint64_t bits = 0;
            for (int i = 0; i < 8; i++)
                bits = bits << 8 | (unsigned char)arg[i];
            char buf[PYFLOAT_REPR_MAX];
            size_t len = pyfloat_repr(pyfloat_from_bits(bits), buf);
            pyfloat_status st = pyfloat_parse(buf, len, &v, &used);
            if (used != len) st = PYF_INVALID;
            printf("%s %016" PRIx64 " %d\n", buf, pyfloat_bits(v), (int)st);
        } else if (line[0] == 'p') {
            pyfloat_status st = pyfloat_parse(arg, (size_t)m, &v, &used);
            if (st == PYF_INVALID) v = 0, used = 0;
            printf("%d %016" PRIx64 " %zu\n", (int)st, pyfloat_bits(v), used);
        } else if (line[0] == 'f') {
            pyfloat_status st = pyfloat_from_bytes(arg, (size_t)m, &v);
            if (st != PYF_OK) v = 0;
            printf("%d %016" PRIx64 "\n", (int)st, pyfloat_bits(v));
        } else {
            fprintf(stderr, "bad request\n");
            return 2;
        }
    }
    free(line);
    return fflush(stdout) == 0 ? 0 : 2;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--serve") == 0) return serve();
    TRUN(test_round_trip_random);
    TRUN(test_huge_literals);
    return TDONE();
}
