/*
 * test_bigint.c - explicit expectations for src/bigint.c: CPython's text
 * rules at their boundaries, the digit limit, glibc strtol corner cases,
 * two's complement bytes around every sign-bit boundary, doubles, decimal
 * and hex output, and timing of the linear paths on multi-megabyte input.
 * The expected values were checked against CPython 3.11.7; the randomized
 * differential comparison lives in tests/py/test_bigint.py.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "bigint.h"
#include "tcheck.h"

/* ---- helpers ----------------------------------------------------------- */

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Decimal text of x (no digit limit) in a malloc'd NUL-terminated string. */
static char *dec_str(const bi *x) {
    char *out = xmalloc(bi_decimal_size(x) + 1);
    uint32_t *scratch = xmalloc((x->n + 1) * sizeof *scratch);
    size_t len = bi_to_decimal(x, 0, out, scratch);
    out[len] = '\0';
    free(scratch);
    return out;
}

/* Signed hex text ("-ff") of x in a malloc'd string. */
static char *hex_str(const bi *x) {
    char *out = xmalloc(x->n * 8 + 3);
    size_t off = 0;
    if (x->neg) out[off++] = '-';
    size_t len = bi_to_hex(x, out + off);
    out[off + len] = '\0';
    return out;
}

/* A bi from signed hex text; limbs are malloc'd (free x->limbs). */
static bi from_hex(const char *h) {
    int neg = h[0] == '-';
    if (neg) h++;
    size_t n = strlen(h);
    bi x;
    bi_from_digits(h, n, 16, neg, xmalloc(bi_text_limbs(n) * sizeof(uint32_t)), &x);
    return x;
}

static char *repeat(const char *unit, size_t times, const char *prefix, const char *suffix) {
    size_t ul = strlen(unit), pl = strlen(prefix), sl = strlen(suffix);
    char *s = xmalloc(pl + ul * times + sl + 1);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + pl + i * ul, unit, ul);
    memcpy(s + pl + ul * times, suffix, sl + 1);
    return s;
}

/* Parses s[0..len) and returns the status; *dec gets the decimal value
 * (malloc'd) when BI_OK. */
static bi_status parse(const char *s, size_t len, int base, char **dec, size_t *consumed) {
    uint32_t *limbs = xmalloc(bi_text_limbs(len) * sizeof *limbs);
    bi x;
    size_t c = (size_t)-1;
    bi_status st = bi_parse_py(s, len, base, limbs, &x, &c);
    if (dec) *dec = st == BI_OK ? dec_str(&x) : NULL;
    if (consumed) *consumed = c;
    free(limbs);
    return st;
}

static double seconds_since(clock_t t0) {
    return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

/* ---- PyLong_FromString --------------------------------------------------- */

typedef struct {
    const char *s;
    size_t len; /* 0: strlen(s) */
    int base;
    bi_status st;
    const char *dec; /* expected value when BI_OK */
} parse_case;

static void test_parse_table(void) {
    static const parse_case cases[] = {
        {"0", 0, 0, BI_OK, "0"},
        {"00", 0, 0, BI_OK, "0"},
        {"0_0", 0, 0, BI_OK, "0"},
        {"000_000", 0, 0, BI_OK, "0"},
        {"-0", 0, 0, BI_OK, "0"},
        {"08", 0, 0, BI_INVALID, NULL},
        {"012", 0, 0, BI_INVALID, NULL},
        {"0_1", 0, 0, BI_INVALID, NULL},
        {"00x1", 0, 0, BI_INVALID, NULL},
        {"0_x1", 0, 0, BI_INVALID, NULL},
        {"0_", 0, 0, BI_INVALID, NULL},
        {"012", 0, 10, BI_OK, "12"},
        {"010", 0, 10, BI_OK, "10"},
        {"1_000", 0, 0, BI_OK, "1000"},
        {"1_0_0", 0, 10, BI_OK, "100"},
        {"1__0", 0, 0, BI_INVALID, NULL},
        {"_1", 0, 0, BI_INVALID, NULL},
        {"1_", 0, 0, BI_INVALID, NULL},
        {"-_1", 0, 0, BI_INVALID, NULL},
        {"0x_1f", 0, 0, BI_OK, "31"},
        {"0x__1", 0, 0, BI_INVALID, NULL},
        {"0x_", 0, 0, BI_INVALID, NULL},
        {"0x1_", 0, 0, BI_INVALID, NULL},
        {"0x1_f", 0, 0, BI_OK, "31"},
        {"0X1F", 0, 0, BI_OK, "31"},
        {"0xAbC", 0, 0, BI_OK, "2748"},
        {"0o17", 0, 0, BI_OK, "15"},
        {"0O_7", 0, 0, BI_OK, "7"},
        {"0o8", 0, 0, BI_INVALID, NULL},
        {"0b101", 0, 0, BI_OK, "5"},
        {"0B1", 0, 0, BI_OK, "1"},
        {"-0b1", 0, 0, BI_OK, "-1"},
        {"+0x10", 0, 0, BI_OK, "16"},
        {"0b2", 0, 0, BI_INVALID, NULL},
        {"0b", 0, 0, BI_INVALID, NULL},
        {"0x", 0, 0, BI_INVALID, NULL},
        {"-0x", 0, 0, BI_INVALID, NULL},
        {"0x 1", 0, 0, BI_INVALID, NULL},
        {"0x10", 0, 10, BI_INVALID, NULL},
        {"0x10", 0, 16, BI_OK, "16"},
        {"0b1", 0, 16, BI_OK, "177"},
        {"0b1", 0, 2, BI_OK, "1"},
        {"0o10", 0, 8, BI_OK, "8"},
        {"z", 0, 36, BI_OK, "35"},
        {"Zz", 0, 36, BI_OK, "1295"},
        {"12", 0, 1, BI_INVALID, NULL},
        {"12", 0, 37, BI_INVALID, NULL},
        {" \t\n\v\f\r-42 \t\n\v\f\r", 0, 0, BI_OK, "-42"},
        {"12\n", 0, 10, BI_OK, "12"},
        {"\0341", 0, 0, BI_INVALID, NULL}, /* \x1c 1 */
        {"1\x1c", 0, 0, BI_INVALID, NULL},
        {"\2051", 0, 0, BI_INVALID, NULL},    /* \x85 1 */
        {"\xd9\xa1", 0, 0, BI_INVALID, NULL}, /* ARABIC-INDIC DIGIT ONE */
        {"+-1", 0, 0, BI_INVALID, NULL},
        {"--1", 0, 0, BI_INVALID, NULL},
        {"- 1", 0, 0, BI_INVALID, NULL},
        {"1 2", 0, 0, BI_INVALID, NULL},
        {"1e3", 0, 0, BI_INVALID, NULL},
        {"1.0", 0, 0, BI_INVALID, NULL},
        {"0L", 0, 0, BI_INVALID, NULL},
        {"", 0, 0, BI_INVALID, NULL},
        {" ", 0, 0, BI_INVALID, NULL},
        {"+", 0, 0, BI_INVALID, NULL},
        {"\0", 1, 0, BI_INVALID, NULL},
        {"\0001", 2, 0, BI_INVALID, NULL},
        {"1\0junk", 6, 0, BI_OK, "1"},
        {"0x1f\0 zz", 8, 0, BI_OK, "31"},
        {"7 \0 x", 5, 10, BI_OK, "7"},
        {"9223372036854775808", 0, 0, BI_OK, "9223372036854775808"},
        {"-18446744073709551616", 0, 10, BI_OK, "-18446744073709551616"},
        {"0xffffffffffffffffffffffffffffffff", 0, 0, BI_OK,
         "340282366920938463463374607431768211455"},
        {"0o7777777777777777777777777777777777777777777", 0, 0, BI_OK,
         "680564733841876926926749214863536422911"},
        {"123456789012345678901234567890", 0, 0, BI_OK, "123456789012345678901234567890"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const parse_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->s);
        char *dec = NULL;
        size_t consumed = 0;
        bi_status st = parse(c->s, len, c->base, &dec, &consumed);
        tcheck_checks++;
        if (st != c->st) {
            TFAIL_("case %zu: status %d, want %d", i, (int)st, (int)c->st);
            tcheck_dump_("  input", c->s, len);
        }
        if (st == BI_OK && c->st == BI_OK) {
            CHECK_EQ_STR(dec, c->dec);
            const char *nulp = memchr(c->s, '\0', len);
            size_t nul = nulp ? (size_t)(nulp - c->s) : len;
            CHECK_EQ_INT(consumed, nul);
        }
        free(dec);
    }
}

static void test_parse_digit_limit(void) {
    struct {
        const char *unit, *prefix, *suffix;
        size_t times;
        int base;
        bi_status st;
    } cases[] = {
        {"1", "", "", 4300, 0, BI_OK},
        {"1", "", "", 4301, 0, BI_TOO_MANY_DIGITS},
        {"1", "-", "", 4301, 0, BI_TOO_MANY_DIGITS},
        {"1", "", "", 4301, 10, BI_TOO_MANY_DIGITS},
        /* Leading zeros count, even for a zero value. */
        {"0", "", "", 4300, 0, BI_OK},
        {"0", "", "", 4301, 0, BI_TOO_MANY_DIGITS},
        {"0", "", "", 4301, 10, BI_TOO_MANY_DIGITS},
        {"0", "", "1", 4300, 0, BI_TOO_MANY_DIGITS}, /* before the octal check */
        {"0", "", "1", 4299, 0, BI_INVALID},
        {"0", "", "1", 4299, 10, BI_OK},
        /* Underscores do not count. */
        {"1_", "", "1", 4299, 0, BI_OK},
        {"1_", "", "1", 4300, 0, BI_TOO_MANY_DIGITS},
        {"0_", "", "0", 4300, 0, BI_TOO_MANY_DIGITS},
        /* Only the digit run counts; junk after it is seen later. */
        {"1", "", "x", 4301, 0, BI_TOO_MANY_DIGITS},
        {"1", "", " x", 4301, 0, BI_TOO_MANY_DIGITS},
        {"1", " ", " ", 4300, 0, BI_OK},
        /* Underscore errors are found while scanning, before the limit. */
        {"1", "", "_", 4301, 0, BI_INVALID},
        {"1", "", "__1", 4301, 0, BI_INVALID},
        {"1", "1__", "", 5000, 0, BI_INVALID},
        {"0_", "", "", 4301, 0, BI_INVALID},
        /* Powers of two have no limit. */
        {"f", "0x", "", 5000, 0, BI_OK},
        {"1", "0b", "", 20000, 0, BI_OK},
        {"7", "0o_", "", 9000, 0, BI_OK},
        {"1", "", "", 5000, 16, BI_OK},
        {"1", "", "", 5000, 32, BI_OK},
        /* Other bases do. */
        {"z", "", "", 4301, 36, BI_TOO_MANY_DIGITS},
        {"z", "", "", 4300, 36, BI_OK},
        {"2", "", "", 4301, 3, BI_TOO_MANY_DIGITS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = repeat(cases[i].unit, cases[i].times, cases[i].prefix, cases[i].suffix);
        bi_status st = parse(s, strlen(s), cases[i].base, NULL, NULL);
        tcheck_checks++;
        if (st != cases[i].st)
            TFAIL_("limit case %zu (%s x %zu): status %d, want %d", i, cases[i].unit,
                   cases[i].times, (int)st, (int)cases[i].st);
        free(s);
    }

    /* The largest accepted decimal round-trips. */
    char *s = repeat("9", 4300, "", "");
    char *dec = NULL;
    CHECK_EQ_INT(parse(s, 4300, 10, &dec, NULL), BI_OK);
    CHECK_EQ_STR(dec, s);
    free(dec);
    free(s);
}

/* Huge inputs: the limit is decided by a linear scan and power-of-two
 * bases convert in linear time. Bounds are generous (sanitizer builds). */
static void test_parse_huge(void) {
    size_t n = 1000000;
    char *s = repeat("1", n, "", "");
    clock_t t0 = clock();
    for (int rep = 0; rep < 10; rep++)
        CHECK_EQ_INT(parse(s, n, 0, NULL, NULL), BI_TOO_MANY_DIGITS);
    double t = seconds_since(t0);
    fprintf(stderr, "  10 x 1 MB decimal rejected in %.3f s\n", t);
    CHECK(t < 2.0);
    free(s);

    n = 10 * 1000 * 1000;
    s = repeat("f", n, "0x", "\n");
    uint32_t *limbs = xmalloc(bi_text_limbs(n + 3) * sizeof *limbs);
    bi x;
    size_t consumed = 0;
    t0 = clock();
    bi_status st = bi_parse_py(s, n + 3, 0, limbs, &x, &consumed);
    t = seconds_since(t0);
    fprintf(stderr, "  10 MB hex literal parsed in %.3f s\n", t);
    CHECK(t < 2.0);
    CHECK_EQ_INT(st, BI_OK);
    CHECK_EQ_INT(consumed, n + 3);
    CHECK_EQ_INT(bi_bit_length(&x), 4 * n);
    int all_ones = 1;
    for (size_t i = 0; i < x.n; i++)
        all_ones &= x.limbs[i] == 0xffffffffu;
    CHECK(all_ones);
    free(s);

    /* Octal with underscores: 3 bits a digit straddle limb boundaries. */
    n = 3 * 1000 * 1000;
    s = repeat("7_", n, "-0o", "7");
    t0 = clock();
    st = bi_parse_py(s, strlen(s), 0, limbs, &x, &consumed);
    t = seconds_since(t0);
    CHECK(t < 2.0);
    CHECK_EQ_INT(st, BI_OK);
    CHECK_EQ_INT(x.neg, 1);
    CHECK_EQ_INT(bi_bit_length(&x), 3 * (n + 1));
    all_ones = 1;
    for (size_t i = 0; i + 1 < x.n; i++)
        all_ones &= x.limbs[i] == 0xffffffffu;
    CHECK(all_ones);
    free(s);
    free(limbs);
}

static void test_unicode_error(void) {
    struct {
        const char *s;
        size_t len;
        int want;
    } cases[] = {
        {"abc", 0, 0},
        {"\xff", 0, 1},
        {"1\xff", 0, 1},
        {"a\0\xff", 3, 0}, /* the message stops at the NUL */
        {"\xc3\xa9", 0, 0},
        {"\xc3", 0, 1},
        {"\xc0\x80", 0, 1},         /* overlong */
        {"\xe0\x9f\xbf", 0, 1},     /* overlong */
        {"\xed\xa0\x80", 0, 1},     /* surrogate */
        {"\xed\x9f\xbf", 0, 0},     /* U+D7FF */
        {"\xf0\x9f\x98\x80", 0, 0}, /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 0, 0}, /* U+10FFFF */
        {"\xf4\x90\x80\x80", 0, 1}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 0, 1},
        {"\xe2\x82", 0, 1},
        {"\x80", 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
        tcheck_checks++;
        if (bi_invalid_literal_is_unicode_error(cases[i].s, len) != cases[i].want)
            TFAIL_("unicode case %zu: want %d", i, cases[i].want);
    }
    /* Only the first 200 bytes are decoded: a character cut at byte 200
     * fails, one that ends at byte 200 does not, junk after it is unseen. */
    char *s = repeat("a", 199, "", "\xc3\xa9");
    CHECK_EQ_INT(bi_invalid_literal_is_unicode_error(s, strlen(s)), 1);
    free(s);
    s = repeat("a", 198, "", "\xc3\xa9\xff");
    CHECK_EQ_INT(bi_invalid_literal_is_unicode_error(s, strlen(s)), 0);
    free(s);
}

/* ---- strtol ---------------------------------------------------------- */

static void test_strtol(void) {
    struct {
        const char *s;
        size_t len; /* 0: strlen */
        int64_t value;
        size_t consumed;
        int erange;
    } cases[] = {
        {"0", 0, 0, 1, 0},
        {"", 0, 0, 0, 0},
        {"  ", 0, 0, 0, 0},
        {"-", 0, 0, 0, 0},
        {"+", 0, 0, 0, 0},
        {"+-1", 0, 0, 0, 0},
        {"-0", 0, 0, 2, 0},
        {"1 ", 0, 1, 1, 0},
        {"12\n", 0, 12, 2, 0},
        {" \t\n\v\f\r12", 0, 12, 8, 0},
        {"\03412", 0, 0, 0, 0}, /* \x1c 12 */
        {"1_0", 0, 1, 1, 0},
        {"0x", 0, 0, 1, 0},
        {"0X\n", 0, 0, 1, 0},
        {" -0xg", 0, 0, 3, 0},
        {"0x1f", 0, 31, 4, 0},
        {"0XaB", 0, 171, 4, 0},
        {"010", 0, 8, 3, 0},
        {"08", 0, 0, 1, 0},
        {"0b1", 0, 0, 1, 0},
        {"0o7", 0, 0, 1, 0},
        {"00x1", 0, 0, 2, 0},
        {"12\00034", 5, 12, 2, 0},
        {"\0001", 2, 0, 0, 0},
        {"9223372036854775807", 0, INT64_MAX, 19, 0},
        {"9223372036854775808", 0, INT64_MAX, 19, 1},
        {"-9223372036854775808", 0, INT64_MIN, 20, 0},
        {"-9223372036854775809", 0, INT64_MIN, 20, 1},
        {"99999999999999999999999x", 0, INT64_MAX, 23, 1},
        {"-99999999999999999999999", 0, INT64_MIN, 24, 1},
        {"0777777777777777777777", 0, INT64_MAX, 22, 0},
        {"01000000000000000000000", 0, INT64_MAX, 23, 1},
        {"-01000000000000000000000", 0, INT64_MIN, 24, 0},
        {"0x7fffffffffffffff", 0, INT64_MAX, 18, 0},
        {"0x8000000000000000", 0, INT64_MAX, 18, 1},
        {"-0x8000000000000000", 0, INT64_MIN, 19, 0},
        {"-0x8000000000000001", 0, INT64_MIN, 19, 1},
        {"0xFFFFFFFFFFFFFFFFFFFF", 0, INT64_MAX, 22, 1},
        {"18446744073709551616", 0, INT64_MAX, 20, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
        int64_t v = 42;
        size_t consumed = 99;
        int er = bi_strtol0(cases[i].s, len, &v, &consumed);
        tcheck_checks++;
        if (v != cases[i].value || consumed != cases[i].consumed || er != cases[i].erange) {
            TFAIL_("strtol case %zu: got %" PRId64 " %zu %d, want %" PRId64 " %zu %d", i, v,
                   consumed, er, cases[i].value, cases[i].consumed, cases[i].erange);
        }
    }
}

/* ---- two's complement bytes ------------------------------------------ */

static void check_le(const char *hex, const char *want, size_t want_len) {
    bi x = from_hex(hex);
    uint8_t buf[64];
    memset(buf, 0xaa, sizeof buf);
    size_t n = bi_to_le_bytes(&x, buf, sizeof buf);
    tcheck_current = hex;
    CHECK_EQ_MEM(buf, n, want, want_len);
    CHECK_EQ_INT(buf[n], 0xaa);
    CHECK_EQ_INT(bi_to_le_bytes(&x, NULL, 0), want_len);
    /* Round trip. */
    uint32_t limbs[32];
    bi y;
    bi_from_le_bytes(buf, n, limbs, &y);
    CHECK_EQ_INT(bi_cmp(&x, &y), 0);
    free(x.limbs);
    tcheck_current = "test_le_bytes";
}

#define LE(hex, bytes) check_le(hex, bytes, sizeof(bytes) - 1)

static void test_le_bytes(void) {
    LE("0", "");
    LE("1", "\x01");
    LE("-1", "\xff");
    LE("7f", "\x7f");
    LE("80", "\x80\x00");
    LE("-80", "\x80");
    LE("-81", "\x7f\xff");
    LE("ff", "\xff\x00");
    LE("100", "\x00\x01");
    LE("-100", "\x00\xff");
    LE("-ff", "\x01\xff");
    LE("7fff", "\xff\x7f");
    LE("8000", "\x00\x80\x00");
    LE("-8000", "\x00\x80");
    LE("-8001", "\xff\x7f\xff");
    LE("7fffffff", "\xff\xff\xff\x7f");
    LE("80000000", "\x00\x00\x00\x80\x00");
    LE("-80000000", "\x00\x00\x00\x80");
    LE("-80000001", "\xff\xff\xff\x7f\xff");
    LE("100000000", "\x00\x00\x00\x00\x01");
    LE("-100000000", "\x00\x00\x00\x00\xff");
    LE("8000000000000000", "\x00\x00\x00\x00\x00\x00\x00\x80\x00");
    LE("-8000000000000000", "\x00\x00\x00\x00\x00\x00\x00\x80");
    LE("-10000000000000000", "\x00\x00\x00\x00\x00\x00\x00\x00\xff");
    LE("ffffffffffffffff", "\xff\xff\xff\xff\xff\xff\xff\xff\x00");
    LE("-ffffffffffffffff", "\x01\x00\x00\x00\x00\x00\x00\x00\xff");

    /* 2**(8k-1) and its neighbours, both signs, k = 1..48. */
    uint8_t want[64];
    for (size_t k = 1; k <= 48; k++) {
        char *h;
        /* 2**(8k-1) - 1: k bytes ff .. ff 7f */
        h = repeat("f", 2 * k - 1, "7", "");
        memset(want, 0xff, k);
        want[k - 1] = 0x7f;
        check_le(h, (const char *)want, k);
        free(h);
        /* -(2**(8k-1) - 1): k bytes 01 00 .. 00 80 */
        h = repeat("f", 2 * k - 1, "-7", "");
        memset(want, 0x00, k);
        want[0] = 0x01;
        want[k - 1] |= 0x80;
        check_le(h, (const char *)want, k);
        free(h);
        /* 2**(8k-1): k+1 bytes 00 .. 80 00 */
        h = repeat("0", 2 * k - 1, "8", "");
        memset(want, 0x00, k + 1);
        want[k - 1] = 0x80;
        check_le(h, (const char *)want, k + 1);
        free(h);
        /* -(2**(8k-1)): k bytes 00 .. 80 */
        h = repeat("0", 2 * k - 1, "-8", "");
        memset(want, 0x00, k);
        want[k - 1] = 0x80;
        check_le(h, (const char *)want, k);
        free(h);
        /* -(2**(8k-1)) - 1: k+1 bytes ff .. 7f ff */
        h = repeat("0", 2 * k - 2, "-8", "1");
        memset(want, 0xff, k + 1);
        want[k - 1] = 0x7f;
        check_le(h, (const char *)want, k + 1);
        free(h);
    }

    /* A short buffer gets the low bytes only; the needed size is still
     * returned. */
    bi x = from_hex("-123456789abcdef");
    uint8_t buf[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
    CHECK_EQ_INT(bi_to_le_bytes(&x, buf, 3), 8);
    CHECK_EQ_MEM(buf, 4, "\x11\x32\x54\xaa", 4);
    free(x.limbs);

    /* Payloads with redundant sign bytes decode too (CPython accepts any
     * LONG1/LONG4 payload). */
    uint32_t limbs[4];
    bi y;
    bi_from_le_bytes((const uint8_t *)"\xff\xff\xff\xff\xff", 5, limbs, &y);
    CHECK(y.n == 1 && y.limbs[0] == 1 && y.neg == 1);
    bi_from_le_bytes((const uint8_t *)"\x00\x00\x00\x00\x00", 5, limbs, &y);
    CHECK(y.n == 0 && y.neg == 0);
    bi_from_le_bytes(NULL, 0, limbs, &y);
    CHECK(y.n == 0 && y.neg == 0);
    CHECK_EQ_INT(bi_bytes_limbs(0), 0);
    CHECK_EQ_INT(bi_bytes_limbs(1), 1);
    CHECK_EQ_INT(bi_bytes_limbs(4), 1);
    CHECK_EQ_INT(bi_bytes_limbs(5), 2);
}

/* ---- int64, comparison, bit length ----------------------------------- */

static void test_i64(void) {
    static const int64_t vals[] = {0,
                                   1,
                                   -1,
                                   2,
                                   INT32_MAX,
                                   INT32_MIN,
                                   UINT32_MAX,
                                   -(int64_t)UINT32_MAX,
                                   (int64_t)1 << 32,
                                   -((int64_t)1 << 32),
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MIN + 1,
                                   INT64_MAX - 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint32_t limbs[2];
        bi x;
        int64_t back = 7;
        bi_from_i64(vals[i], limbs, &x);
        CHECK_EQ_INT(x.neg, vals[i] < 0);
        CHECK(x.n <= 2);
        CHECK_EQ_INT(bi_to_i64(&x, &back), 1);
        CHECK_EQ_INT(back, vals[i]);
        for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
            uint32_t limbs2[2];
            bi y;
            bi_from_i64(vals[j], limbs2, &y);
            int want = vals[i] < vals[j] ? -1 : vals[i] > vals[j];
            CHECK_EQ_INT(bi_cmp(&x, &y), want);
        }
    }
    struct {
        const char *hex;
        int fits;
    } edges[] = {{"8000000000000000", 0},  {"-8000000000000000", 1},  {"-8000000000000001", 0},
                 {"10000000000000000", 0}, {"-10000000000000000", 0}, {"7fffffffffffffff", 1}};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        bi x = from_hex(edges[i].hex);
        int64_t v;
        CHECK_EQ_INT(bi_to_i64(&x, &v), edges[i].fits);
        free(x.limbs);
    }

    bi z = from_hex("0"), one = from_hex("1"),
       big = from_hex("1"
                      "0000000000000000");
    bi nbig = from_hex("-1"
                       "0000000000000000");
    CHECK_EQ_INT(bi_bit_length(&z), 0);
    CHECK_EQ_INT(bi_bit_length(&one), 1);
    CHECK_EQ_INT(bi_bit_length(&big), 65);
    CHECK_EQ_INT(bi_bit_length(&nbig), 65);
    CHECK_EQ_INT(bi_cmp(&nbig, &big), -1);
    CHECK_EQ_INT(bi_cmp(&nbig, &z), -1);
    CHECK_EQ_INT(bi_cmp(&big, &one), 1);
    CHECK_EQ_INT(bi_cmp(&z, &z), 0);
    free(z.limbs);
    free(one.limbs);
    free(big.limbs);
    free(nbig.limbs);
}

/* ---- doubles ------------------------------------------------------------- */

static void test_double(void) {
    struct {
        const char *hex;
        double d;
        int eq;
    } cases[] = {
        {"0", 0.0, 1},
        {"0", -0.0, 1},
        {"1", 1.0, 1},
        {"-3", -3.0, 1},
        {"3", -3.0, 0},
        {"1", 0.5, 0},
        {"0", 0.5, 0},
        {"1", 1.5, 0},
        {"0", 5e-324, 0},
        {"0", -DBL_MIN, 0},
        {"20000000000000", 9007199254740992.0, 1},    /* 2**53 */
        {"20000000000001", 9007199254740992.0, 0},    /* 2**53 + 1 */
        {"1fffffffffffff", 9007199254740991.0, 1},    /* 2**53 - 1 */
        {"-40000000000004", -18014398509481988.0, 1}, /* -(2**54 + 4) */
        {"40000000000002", 18014398509481986.0, 0},   /* rounds to 2**54 + 4 */
        {"8000000000000000", 9223372036854775808.0, 1},
        {"7fffffffffffffff", 9223372036854775808.0, 0},
        {"21e19e0c9bab2400000", 1e22, 1},
        {"1", INFINITY, 0},
        {"-1", -INFINITY, 0},
        {"0", NAN, 0},
        {"1", NAN, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bi x = from_hex(cases[i].hex);
        tcheck_checks++;
        if (bi_eq_double(&x, cases[i].d) != cases[i].eq)
            TFAIL_("eq case %zu (%s vs %a): want %d", i, cases[i].hex, cases[i].d, cases[i].eq);
        free(x.limbs);
    }

    /* 2**1023, 2**1023 + 1, DBL_MAX and 2**1024. */
    char *h = repeat("0", 255, "8", "");
    bi x = from_hex(h);
    CHECK_EQ_INT(bi_eq_double(&x, ldexp(1.0, 1023)), 1);
    CHECK_EQ_INT(bi_eq_double(&x, -ldexp(1.0, 1023)), 0);
    free(x.limbs);
    free(h);
    h = repeat("0", 254, "8", "1");
    x = from_hex(h);
    CHECK_EQ_INT(bi_eq_double(&x, ldexp(1.0, 1023)), 0);
    free(x.limbs);
    free(h);
    h = repeat("0", 242, "fffffffffffff8", "");
    x = from_hex(h);
    CHECK_EQ_INT(bi_eq_double(&x, DBL_MAX), 1);
    free(x.limbs);
    free(h);
    h = repeat("0", 256, "1", "");
    x = from_hex(h);
    CHECK_EQ_INT(bi_eq_double(&x, DBL_MAX), 0);
    CHECK_EQ_INT(bi_eq_double(&x, INFINITY), 0);
    free(x.limbs);
    free(h);

    struct {
        double d;
        const char *hex;
    } exact[] = {
        {0.0, "0"},
        {-0.0, "0"},
        {1.0, "1"},
        {-1.0, "-1"},
        {4294967296.0, "100000000"},
        {9007199254740992.0, "20000000000000"},
        {-9007199254740991.0, "-1fffffffffffff"},
        {1e22, "21e19e0c9bab2400000"},
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        uint32_t limbs[35];
        bi y;
        bi_from_integral_double(exact[i].d, limbs, &y);
        char *got = hex_str(&y);
        CHECK_EQ_STR(got, exact[i].hex);
        CHECK_EQ_INT(bi_eq_double(&y, exact[i].d), 1);
        free(got);
    }
    uint32_t limbs[35];
    bi y;
    /* 1e300: 0x17e43c8800759c followed by 236 zero digits. */
    bi_from_integral_double(1e300, limbs, &y);
    h = repeat("0", 236, "17e43c8800759c", "");
    char *got1 = hex_str(&y);
    CHECK_EQ_STR(got1, h);
    free(got1);
    free(h);
    bi_from_integral_double(DBL_MAX, limbs, &y);
    h = repeat("0", 242, "fffffffffffff8", "");
    char *got = hex_str(&y);
    CHECK_EQ_STR(got, h);
    CHECK_EQ_INT(y.n, 32);
    free(got);
    free(h);
    bi_from_integral_double(-ldexp(1.0, 1023), limbs, &y);
    CHECK_EQ_INT(bi_bit_length(&y), 1024);
    CHECK_EQ_INT(y.neg, 1);
}

/* ---- decimal and hex output ------------------------------------------ */

static void test_decimal(void) {
    struct {
        const char *hex, *dec;
    } cases[] = {
        {"0", "0"},
        {"1", "1"},
        {"-1", "-1"},
        {"3b9ac9ff", "999999999"},
        {"3b9aca00", "1000000000"},
        {"-3b9aca01", "-1000000001"},
        {"de0b6b3a763ffff", "999999999999999999"},
        {"de0b6b3a7640000", "1000000000000000000"},
        {"-8000000000000000", "-9223372036854775808"},
        {"10000000000000000", "18446744073709551616"},
        {"4ee2d6d415b85acef8100000000", "100000000000000000000000000000000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bi x = from_hex(cases[i].hex);
        char *got = dec_str(&x);
        CHECK_EQ_STR(got, cases[i].dec);
        CHECK(strlen(got) <= bi_decimal_size(&x));
        free(got);
        free(x.limbs);
    }

    /* 10**4300 - 1 has 4300 digits: allowed, with either sign. 10**4300 is
     * refused by the limit but printable without it. */
    char *nines = repeat("9", 4300, "-", "");
    uint32_t *limbs = xmalloc(bi_text_limbs(4302) * sizeof *limbs);
    uint32_t *scratch = xmalloc(bi_text_limbs(4302) * sizeof *scratch);
    char *out = xmalloc(4400);
    bi x;
    bi_from_digits(nines + 1, 4300, 10, 1, limbs, &x);
    CHECK(bi_decimal_size(&x) <= 4400);
    size_t len = bi_to_decimal(&x, BI_MAX_STR_DIGITS, out, scratch);
    CHECK_EQ_MEM(out, len, nines, 4301);
    x.neg = 0;
    len = bi_to_decimal(&x, BI_MAX_STR_DIGITS, out, scratch);
    CHECK_EQ_MEM(out, len, nines + 1, 4300);
    CHECK_EQ_INT(bi_to_decimal(&x, 4299, out, scratch), 0);
    free(nines);
    char *pow10 = repeat("0", 4300, "1", "");
    bi_from_digits(pow10, 4301, 10, 0, limbs, &x);
    CHECK_EQ_INT(bi_to_decimal(&x, BI_MAX_STR_DIGITS, out, scratch), 0);
    x.neg = 1;
    CHECK_EQ_INT(bi_to_decimal(&x, BI_MAX_STR_DIGITS, out, scratch), 0);
    x.neg = 0;
    len = bi_to_decimal(&x, 0, out, scratch);
    CHECK_EQ_MEM(out, len, pow10, 4301);
    CHECK_EQ_INT(bi_to_decimal(&x, 4301, out, scratch), 4301);
    free(pow10);
    free(out);
    free(scratch);
    free(limbs);

    /* A 32-million-bit number is refused without converting it. */
    size_t n = 1000000;
    limbs = xmalloc(n * sizeof *limbs);
    for (size_t i = 0; i < n; i++)
        limbs[i] = (uint32_t)(i * 2654435761u) | 1u;
    x.limbs = limbs;
    x.n = n;
    x.neg = 1;
    out = xmalloc(bi_decimal_size(&x));
    scratch = xmalloc(n * sizeof *scratch);
    clock_t t0 = clock();
    CHECK_EQ_INT(bi_to_decimal(&x, BI_MAX_STR_DIGITS, out, scratch), 0);
    CHECK(seconds_since(t0) < 0.5);
    /* Hex output of it is linear. */
    char *hex = xmalloc(n * 8 + 1);
    t0 = clock();
    len = bi_to_hex(&x, hex);
    CHECK(seconds_since(t0) < 1.0);
    CHECK_EQ_INT(len, n * 8);
    free(hex);
    free(scratch);
    free(out);
    free(limbs);
}

static void test_hex(void) {
    const char *cases[] = {"0",        "1",         "f",
                           "10",       "ff",        "100",
                           "ffffffff", "100000000", "123456789abcdef0123456789abcdef",
                           "-1",       "-100000000"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bi x = from_hex(cases[i]);
        char *got = hex_str(&x);
        CHECK_EQ_STR(got, cases[i]);
        free(got);
        free(x.limbs);
    }
    /* Leading zeros of the input do not survive; uppercase input works. */
    bi x = from_hex("000ABCdef");
    char *got = hex_str(&x);
    CHECK_EQ_STR(got, "abcdef");
    free(got);
    free(x.limbs);
}

/* ---- randomized round trips -------------------------------------------- */

static uint64_t rng_next(uint64_t *state) {
    /* xorshift64*: deterministic, so failures reproduce. */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

static void test_roundtrip_random(void) {
    uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
    enum { MAXL = 460 };
    uint32_t a[MAXL], b[2 * MAXL + 8];
    uint32_t scratch[MAXL];
    static char text[MAXL * 10 + 16];
    static uint8_t bytes[MAXL * 4 + 2];
    int failures_before = tcheck_failures;
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = (size_t)(rng_next(&state) % (iter < 2000 ? 8 : MAXL)) + 1;
        bi x = {a, n, (int)(rng_next(&state) & 1)};
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next(&state);
            /* Runs of 0 and ~0 limbs reach the carry and sign corners. */
            a[i] = (r & 3) == 0 ? 0u : (r & 3) == 1 ? 0xffffffffu : (uint32_t)(r >> 32);
        }
        while (x.n > 0 && a[x.n - 1] == 0)
            x.n--;
        if (x.n == 0) x.neg = 0;
        bi y;

        /* bytes */
        size_t nb = bi_to_le_bytes(&x, bytes, sizeof bytes);
        CHECK(nb <= sizeof bytes);
        CHECK(bi_bytes_limbs(nb) <= sizeof b / sizeof b[0]);
        bi_from_le_bytes(bytes, nb, b, &y);
        CHECK_EQ_INT(bi_cmp(&x, &y), 0);
        /* minimal: one byte less would change the value */
        if (nb > 0) {
            bi_from_le_bytes(bytes, nb - 1, b, &y);
            CHECK(bi_cmp(&x, &y) != 0);
        }

        /* hex, through the Python parser with a prefix */
        size_t off = 0;
        if (x.neg) text[off++] = '-';
        text[off++] = '0';
        text[off++] = 'x';
        size_t hl = bi_to_hex(&x, text + off);
        CHECK(hl <= x.n * 8 + 1);
        size_t consumed = 0;
        CHECK(bi_text_limbs(off + hl) <= sizeof b / sizeof b[0]);
        CHECK_EQ_INT(bi_parse_py(text, off + hl, 0, b, &y, &consumed), BI_OK);
        CHECK_EQ_INT(bi_cmp(&x, &y), 0);

        /* decimal, through the Python parser when within the limit */
        size_t dl = bi_to_decimal(&x, 0, text, scratch);
        CHECK(dl > 0 && dl <= bi_decimal_size(&x));
        size_t digits = dl - (size_t)x.neg;
        bi_status want = digits > BI_MAX_STR_DIGITS ? BI_TOO_MANY_DIGITS : BI_OK;
        CHECK(bi_text_limbs(dl) <= sizeof b / sizeof b[0]);
        CHECK_EQ_INT(bi_parse_py(text, dl, 10, b, &y, &consumed), want);
        if (want == BI_OK) CHECK_EQ_INT(bi_cmp(&x, &y), 0);
        bi_from_digits(text + x.neg, digits, 10, x.neg, b, &y);
        CHECK_EQ_INT(bi_cmp(&x, &y), 0);
        size_t limited = bi_to_decimal(&x, BI_MAX_STR_DIGITS, text, scratch);
        CHECK_EQ_INT(limited, digits > BI_MAX_STR_DIGITS ? 0 : dl);

        if (tcheck_failures != failures_before) {
            fprintf(stderr, "  first failing iteration %d\n", iter);
            break;
        }
    }
}

int main(void) {
    TRUN(test_parse_table);
    TRUN(test_parse_digit_limit);
    TRUN(test_parse_huge);
    TRUN(test_unicode_error);
    TRUN(test_strtol);
    TRUN(test_le_bytes);
    TRUN(test_i64);
    TRUN(test_double);
    TRUN(test_decimal);
    TRUN(test_hex);
    TRUN(test_roundtrip_random);
    return TDONE();
}
