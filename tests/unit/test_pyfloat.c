/*
 * test_pyfloat.c - unit tests for pyfloat: edge cases with CPython 3.11's
 * answers written out (generated once with python3 and checked by hand
 * where it matters). The bulk comparison against CPython is
 * tests/py/test_pyfloat_vectors.py.
 */
#include "pyfloat.h"
#include "tcheck.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>

/* repr(x) of CPython 3.11 for these bit patterns. */
static const struct {
    uint64_t bits;
    const char *repr;
} repr_cases[] = {
    {UINT64_C(0x0000000000000000), "0.0"},
    {UINT64_C(0x8000000000000000), "-0.0"},
    {UINT64_C(0x3ff0000000000000), "1.0"},
    {UINT64_C(0xbff0000000000000), "-1.0"},
    {UINT64_C(0x3fb999999999999a), "0.1"},
    {UINT64_C(0x3fc999999999999a), "0.2"},
    {UINT64_C(0x3fd3333333333333), "0.3"},
    {UINT64_C(0x3fd5555555555555), "0.3333333333333333"},
    {UINT64_C(0x3fe5555555555555), "0.6666666666666666"},
    {UINT64_C(0x3ff8000000000000), "1.5"},
    {UINT64_C(0x4023000000000000), "9.5"},
    {UINT64_C(0x4059000000000000), "100.0"},
    {UINT64_C(0x419d6f3454000000), "123456789.0"},
    {UINT64_C(0x430c6bf526340000), "1000000000000000.0"},
    {UINT64_C(0x4341c37937e08000), "1e+16"},
    {UINT64_C(0x4376345785d8a000), "1e+17"},
    {UINT64_C(0x4341c37937e07fff), "9999999999999998.0"},
    {UINT64_C(0x430c6bf52633ffff), "999999999999999.9"},
    {UINT64_C(0x43118b54f22aeb03), "1234567890123456.8"},
    {UINT64_C(0x3f1a36e2eb1c432d), "0.0001"},
    {UINT64_C(0x3ee4f8b588e368f1), "1e-05"},
    {UINT64_C(0x3f202e4b6ce5dc68), "0.00012345"},
    {UINT64_C(0x3f1a36e2eb1c432c), "9.999999999999999e-05"},
    {UINT64_C(0x4480f0cf064dd592), "1e+22"},
    {UINT64_C(0x44b52d02c7e14af6), "1e+23"},
    {UINT64_C(0x54b249ad2594c37d), "1e+100"},
    {UINT64_C(0x4340000000000000), "9007199254740992.0"},
    {UINT64_C(0x4340000000000001), "9007199254740994.0"},
    {UINT64_C(0x43e0000000000000), "9.223372036854776e+18"},
    {UINT64_C(0x0010000000000000), "2.2250738585072014e-308"},
    {UINT64_C(0x0000000000000001), "5e-324"},
    {UINT64_C(0x000fffffffffffff), "2.225073858507201e-308"},
    {UINT64_C(0x7fefffffffffffff), "1.7976931348623157e+308"},
    {UINT64_C(0xffefffffffffffff), "-1.7976931348623157e+308"},
    {UINT64_C(0x7fefffffffffffff), "1.7976931348623157e+308"},
    {UINT64_C(0x0010000000000000), "2.2250738585072014e-308"},
    {UINT64_C(0x432ef4f7ca32c9d8), "4356797193872620.0"},
    {UINT64_C(0x4310000000000001), "1125899906842624.2"},
    {UINT64_C(0x4310000000000003), "1125899906842624.8"},
    {UINT64_C(0x3e7ad7f29abcaf48), "1e-07"},
    {UINT64_C(0x01aa71e089af1be8), "1.234e-300"},
    {UINT64_C(0x0000000000000001), "5e-324"},
    {UINT64_C(0x0000000000000002), "1e-323"},
    {UINT64_C(0x0000000000000002), "1e-323"},
    {UINT64_C(0x7fe0000000000000), "8.98846567431158e+307"},
    {UINT64_C(0x3fe0000000000000), "0.5"},
    {UINT64_C(0x3fd0000000000000), "0.25"},
    {UINT64_C(0x3fe0000000000000), "0.5"},
    {UINT64_C(0x3fd0000000000000), "0.25"},
    {UINT64_C(0x3f50000000000000), "0.0009765625"},
    {UINT64_C(0x3ee4f8b588e368f1), "1e-05"},
    {UINT64_C(0x3c36b082c2148b8e), "1.23e-18"},
    {UINT64_C(0x81aa74fe1c1e8908), "-1.2345678901234568e-300"},
    {UINT64_C(0x0010000000000001), "2.225073858507202e-308"},
    {UINT64_C(0x3ff0000000000001), "1.0000000000000002"},
    {UINT64_C(0x3fefffffffffffff), "0.9999999999999999"},
    {UINT64_C(0x7e70000000000000), "1.0715086071862673e+301"},
    {UINT64_C(0x0170000000000000), "9.332636185032189e-302"},
    {UINT64_C(0x4340000000000000), "9007199254740992.0"},
    {UINT64_C(0x447c7e83209e90b2), "8.41e+21"},
    {UINT64_C(0x00005c0ab9347ed7), "5e-310"},
    {UINT64_C(0x3fd3333333333334), "0.30000000000000004"},
    {UINT64_C(0xbf202e85be180b74), "-0.00012345678901234567"},
    {UINT64_C(0x3ff0000000000001), "1.0000000000000002"},
    {UINT64_C(0x7ff0000000000000), "inf"},
    {UINT64_C(0xfff0000000000000), "-inf"},
    {UINT64_C(0x7ff8000000000000), "nan"},
    {UINT64_C(0xfff8000000000000), "nan"},
    {UINT64_C(0x7ff0000000000001), "nan"},
    {UINT64_C(0xfff0000000000001), "nan"},
    {UINT64_C(0x7ff4000000000000), "nan"},
    {UINT64_C(0x7fffffffffffffff), "nan"},
    {UINT64_C(0xffffffffffffffff), "nan"},
};

static void test_repr_table(void) {
    for (size_t i = 0; i < sizeof repr_cases / sizeof repr_cases[0]; i++) {
        char buf[PYFLOAT_REPR_MAX];
        size_t n = pyfloat_repr(pyfloat_from_bits(repr_cases[i].bits), buf);
        CHECK_EQ_STR(buf, repr_cases[i].repr);
        CHECK_EQ_INT(n, strlen(repr_cases[i].repr));
    }
}

/* The layout switches exactly where CPython's does: fixed notation for
 * 1e-4 <= |x| < 1e16, exponent notation outside. */
static void test_repr_layout(void) {
    char buf[PYFLOAT_REPR_MAX];
    pyfloat_repr(1e16, buf);
    CHECK_EQ_STR(buf, "1e+16");
    pyfloat_repr(1e15, buf);
    CHECK_EQ_STR(buf, "1000000000000000.0");
    pyfloat_repr(9999999999999998.0, buf);
    CHECK_EQ_STR(buf, "9999999999999998.0");
    pyfloat_repr(0.0001, buf);
    CHECK_EQ_STR(buf, "0.0001");
    pyfloat_repr(0.00001, buf);
    CHECK_EQ_STR(buf, "1e-05");
    pyfloat_repr(1e-100, buf);
    CHECK_EQ_STR(buf, "1e-100");
    pyfloat_repr(-1.5e300, buf);
    CHECK_EQ_STR(buf, "-1.5e+300");
    pyfloat_repr(12.0, buf);
    CHECK_EQ_STR(buf, "12.0");
}

/* The longest outputs fit PYFLOAT_REPR_MAX with room to spare. */
static void test_repr_lengths(void) {
    char buf[PYFLOAT_REPR_MAX];
    CHECK_EQ_INT(pyfloat_repr(-2.2250738585072014e-308, buf), 24);
    CHECK_EQ_STR(buf, "-2.2250738585072014e-308");
    CHECK_EQ_INT(pyfloat_repr(-0.00012345678901234567, buf), 23);
    CHECK_EQ_STR(buf, "-0.00012345678901234567");
    CHECK_EQ_INT(pyfloat_repr(-1234567890123456.8, buf), 19);
    CHECK_EQ_STR(buf, "-1234567890123456.8");
}

/* Powers of two have a lower neighbour half as far as the upper one; a
 * "%.17g then shorten while it round-trips" scheme gets these wrong. */
static void test_repr_powers_of_two(void) {
    char buf[PYFLOAT_REPR_MAX];
    pyfloat_repr(ldexp(1.0, 1000), buf);
    CHECK_EQ_STR(buf, "1.0715086071862673e+301");
    pyfloat_repr(ldexp(1.0, -1000), buf);
    CHECK_EQ_STR(buf, "9.332636185032189e-302");
    pyfloat_repr(ldexp(1.0, 60), buf);
    CHECK_EQ_STR(buf, "1.152921504606847e+18");
    pyfloat_repr(ldexp(1.0, -1022), buf); /* symmetric: below is subnormal */
    CHECK_EQ_STR(buf, "2.2250738585072014e-308");
}

/* pyfloat_parse: status, value bits and bytes consumed, as CPython's
 * PyOS_string_to_double(s, &end, PyExc_OverflowError) reports them. */
static const struct {
    const char *s;
    size_t len;
    pyfloat_status st;
    uint64_t bits;
    size_t consumed;
} parse_cases[] = {
    {"0", 1, PYF_OK, UINT64_C(0x0000000000000000), 1},
    {"-0", 2, PYF_OK, UINT64_C(0x8000000000000000), 2},
    {"+0.", 3, PYF_OK, UINT64_C(0x0000000000000000), 3},
    {".5", 2, PYF_OK, UINT64_C(0x3fe0000000000000), 2},
    {"-.5e1", 5, PYF_OK, UINT64_C(0xc014000000000000), 5},
    {"5.", 2, PYF_OK, UINT64_C(0x4014000000000000), 2},
    {".", 1, PYF_INVALID, 0, 0},
    {"-", 1, PYF_INVALID, 0, 0},
    {"+.", 2, PYF_INVALID, 0, 0},
    {"e5", 2, PYF_INVALID, 0, 0},
    {"", 0, PYF_INVALID, 0, 0},
    {"1e", 2, PYF_OK, UINT64_C(0x3ff0000000000000), 1},
    {"1e+", 3, PYF_OK, UINT64_C(0x3ff0000000000000), 1},
    {"1e-x", 4, PYF_OK, UINT64_C(0x3ff0000000000000), 1},
    {"1e5", 3, PYF_OK, UINT64_C(0x40f86a0000000000), 3},
    {"1E+05", 5, PYF_OK, UINT64_C(0x40f86a0000000000), 5},
    {"1e0005", 6, PYF_OK, UINT64_C(0x40f86a0000000000), 6},
    {"1.5.5", 5, PYF_OK, UINT64_C(0x3ff8000000000000), 3},
    {"1..5", 4, PYF_OK, UINT64_C(0x3ff0000000000000), 2},
    {" 1", 2, PYF_INVALID, 0, 0},
    {"1 ", 2, PYF_OK, UINT64_C(0x3ff0000000000000), 1},
    {"1_0", 3, PYF_OK, UINT64_C(0x3ff0000000000000), 1},
    {"0x10", 4, PYF_OK, UINT64_C(0x0000000000000000), 1},
    {"inf", 3, PYF_OK, UINT64_C(0x7ff0000000000000), 3},
    {"-Inf", 4, PYF_OK, UINT64_C(0xfff0000000000000), 4},
    {"+INFINITY", 9, PYF_OK, UINT64_C(0x7ff0000000000000), 9},
    {"infinit", 7, PYF_OK, UINT64_C(0x7ff0000000000000), 3},
    {"infinityx", 9, PYF_OK, UINT64_C(0x7ff0000000000000), 8},
    {"in", 2, PYF_INVALID, 0, 0},
    {"nan", 3, PYF_OK, UINT64_C(0x7ff8000000000000), 3},
    {"-nan", 4, PYF_OK, UINT64_C(0xfff8000000000000), 4},
    {"+NaN", 4, PYF_OK, UINT64_C(0x7ff8000000000000), 4},
    {"nanq", 4, PYF_OK, UINT64_C(0x7ff8000000000000), 3},
    {"na", 2, PYF_INVALID, 0, 0},
    {"--1", 3, PYF_INVALID, 0, 0},
    {"+-1", 3, PYF_INVALID, 0, 0},
    {"1\000junk", 6, PYF_OK, UINT64_C(0x3ff0000000000000), 1},
    {"\0001", 2, PYF_INVALID, 0, 0},
    {"1e\0005", 4, PYF_OK, UINT64_C(0x3ff0000000000000), 1},
    {"inf\000", 4, PYF_OK, UINT64_C(0x7ff0000000000000), 3},
    {"0.1", 3, PYF_OK, UINT64_C(0x3fb999999999999a), 3},
    {"2.675", 5, PYF_OK, UINT64_C(0x4005666666666666), 5},
    {"1.7976931348623157e308", 22, PYF_OK, UINT64_C(0x7fefffffffffffff), 22},
    {"1.7976931348623158e308", 22, PYF_OK, UINT64_C(0x7fefffffffffffff), 22},
    {"2.4703282292062328e-324", 23, PYF_OK, UINT64_C(0x0000000000000001), 23},
    {"2.4703282292062327e-324", 23, PYF_OK, UINT64_C(0x0000000000000000), 23},
    {"7.4e-324", 8, PYF_OK, UINT64_C(0x0000000000000001), 8},
    {"2.2250738585072011e-308", 23, PYF_OK, UINT64_C(0x000fffffffffffff), 23},
    {"9007199254740993", 16, PYF_OK, UINT64_C(0x4340000000000000), 16},
    {"1e-400", 6, PYF_OK, UINT64_C(0x0000000000000000), 6},
    {"-1e-400", 7, PYF_OK, UINT64_C(0x8000000000000000), 7},
    {"0e99999999999999999999", 22, PYF_OK, UINT64_C(0x0000000000000000), 22},
    {"1e-99999999999999999999", 23, PYF_OK, UINT64_C(0x0000000000000000), 23},
    {"123456789012345678901234567890", 30, PYF_OK, UINT64_C(0x45f8ee90ff6c373e), 30},
    {"1.0\377", 4, PYF_OK, UINT64_C(0x3ff0000000000000), 3},
    {"1e309", 5, PYF_OVERFLOW, UINT64_C(0x7ff0000000000000), 5},
    {"-1e309", 6, PYF_OVERFLOW, UINT64_C(0xfff0000000000000), 6},
    {"1.7976931348623159e308", 22, PYF_OVERFLOW, UINT64_C(0x7ff0000000000000), 22},
    {"1e99999999999999999999", 22, PYF_OVERFLOW, UINT64_C(0x7ff0000000000000), 22},
};

static void test_parse_table(void) {
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        double v = -1.0;
        size_t used = 12345;
        pyfloat_status st = pyfloat_parse(parse_cases[i].s, parse_cases[i].len, &v, &used);
        tcheck_current = parse_cases[i].s;
        CHECK_EQ_INT(st, parse_cases[i].st);
        if (st != PYF_INVALID && parse_cases[i].st != PYF_INVALID) {
            CHECK_EQ_U64(pyfloat_bits(v), parse_cases[i].bits);
            CHECK_EQ_INT(used, parse_cases[i].consumed);
        }
    }
    tcheck_current = "test_parse_table";
}

/* float(b) for bytes b. */
static const struct {
    const char *s;
    size_t len;
    pyfloat_status st;
    uint64_t bits;
} float_cases[] = {
    {"1_0", 3, PYF_OK, UINT64_C(0x4024000000000000)},
    {"1__0", 4, PYF_INVALID, 0},
    {"_1", 2, PYF_INVALID, 0},
    {"1_", 2, PYF_INVALID, 0},
    {"1_.5", 4, PYF_INVALID, 0},
    {"1._5", 4, PYF_INVALID, 0},
    {"1e_5", 4, PYF_INVALID, 0},
    {"1e5_0", 5, PYF_OK, UINT64_C(0x4a511b0ec57e649a)},
    {" 1.5 ", 5, PYF_OK, UINT64_C(0x3ff8000000000000)},
    {"\011\012\013\014\0151\015\012", 8, PYF_OK, UINT64_C(0x3ff0000000000000)},
    {"\0341", 2, PYF_INVALID, 0},
    {"1\000", 2, PYF_INVALID, 0},
    {"\0001", 2, PYF_INVALID, 0},
    {"", 0, PYF_INVALID, 0},
    {"  ", 2, PYF_INVALID, 0},
    {"1e999", 5, PYF_OK, UINT64_C(0x7ff0000000000000)},
    {"-1e999", 6, PYF_OK, UINT64_C(0xfff0000000000000)},
    {" -nan ", 6, PYF_OK, UINT64_C(0xfff8000000000000)},
    {"inf_", 4, PYF_INVALID, 0},
    {"1 1", 3, PYF_INVALID, 0},
    {"1e", 2, PYF_INVALID, 0},
    {"1_000.000_1", 11, PYF_OK, UINT64_C(0x408f4000346dc5d6)},
    {"0_0", 3, PYF_OK, UINT64_C(0x0000000000000000)},
};

static void test_from_bytes_table(void) {
    for (size_t i = 0; i < sizeof float_cases / sizeof float_cases[0]; i++) {
        double v = -1.0;
        pyfloat_status st = pyfloat_from_bytes(float_cases[i].s, float_cases[i].len, &v);
        tcheck_current = float_cases[i].s;
        CHECK_EQ_INT(st, float_cases[i].st);
        if (st == PYF_OK && float_cases[i].st == PYF_OK)
            CHECK_EQ_U64(pyfloat_bits(v), float_cases[i].bits);
    }
    tcheck_current = "test_from_bytes_table";
}

/* The length bounds the input even without a NUL after it. */
static void test_parse_length_bound(void) {
    double v;
    size_t used;
    CHECK_EQ_INT(pyfloat_parse("12345", 3, &v, &used), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(123.0));
    CHECK_EQ_INT(used, 3);
    CHECK_EQ_INT(pyfloat_parse("1e5", 2, &v, &used), PYF_OK);
    CHECK_EQ_INT(used, 1);
    CHECK_EQ_INT(pyfloat_parse("infinity", 5, &v, &used), PYF_OK);
    CHECK_EQ_INT(used, 3);
    CHECK_EQ_INT(pyfloat_parse("nan", 2, &v, &used), PYF_INVALID);
    CHECK_EQ_INT(pyfloat_from_bytes("1.5x", 3, &v), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(1.5));
    CHECK_EQ_INT(pyfloat_from_bytes("1_5_", 3, &v), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(15.0));
}

/* Every decimal with up to 4 digits and exponents -330..310 round-trips
 * through repr and parse, and parse matches the C library's correctly
 * rounded strtod in the "C" locale for these short inputs. */
static void test_short_decimals(void) {
    char s[32], buf[PYFLOAT_REPR_MAX];
    for (int m = 1; m < 10000; m += 7) {
        for (int e = -330; e <= 310; e += 3) {
            int n = snprintf(s, sizeof s, "%de%d", m, e);
            double v, w = strtod(s, NULL);
            size_t used;
            pyfloat_status st = pyfloat_parse(s, (size_t)n, &v, &used);
            if (isinf(w)) {
                CHECK_EQ_INT(st, PYF_OVERFLOW);
                continue;
            }
            CHECK_EQ_INT(st, PYF_OK);
            CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(w));
            size_t len = pyfloat_repr(v, buf);
            CHECK_EQ_INT(pyfloat_parse(buf, len, &w, &used), PYF_OK);
            CHECK_EQ_U64(pyfloat_bits(w), pyfloat_bits(v));
        }
    }
}

/* Bit-exact conversions keep NaN payloads, signalling NaNs and -0.0. */
static void test_bits(void) {
    static const uint64_t pats[] = {
        UINT64_C(0x0000000000000000), UINT64_C(0x8000000000000000), UINT64_C(0x7ff0000000000001),
        UINT64_C(0xfff0000000000001), UINT64_C(0x7ff4000000000000), UINT64_C(0x7ff8000000000000),
        UINT64_C(0xfff8000000000000), UINT64_C(0x7fffffffffffffff), UINT64_C(0x0000000000000001),
        UINT64_C(0x7ff0000000000000), UINT64_C(0x3ff0000000000000), UINT64_C(0x7ff00000deadbeef),
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        CHECK_EQ_U64(pyfloat_bits(pyfloat_from_bits(pats[i])), pats[i]);
    CHECK_EQ_U64(pyfloat_bits(1.0), UINT64_C(0x3ff0000000000000));
    CHECK_EQ_U64(pyfloat_bits(-2.5), UINT64_C(0xc004000000000000));
    CHECK(pyfloat_from_bits(UINT64_C(0x4009000000000000)) == 3.125);
}

/* Nothing depends on the process locale: under a locale whose decimal
 * point is a comma (when one is installed), output keeps '.', '.' still
 * parses and ',' does not. */
static void test_locale(void) {
    static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                  "de_DE",       "fr_FR",      "ru_RU.UTF-8", "C.UTF-8"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_ALL, names[i]);
    fprintf(stderr, "test_locale: running under locale %s (decimal point '%s')\n", set ? set : "C",
            localeconv()->decimal_point);
    char buf[PYFLOAT_REPR_MAX];
    pyfloat_repr(1.5, buf);
    CHECK_EQ_STR(buf, "1.5");
    double v;
    size_t used;
    CHECK_EQ_INT(pyfloat_parse("2.5", 3, &v, &used), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(2.5));
    CHECK_EQ_INT(used, 3);
    CHECK_EQ_INT(pyfloat_parse("2,5", 3, &v, &used), PYF_OK);
    CHECK_EQ_INT(used, 1);
    CHECK_EQ_INT(pyfloat_from_bytes("2,5", 3, &v), PYF_INVALID);
    CHECK_EQ_INT(pyfloat_from_bytes(" 2.5e-1 ", 8, &v), PYF_OK);
    CHECK_EQ_U64(pyfloat_bits(v), pyfloat_bits(0.25));
    setlocale(LC_ALL, "C");
}

int main(void) {
    TRUN(test_repr_table);
    TRUN(test_repr_layout);
    TRUN(test_repr_lengths);
    TRUN(test_repr_powers_of_two);
    TRUN(test_parse_table);
    TRUN(test_from_bytes_table);
    TRUN(test_parse_length_bound);
    TRUN(test_short_decimals);
    TRUN(test_bits);
    TRUN(test_locale);
    return TDONE();
}
