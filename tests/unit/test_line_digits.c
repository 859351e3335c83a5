/*
 * test_line_digits.c - the decimal lines of GET, PUT and INT (decode.h),
 * read a word at a time, against the plain reading they must equal.
 *
 * The reference reads 1 to 18 digits and a newline byte by byte. Inputs
 * are every digit count from 0 to 20 followed by every kind of byte that
 * can follow (newline, digits' neighbours '/' and ':', bytes whose nibbles
 * look like a digit's, 0xFA..0xFF whose +6 carries), at every available
 * length, plus random lines mixing digits and junk.
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "tcheck.h"

static size_t reference(const uint8_t *p, size_t avail, uint64_t *out) {
    uint64_t v = 0;
    size_t k = 0;
    while (k < avail && k < 19 && p[k] >= '0' && p[k] <= '9')
        v = v * 10 + (uint64_t)(p[k++] - '0');
    if (k == 0 || k > 18 || k == avail || p[k] != '\n') return 0;
    *out = v;
    return k;
}

static void check_one(const uint8_t *p, size_t avail) {
    uint64_t want = 0, got = 0;
    size_t kw = reference(p, avail, &want), kg = line_digits(p, avail, &got);
    CHECK_EQ_INT(kg, kw);
    if (kw && kg == kw) CHECK_EQ_INT(got, want);
}

static void test_digit_runs(void) {
    static const uint8_t after[] = {'\n', '/',  ':',  '0',  '9',  0x00, 0x20, 0x3A, 0x3F,
                                    0x39, 0x40, 0x80, 0xB3, 0xF9, 0xFA, 0xFF, '-'};
    uint8_t buf[40];
    for (size_t ndig = 0; ndig <= 20; ndig++)
        for (size_t a = 0; a < sizeof after; a++)
            for (unsigned seed = 0; seed < 20; seed++) {
                srand(seed * 131 + (unsigned)ndig);
                for (size_t i = 0; i < sizeof buf; i++)
                    buf[i] = (uint8_t)rand();
                for (size_t i = 0; i < ndig; i++)
                    buf[i] = (uint8_t)('0' + (seed == 0 ? 9 : rand() % 10));
                buf[ndig] = after[a];
                for (size_t avail = 0; avail <= sizeof buf; avail++)
                    check_one(buf, avail);
            }
}

static void test_random_lines(void) {
    static const uint8_t alphabet[] = "0123456789\n/:\xfa\xff\x3a\x39\x30";
    uint8_t buf[24];
    srand(7);
    for (int iter = 0; iter < 200000; iter++) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = rand() % 4 ? (uint8_t)('0' + rand() % 10) : alphabet[rand() % 18];
        check_one(buf, (size_t)(rand() % (int)(sizeof buf + 1)));
    }
}

int main(void) {
    TRUN(test_digit_runs);
    TRUN(test_random_lines);
    return TDONE();
}
