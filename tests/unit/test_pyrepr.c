/*
 * test_pyrepr.c - explicit expectations for src/pyrepr.c.
 *
 * Expected strings are CPython 3.11's repr() of the same values;
 * tests/py/test_pyrepr_diff.py compares every code point and random
 * values against python3 itself.
 */
#include <stdint.h>
#include <string.h>

#include "pyrepr.h"
#include "tcheck.h"

static char out[1024];

#define REPR_STR(in, want)                                                                         \
    do {                                                                                           \
        size_t n_ = pyrepr_str((const uint8_t *)(in), sizeof(in) - 1, out);                        \
        CHECK(n_ <= 10 * (sizeof(in) - 1) + 2);                                                    \
        CHECK_EQ_MEM(out, n_, want, sizeof(want) - 1);                                             \
    } while (0)

#define REPR_BYTES(in, want)                                                                       \
    do {                                                                                           \
        size_t n_ = pyrepr_bytes((const uint8_t *)(in), sizeof(in) - 1, out);                      \
        CHECK(n_ <= 4 * (sizeof(in) - 1) + 3);                                                     \
        CHECK_EQ_MEM(out, n_, want, sizeof(want) - 1);                                             \
    } while (0)

static void test_isprintable(void) {
    static const struct {
        uint32_t cp;
        int printable;
    } cases[] = {
        {0x00, 0},     {0x1F, 0},     {0x20, 1},       {0x7E, 1},    {0x7F, 0},    {0x85, 0},
        {0xA0, 0},     {0xA1, 1},     {0xAD, 0},       {0xE9, 1},    {0x377, 1},   {0x378, 0},
        {0x61C, 0},    {0x2028, 0},   {0x2029, 0},     {0x200B, 0},  {0x3000, 0},  {0xD800, 0},
        {0xDFFF, 0},   {0xE000, 0},   {0xFEFF, 0},     {0xFFFD, 1},  {0xFFFF, 0},  {0x10000, 1},
        {0x1F600, 1},  {0x1FAF8, 0},  {0xE0001, 0},    {0xE0100, 1}, {0xE01EF, 1}, {0xE01F0, 0},
        {0x10FFFF, 0}, {0x110000, 0}, {0xFFFFFFFF, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (pyrepr_isprintable(cases[k].cp) != cases[k].printable)
            TFAIL_("isprintable(U+%04X) != %d", (unsigned)cases[k].cp, cases[k].printable);
        tcheck_checks++;
    }
}

static void test_repr_str_quotes(void) {
    REPR_STR("", "''");
    REPR_STR("abc", "'abc'");
    REPR_STR("'", "\"'\"");           /* ' only: double quotes, nothing escaped */
    REPR_STR("\"", "'\"'");           /* " only: single quotes */
    REPR_STR("a'b\"c", "'a\\'b\"c'"); /* both: single quotes, ' escaped */
    REPR_STR("it's", "\"it's\"");
}

static void test_repr_str_escapes(void) {
    REPR_STR("a\\b", "'a\\\\b'");
    REPR_STR("\t\n\r\x00\x1f\x7f", "'\\t\\n\\r\\x00\\x1f\\x7f'");
    REPR_STR("\x0b\x0c", "'\\x0b\\x0c'");
    /* U+0080, U+00A0, U+00AD, U+00E9 */
    REPR_STR("\xc2\x80\xc2\xa0\xc2\xad\xc3\xa9", "'\\x80\\xa0\\xad\xc3\xa9'");
    REPR_STR("\xe2\x80\xa8\xe3\x80\x80", "'\\u2028\\u3000'");
    REPR_STR("\xed\xa0\x80\xed\xbf\xbf", "'\\ud800\\udfff'");      /* lone surrogates */
    REPR_STR("\xef\xbf\xbd\xef\xbf\xbf", "'\xef\xbf\xbd\\uffff'"); /* U+FFFD, U+FFFF */
    REPR_STR("\xf0\x9f\x98\x80", "'\xf0\x9f\x98\x80'");            /* U+1F600 */
    REPR_STR("\xf3\xa0\x80\x80\xf4\x8f\xbf\xbf", "'\\U000e0000\\U0010ffff'");
    REPR_STR("\xcd\xb8", "'\\u0378'"); /* unassigned */
}

static void test_repr_bytes(void) {
    REPR_BYTES("", "b''");
    REPR_BYTES("abc", "b'abc'");
    REPR_BYTES("'", "b\"'\"");
    REPR_BYTES("\"", "b'\"'");
    REPR_BYTES("'\"", "b'\\'\"'");
    REPR_BYTES("\x00\t\n\r\x7f\x80\xff\\ ~", "b'\\x00\\t\\n\\r\\x7f\\x80\\xff\\\\ ~'");
    REPR_BYTES("\xc3\xa9", "b'\\xc3\\xa9'");
}

int main(void) {
    TRUN(test_isprintable);
    TRUN(test_repr_str_quotes);
    TRUN(test_repr_str_escapes);
    TRUN(test_repr_bytes);
    return TDONE();
}
