/*
 * test_dis.c - brine_dis() through its C interface: exact output for a few
 * streams, partial output and error class when pickletools would raise,
 * write failures, and the chunked repr() of long str, bytes and bytearray
 * arguments against pyrepr_str()/pyrepr_bytes() on the whole value. The
 * differential test against pickletools itself is tests/py/test_dis_diff.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "pyrepr.h"
#include "pytext.h"
#include "tcheck.h"

typedef struct {
    char *data;
    size_t len, cap;
    int calls, fail_at; /* fail the fail_at-th call (1-based); 0 never */
} sink;

static int sink_write(void *ctx, const void *p, size_t n) {
    sink *s = ctx;
    if (++s->calls == s->fail_at) return -1;
    if (s->len + n + 1 > s->cap) {
        size_t nc = (s->len + n + 1) * 2;
        char *q = realloc(s->data, nc);
        if (!q) return -1;
        s->data = q;
        s->cap = nc;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    s->data[s->len] = '\0';
    return 0;
}

/* Runs brine_dis on n bytes; returns its result, output in *out. */
static int run(const void *p, size_t n, sink *out, brine_error *err) {
    memset(out, 0, sizeof *out);
    int rc = brine_dis(p, n, sink_write, out, err);
    if (!out->data) sink_write(out, "", 0);
    return rc;
}

#define DIS_OK(stream, want)                                                                       \
    do {                                                                                           \
        sink o_;                                                                                   \
        brine_error e_;                                                                            \
        CHECK_EQ_INT(run(stream, sizeof stream - 1, &o_, &e_), 0);                                 \
        CHECK_EQ_MEM(o_.data, o_.len, want, strlen(want));                                         \
        free(o_.data);                                                                             \
    } while (0)

#define DIS_FAIL(stream, want, cls, ecode)                                                         \
    do {                                                                                           \
        sink o_;                                                                                   \
        brine_error e_;                                                                            \
        CHECK_EQ_INT(run(stream, sizeof stream - 1, &o_, &e_), -1);                                \
        CHECK_EQ_MEM(o_.data, o_.len, want, strlen(want));                                         \
        CHECK_EQ_STR(e_.pyclass, cls);                                                             \
        CHECK_EQ_INT(e_.code, ecode);                                                              \
        free(o_.data);                                                                             \
    } while (0)

static void test_basic(void) {
    DIS_OK("\x80\x02]q\x00(K\x01X\x02\x00\x00\x00h'e.", "    0: \\x80 PROTO      2\n"
                                                        "    2: ]    EMPTY_LIST\n"
                                                        "    3: q    BINPUT     0\n"
                                                        "    5: (    MARK\n"
                                                        "    6: K        BININT1    1\n"
                                                        "    8: X        BINUNICODE \"h'\"\n"
                                                        "   15: e        APPENDS    (MARK at 5)\n"
                                                        "   16: .    STOP\n"
                                                        "highest protocol among opcodes = 2\n");
    DIS_OK("I01\np00\n0I00\n.", "    0: I    INT        True\n"
                                "    4: p    PUT        False\n"
                                "    8: 0    POP\n"
                                "    9: I    INT        False\n"
                                "   13: .    STOP\n"
                                "highest protocol among opcodes = 0\n");
    DIS_OK("N\x94\x94\x96\x02\x00\x00\x00\x00\x00\x00\x00'\"0.",
           "    0: N    NONE\n"
           "    1: \\x94 MEMOIZE    (as 0)\n"
           "    2: \\x94 MEMOIZE    (as 1)\n"
           "    3: \\x96 BYTEARRAY8 bytearray(b'\\'\"')\n"
           "   14: 0    POP\n"
           "   15: .    STOP\n"
           "highest protocol among opcodes = 5\n");
    DIS_OK("S'\n.", "    0: S    STRING     ''\n"
                    "    3: .    STOP\n"
                    "highest protocol among opcodes = 0\n");
    DIS_OK("c__main__\nF\\x6fo\n.", "    0: c    GLOBAL     '__main__ Foo'\n"
                                    "   17: .    STOP\n"
                                    "highest protocol among opcodes = 0\n");
}

static void test_failures(void) {
    DIS_FAIL("", "", "ValueError", BRINE_E_TRUNCATED);
    DIS_FAIL("N\xff", "    0: N    NONE\n", "ValueError", BRINE_E_BAD_OPCODE);
    /* The mark was popped by APPEND; LIST then finds none: IndexError after
     * the offset is printed. */
    DIS_FAIL("N(al.",
             "    0: N    NONE\n    1: (    MARK\n    2: a        APPEND\n    3: ", "IndexError",
             BRINE_E_INDEX_RANGE);
    DIS_FAIL("l.", "    0: l    LIST       no MARK exists on stack\n", "ValueError",
             BRINE_E_NO_MARK);
    DIS_FAIL("h\x00.", "    0: h    BINGET     0\n", "ValueError", BRINE_E_MEMO_MISSING);
    DIS_FAIL("Nq\x01N\x94.",
             "    0: N    NONE\n    1: q    BINPUT     1\n    3: N    NONE\n"
             "    4: \\x94 MEMOIZE    (as 1)\n",
             "ValueError", BRINE_E_USAGE);
    DIS_FAIL("NN.",
             "    0: N    NONE\n    1: N    NONE\n    2: .    STOP\n"
             "highest protocol among opcodes = 0\n",
             "ValueError", BRINE_E_USAGE);
    DIS_FAIL("a.", "    0: a    APPEND\n", "ValueError", BRINE_E_STACK_UNDERFLOW);
    DIS_FAIL("S'\\xff'\n.", "", "UnicodeDecodeError", BRINE_E_UNICODE_DECODE);
    DIS_FAIL("X\x02\x00\x00\x00\xc3(.", "", "UnicodeDecodeError", BRINE_E_UNICODE_DECODE);
    DIS_FAIL("T\xff\xff\xff\xff.", "", "ValueError", BRINE_E_LONG_NEGATIVE);
    DIS_FAIL("I1L\n.", "", "ValueError", BRINE_E_LONG_PARSE);

    /* repr() of a LONG4 value over 4300 digits fails after "%5d: ". */
    static uint8_t big[2000];
    big[0] = 0x8b; /* LONG4 of 1990 bytes: about 4790 digits */
    big[1] = (uint8_t)(1990 & 0xff), big[2] = (uint8_t)(1990 >> 8);
    for (size_t i = 5; i < 5 + 1990; i++)
        big[i] = 0x11;
    big[1995] = '.';
    sink o;
    brine_error e;
    CHECK_EQ_INT(run(big, 1996, &o, &e), -1);
    CHECK_EQ_MEM(o.data, o.len, "    0: ", 7);
    CHECK_EQ_INT(e.code, BRINE_E_INT_DIGITS);
    free(o.data);

    /* err may be NULL; write may not. */
    memset(&o, 0, sizeof o);
    CHECK_EQ_INT(brine_dis("N.", 2, sink_write, &o, NULL), 0);
    free(o.data);
    CHECK_EQ_INT(brine_dis("N.", 2, NULL, NULL, &e), -1);
    CHECK_EQ_INT(e.code, BRINE_E_USAGE);
}

static void test_write_failure(void) {
    /* Enough lines to need several writes of the output buffer. */
    static uint8_t p[30001];
    for (size_t i = 0; i < 30000; i += 2)
        p[i] = 'N', p[i + 1] = '0';
    p[30000] = '.';
    for (int at = 1; at <= 3; at++) {
        sink o;
        brine_error e;
        memset(&o, 0, sizeof o);
        o.fail_at = at;
        CHECK_EQ_INT(brine_dis(p, 30000, sink_write, &o, &e), -1);
        CHECK_EQ_INT(e.code, BRINE_E_IO);
        free(o.data);
    }
    /* A write failure while flushing after a pickletools error wins. */
    sink o;
    brine_error e;
    memset(&o, 0, sizeof o);
    o.fail_at = 1;
    CHECK_EQ_INT(brine_dis("NN.", 3, sink_write, &o, &e), -1);
    CHECK_EQ_INT(e.code, BRINE_E_IO);
    free(o.data);
}

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* Long arguments cross the chunks out_repr() cuts; the result must be the
 * repr of the whole value. */
static void test_long_reprs(void) {
    static const uint32_t pool[] = {'a',    '\'',   '"',    '\\',    '\n',    0x7f,  0xe9,  0x85,
                                    0x20ac, 0xd800, 0xdfff, 0x1f600, 0xe0001, 0x378, 0xffff};
    const size_t npool = sizeof pool / sizeof pool[0];
    for (int round = 0; round < 60; round++) {
        size_t ncp = rnd() % 4000;
        int kind = round % 3; /* 0 str, 1 bytes, 2 bytearray */
        int quotes = round % 4 != 3;
        uint8_t *val = malloc(4 * ncp + 1);
        size_t n = 0;
        for (size_t k = 0; k < ncp; k++) {
            uint32_t cp = pool[rnd() % npool];
            if (!quotes && (cp == '\'' || cp == '"')) cp = 'q';
            if (kind)
                val[n++] = (uint8_t)cp;
            else
                n += pt_put_cp(val + n, cp);
        }
        uint8_t *stream = malloc(n + 16);
        size_t sn = 0;
        stream[sn++] = kind == 0 ? 'X' : kind == 1 ? 'B' : 0x96;
        for (int b = 0; b < (kind == 2 ? 8 : 4); b++)
            stream[sn++] = (uint8_t)(n >> (8 * b));
        memcpy(stream + sn, val, n);
        sn += n;
        stream[sn++] = '.';

        char *want = malloc(10 * n + 64);
        size_t wn = kind ? pyrepr_bytes(val, n, want) : pyrepr_str(val, n, want);
        if (kind == 2 && want[1] == '"') { /* bytearray's repr escapes ' always */
            char *fixed = malloc(2 * wn + 16);
            size_t fn = 0;
            for (size_t k = 0; k < wn; k++) {
                if (want[k] == '\'') fixed[fn++] = '\\';
                fixed[fn++] = want[k];
            }
            free(want);
            want = fixed;
            wn = fn;
        }
        sink o;
        brine_error e;
        CHECK_EQ_INT(run(stream, sn, &o, &e), 0);
        const char *name = kind == 0   ? "X    BINUNICODE "
                           : kind == 1 ? "B    BINBYTES   "
                                       : "\\x96 BYTEARRAY8 ";
        size_t pl = 7 + strlen(name);
        int ok = o.len > pl && memcmp(o.data + 7, name, strlen(name)) == 0;
        const char *arg = o.data + pl;
        if (kind == 2) {
            ok = ok && memcmp(arg, "bytearray(", 10) == 0;
            arg += 10;
        }
        ok = ok && memcmp(arg, want, wn) == 0 && arg[wn] == (kind == 2 ? ')' : '\n');
        CHECK(ok);
        free(o.data);
        free(want);
        free(stream);
        free(val);
    }
}

/* Deep MARK nesting and a large memo, with bounded work. */
static void test_big_structures(void) {
    enum { DEPTH = 3000, MEMO = 100000 };
    uint8_t *p = malloc(2 * DEPTH + 6 * MEMO + 16);
    size_t n = 0;
    for (int i = 0; i < DEPTH; i++)
        p[n++] = '(';
    for (int i = 0; i < DEPTH; i++)
        p[n++] = 't';
    for (int i = 0; i < MEMO; i++) {
        p[n++] = 'r';
        for (int b = 0; b < 4; b++)
            p[n++] = (uint8_t)((uint32_t)(i * 7919) >> (8 * b));
    }
    p[n++] = 'j'; /* LONG_BINGET 7919, stored by i = 1 */
    for (int b = 0; b < 4; b++)
        p[n++] = (uint8_t)(7919u >> (8 * b));
    p[n++] = '0';
    p[n++] = '.';
    sink o;
    brine_error e;
    CHECK_EQ_INT(run(p, n, &o, &e), 0);
    const char *tail = "highest protocol among opcodes = 1\n";
    CHECK(o.len > strlen(tail) && strcmp(o.data + o.len - strlen(tail), tail) == 0);
    free(o.data);
    free(p);
}

int main(void) {
    TRUN(test_basic);
    TRUN(test_failures);
    TRUN(test_write_failure);
    TRUN(test_long_reprs);
    TRUN(test_big_structures);
    return TDONE();
}
