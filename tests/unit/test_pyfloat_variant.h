/*
 * test_pyfloat_variant.h - compares a second build of src/pyfloat.c and
 * src/pyfloat_parse.c with the library's.
 *
 * test_pyfloat_exact.c and test_pyfloat_slack.c include both files with
 * their functions renamed to *_v and a test knob changed, so that the paths
 * ordinary inputs rarely or never take (the exact big-integer code, the
 * fallback from the 128-bit approximations) run on every kind of input;
 * then this driver checks that both builds agree bit for bit. The library
 * itself is compared with CPython by tests/py/test_pyfloat_vectors.py.
 */
#ifndef BRINE_TEST_PYFLOAT_VARIANT_H
#define BRINE_TEST_PYFLOAT_VARIANT_H

#include "tcheck.h"

#include <stdlib.h>

/* The library's functions (pyfloat.h was included under the *_v names). */
size_t pyfloat_repr(double x, char *buf);
pyfloat_status pyfloat_parse(const char *s, size_t len, double *out, size_t *consumed);
pyfloat_status pyfloat_from_bytes(const char *s, size_t len, double *out);
uint64_t pyfloat_bits(double x);
double pyfloat_from_bits(uint64_t bits);

static uint64_t variant_rng(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Appends nd random decimal digits at s[n]; returns the new length. */
static size_t variant_digits(uint64_t *st, char *s, size_t n, size_t nd) {
    uint64_t t = variant_rng(st);
    for (size_t j = 0; j < nd; j++) {
        s[n++] = (char)('0' + t % 10);
        t = t / 10 ? t / 10 : variant_rng(st);
    }
    return n;
}

/* Inserts a '.' at s[at], at <= n; returns the new length. */
static size_t variant_point(char *s, size_t n, size_t at) {
    memmove(s + at + 1, s + at, n - at);
    s[at] = '.';
    return n + 1;
}

static void variant_repr(uint64_t bits) {
    char a[PYFLOAT_REPR_MAX], b[PYFLOAT_REPR_MAX];
    pyfloat_repr(pyfloat_from_bits(bits), a);
    pyfloat_repr_v(pyfloat_from_bits(bits), b);
    tcheck_checks++;
    if (strcmp(a, b) != 0) TFAIL_("repr(0x%016" PRIx64 "): %s here, %s in the variant", bits, a, b);
}

static void variant_parse(const char *s, size_t n) {
    double x = 0, y = 0;
    size_t ux = 0, uy = 0;
    pyfloat_status sx = pyfloat_parse(s, n, &x, &ux);
    pyfloat_status sy = pyfloat_parse_v(s, n, &y, &uy);
    tcheck_checks++;
    if (sx != sy || (sx != PYF_INVALID && (pyfloat_bits(x) != pyfloat_bits(y) || ux != uy)))
        TFAIL_("parse(\"%.*s\"): %d 0x%016" PRIx64 " %zu here, %d 0x%016" PRIx64
               " %zu in the variant",
               (int)n, s, (int)sx, pyfloat_bits(x), ux, (int)sy, pyfloat_bits(y), uy);
}

static void test_variant_repr(void) {
    uint64_t st = UINT64_C(0x243f6a8885a308d3);
    for (uint64_t e = 0; e < 2047; e++)
        for (uint64_t d = 0; d < 4; d++) {
            variant_repr((e << 52) + d);
            if (e) variant_repr((e << 52) - d - 1);
        }
    for (int i = 0; i < 200000; i++) {
        uint64_t r = variant_rng(&st);
        switch (i % 4) {
        case 0: break;
        case 1: r &= UINT64_C(0x000fffffffffffff) >> (r % 52); break; /* subnormal */
        case 2: r = (r & UINT64_C(0x801fffffffffffff)) | (UINT64_C(0x3f0) << 52); break;
        default: r &= ~(UINT64_C(0xffffffff) >> (r % 32)); break; /* short mantissas */
        }
        variant_repr(r);
    }
}

static void test_variant_parse(void) {
    uint64_t st = UINT64_C(0x13198a2e03707344);
    char s[96];
    for (int i = 0; i < 150000; i++) {
        uint64_t r = variant_rng(&st);
        size_t n;
        if (i % 3 == 0) {
            /* repr of a random double, with its last digit nudged. */
            n = pyfloat_repr(pyfloat_from_bits(r), s);
            if (i % 2 && n > 4 && s[n - 1] >= '0' && s[n - 1] <= '9')
                s[n - 1] = (char)('0' + (r >> 60) % 10);
        } else {
            /* 1 to 40 random digits, maybe a point, an exponent in
             * [-420, 420]. */
            size_t nd = 1 + (size_t)(r % 40);
            n = variant_digits(&st, s, 0, nd);
            if (r & 0x100) n = variant_point(s, n, (size_t)(r >> 20) % (n + 1));
            n += (size_t)snprintf(s + n, sizeof s - n, "e%d", (int)((r >> 32) % 841) - 420);
        }
        variant_parse(s, n);
    }
}

/* Also checks s against the C library's strtod (correctly rounded in the
 * "C" locale): the same bytes parsed, the same value. Skipped where the two
 * syntaxes differ: leading space, hex, inf and nan. */
static void variant_parse_strtod(const char *s, size_t n) {
    variant_parse(s, n);
    char buf[128];
    size_t m = 0;
    while (m < n && m < sizeof buf - 1 && s[m] != '\0') {
        buf[m] = s[m];
        m++;
    }
    buf[m] = '\0';
    if (m == sizeof buf - 1 || strpbrk(buf, "xXiInN") || (m && strchr(" \t\n\v\f\r", buf[0])))
        return;
    double x = 0;
    size_t used = 0;
    pyfloat_status st = pyfloat_parse(s, n, &x, &used);
    char *end;
    double y = strtod(buf, &end);
    size_t strtod_used = (size_t)(end - buf);
    tcheck_checks++;
    if (st == PYF_INVALID
            ? strtod_used != 0
            : strtod_used != used || (st == PYF_OK && pyfloat_bits(x) != pyfloat_bits(y)))
        TFAIL_("parse(\"%s\"): %d 0x%016" PRIx64 " %zu here, strtod 0x%016" PRIx64 " %zu", buf,
               (int)st, pyfloat_bits(x), used, pyfloat_bits(y), strtod_used);
}

/* The literals the short-significand shortcuts take (at most 19 digits
 * after the leading zeros, exponents within 10^+-27, repr's and printf's
 * layouts), their boundaries, and what may surround them in a FLOAT line. */
static void test_variant_parse_short(void) {
    static const char *const fixed[] = {
        "0",
        "-0",
        "0.0",
        "-0.0",
        "00.000",
        "1.",
        ".5",
        "-.5e-5",
        "1.5\n",
        "  1.5\n",
        "1.5 ",
        "1.5x",
        "1e",
        "1e+",
        "1e-",
        "1.e5",
        "37.04118725828456",
        "13.684301262677446",
        "70.1161811253186",
        "9007199254740992",
        "9007199254740993",
        "9007199254740994",
        "9007199254740993.0",
        "9007199254740993e0",
        "1e22",
        "1e23",
        "8.41e21",
        "1e27",
        "1e28",
        "1e-27",
        "1e-28",
        "9999999999999999999",
        "9999999999999999999e27",
        "9999999999999999999e-27",
        "99999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775808",
        "92233720368547758080",
        "922337203685477580800000",
        "92233720368547758080000000000000000000000000e-30",
        "0.000000000000000000000000000001",
        "0.0001234567890123456789",
        "123456789012345678e-27",
        "1234567890123456789e27",
        "0.1",
        "0.2",
        "0.3",
        "2.675",
        "1e-7",
        "4.35679719387262e15",
        "4.9406564584124654e-324",
        "2.2250738585072011e-308",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "5e-324",
        "1e-400",
        "1e400",
        "123456789012345678901234567890",
        "0.5e-0",
        "000000000000000000000000001.5",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        variant_parse_strtod(fixed[i], strlen(fixed[i]));
    /* A NUL inside (the length runs past it, as in a FLOAT line): what
     * follows it must not count. */
    variant_parse_strtod("1.5\0"
                         "99",
                         6);
    variant_parse_strtod("12345678\0"
                         "9",
                         10);
    variant_parse_strtod("1e5\0"
                         "5",
                         5);

    /* Every byte inside and after a word of eight digits. */
    for (int c = 0; c < 256; c++)
        for (int at = 0; at < 9; at++) {
            char w[24] = "0.123456789012345678";
            w[2 + at] = (char)c;
            variant_parse_strtod(w, 20);
        }

    uint64_t st = UINT64_C(0xa4093822299f31d0);
    char s[96];
    for (int i = 0; i < 300000; i++) {
        uint64_t r = variant_rng(&st), t = variant_rng(&st);
        size_t n = 0;
        switch (i % 6) {
        case 0: { /* repr of a double in [0, 100) (the records' scores) */
            double x = (double)(r >> 11) * 0x1p-53 * 100;
            n = pyfloat_repr(t & 1 ? -x : x, s);
            break;
        }
        case 1: { /* repr of a double near 2^-90 .. 2^90 */
            uint64_t bits = (r & UINT64_C(0x800fffffffffffff)) | ((uint64_t)(933 + t % 180) << 52);
            n = pyfloat_repr(pyfloat_from_bits(bits), s);
            break;
        }
        case 2: /* printf's layouts, 1 to 19 significant digits */
            n = (size_t)snprintf(s, sizeof s, t & 1 ? "%.*e" : "%.*g", (int)(t >> 1) % 19 + 1,
                                 pyfloat_from_bits((r & ~(UINT64_C(0x7ff) << 52)) |
                                                   ((uint64_t)(950 + (t >> 8) % 150) << 52)));
            break;
        default: { /* 1 to 21 digits, leading zeros, a point, an exponent */
            size_t zeros = t % 4 == 0 ? (size_t)(t >> 4) % 25 : 0;
            size_t nd = 1 + (size_t)(r % 21);
            if (t & 0x100) s[n++] = (t & 0x200) ? '-' : '+';
            for (size_t j = 0; j < zeros; j++)
                s[n++] = '0';
            n = variant_digits(&st, s, n, nd);
            if (r & 0x8000) n = variant_point(s, n, (size_t)(r >> 20) % (n + 1));
            if (r & 0x10000)
                n += (size_t)snprintf(s + n, sizeof s - n, "%s%d", (r & 0x20000) ? "E" : "e",
                                      (int)((r >> 40) % 61) - 30);
            /* What may follow: the newline, junk, a NUL and more digits. */
            static const char *const tails[] = {"", "\n", "x", "e", "e+", ".5", " "};
            const char *tail = tails[(t >> 32) % 7];
            size_t tl = strlen(tail);
            memcpy(s + n, tail, tl);
            n += tl;
            break;
        }
        }
        variant_parse_strtod(s, n);
    }
}

/* Halfway points between doubles that have at most 19 significant digits,
 * and the decimals one unit in their last digit away: ties to even and
 * the remainder of the shortcuts decide these. A double m * 2^q (m of 53
 * bits) has the halfway point (2m + 1) * 2^(q - 1) above it. */
static void test_variant_parse_halfway(void) {
    static const uint64_t pow5[] = {1, 5, 25, 125};
    uint64_t st = UINT64_C(0x452821e638d01377);
    char s[96];
    for (int i = 0; i < 60000; i++) {
        uint64_t r = variant_rng(&st), t = variant_rng(&st);
        uint64_t odd = ((UINT64_C(1) << 53) | (r >> 11)) | 1; /* 2m + 1, 54 bits */
        uint64_t digits;
        int e10;
        switch (i % 3) {
        case 0: /* q - 1 = -k: (2m + 1) * 5^k * 10^-k, k = 1..3 */
            e10 = -(int)(1 + t % 3);
            digits = odd * pow5[-e10];
            break;
        case 1: /* q - 1 = 0..9: an integer */
            e10 = 0;
            digits = odd << (t % 10);
            break;
        default: { /* (D * 5^e) * 2^s, D * 5^e odd of 54 bits: D * 2^(s - e) * 10^e */
            int e = 1 + (int)(t % 20);
            uint64_t p5 = 1;
            for (int k = 0; k < e; k++)
                p5 *= 5;
            uint64_t lo = ((UINT64_C(1) << 53) + p5 - 1) / p5, hi = ((UINT64_C(1) << 54) - 1) / p5;
            uint64_t d = (lo + (r >> 11) % (hi - lo + 1)) | 1;
            if (d > hi) continue;
            unsigned shift = (unsigned)(t >> 8) % 6;
            if (d > UINT64_C(9999999999999999999) >> shift) continue;
            digits = d << shift;
            e10 = e;
            break;
        }
        }
        for (int nudge = -1; nudge <= 1; nudge++) {
            int n;
            if (nudge == 0) {
                n = snprintf(s, sizeof s, "%" PRIu64 "e%d", digits, e10);
            } else {
                /* One unit in a 20th digit place away (an extra digit). */
                if (digits > UINT64_C(1844674407370955161)) continue;
                uint64_t dd = digits * 10 + (nudge > 0 ? 1 : UINT64_C(0) - 1);
                n = snprintf(s, sizeof s, "%" PRIu64 "e%d", dd, e10 - 1);
            }
            variant_parse_strtod(s, (size_t)n);
            /* And as a plain decimal with a point when the exponent is negative. */
            if (nudge == 0 && e10 < 0) {
                n = snprintf(s, sizeof s, "%" PRIu64, digits);
                memmove(s + n + e10 + 1, s + n + e10, (size_t)-e10);
                s[n + e10] = '.';
                variant_parse_strtod(s, (size_t)n + 1);
            }
        }
    }
}

#if defined(__SIZEOF_INT128__)
/* Decimals of at most 19 digits just below and just above a halfway point
 * M = X * 2^j (X odd, 54 bits): D * 10^e with D the floor or ceil of
 * M / 10^e, and D * 10^-e with D the floor or ceil of M * 10^e. */
static void test_variant_parse_near_halfway(void) {
    __extension__ typedef unsigned __int128 wide;
    uint64_t st = UINT64_C(0xbe5466cf34e90c6c);
    char s[64];
    for (int i = 0; i < 120000; i++) {
        uint64_t r = variant_rng(&st), t = variant_rng(&st);
        uint64_t x = (UINT64_C(1) << 53) | (r >> 11) | 1;
        int e = 1 + (int)(t % 27);
        wide p5 = 1;
        for (int k = 0; k < e; k++)
            p5 *= 5;
        uint64_t lo, hi;
        if (i % 2 == 0) {
            /* M = X * 2^(K + e), D = floor or ceil of X * 2^K / 5^e, with
             * K as large as 19 digits allow: then D * 5^e is within 5^e of
             * X * 2^K, which is often below the 64 bits kept. */
            int k = 0;
            while (((wide)x << (k + 1)) / p5 < (wide)UINT64_C(10000000000000000000))
                k++;
            k -= (int)((t >> 8) % 3);
            wide m = (wide)x << k;
            lo = (uint64_t)(m / p5);
            hi = m % p5 ? lo + 1 : lo;
            snprintf(s, sizeof s, "%" PRIu64 "e%d", lo, e);
            variant_parse_strtod(s, strlen(s));
            snprintf(s, sizeof s, "%" PRIu64 "e%d", hi, e);
            variant_parse_strtod(s, strlen(s));
        } else {
            /* M = X * 2^-k: D = M * 10^f = X * 5^f / 2^(k - f), f = e. */
            wide prod = (wide)x * p5;
            int sh = 0;
            while ((prod >> sh) >= (wide)UINT64_C(10000000000000000000))
                sh++;
            sh += (int)((t >> 8) % 3);
            if (sh == 0) continue;
            lo = (uint64_t)(prod >> sh);
            hi = lo + ((prod & (((wide)1 << sh) - 1)) != 0);
            snprintf(s, sizeof s, "%" PRIu64 "e-%d", lo, e);
            variant_parse_strtod(s, strlen(s));
            snprintf(s, sizeof s, "%" PRIu64 "e-%d", hi, e);
            variant_parse_strtod(s, strlen(s));
        }
    }
}
#endif

static void variant_run(void) {
    TRUN(test_variant_repr);
    TRUN(test_variant_parse);
    TRUN(test_variant_parse_short);
    TRUN(test_variant_parse_halfway);
#if defined(__SIZEOF_INT128__)
    TRUN(test_variant_parse_near_halfway);
#endif
}

#endif
