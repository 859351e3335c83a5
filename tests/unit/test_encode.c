/*
 * test_encode.c - brine_encode(): opcode choices and boundaries pinned to
 * the bytes CPython 3.11 writes, and the behaviour no CPython value can
 * show (errors, options, callbacks, nodes CPython never writes, depth,
 * streaming).
 *
 * The PINS table gives, for a Python expression, its protocol 5 pickle and
 * what pickle.dumps writes at other protocols; each pin decodes the
 * protocol 5 pickle (both policies) and encodes it at the other protocol.
 * tests/py/test_encode_pins.py checks the table itself against CPython.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brine.h"
#include "tcheck.h"
#include "value.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct out {
    uint8_t *p;
    size_t n, cap;
    size_t calls, max_call; /* write callback calls and the largest one */
    const void *last_data;  /* data pointer of the last call */
    size_t fail_after;      /* fail once this many bytes were written (0 = never) */
} out;

static int out_cb(void *ctx, const void *data, size_t len) {
    out *o = ctx;
    if (o->fail_after && o->n + len >= o->fail_after) return 1;
    if (len > o->cap - o->n) {
        size_t ncap = o->cap ? o->cap : 256;
        while (ncap - o->n < len)
            ncap *= 2;
        uint8_t *p = realloc(o->p, ncap);
        if (!p) return 1;
        o->p = p;
        o->cap = ncap;
    }
    memcpy(o->p + o->n, data, len);
    o->n += len;
    o->calls++;
    if (len > o->max_call) o->max_call = len;
    o->last_data = data;
    return 0;
}

/* Encodes doc at proto into o (reset first). Returns brine_encode's result. */
static int encode(const brine_doc *doc, int proto, out *o, brine_error *err) {
    brine_encode_options opts;
    brine_encode_options_init(&opts);
    opts.protocol = proto;
    o->n = o->calls = o->max_call = 0;
    return brine_encode(doc, &opts, out_cb, o, err);
}

static size_t unhex(const char *h, uint8_t *outp) {
    size_t n = 0;
    while (*h) {
        if (*h == ' ') {
            h++;
            continue;
        }
        unsigned v;
        char pair[3] = {h[0], h[1], 0};
        v = (unsigned)strtoul(pair, NULL, 16);
        outp[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

/* Expects the encoding of doc at proto to be exactly want[0..wlen). */
#define EXPECT_BYTES(doc, proto, want, wlen)                                                       \
    do {                                                                                           \
        out o_ = {0};                                                                              \
        brine_error e_;                                                                            \
        int rc_ = encode(doc, proto, &o_, &e_);                                                    \
        CHECK_EQ_INT(rc_, 0);                                                                      \
        if (rc_ == 0)                                                                              \
            CHECK_EQ_MEM(o_.p, o_.n, want, wlen);                                                  \
        else                                                                                       \
            fprintf(stderr, "  error: %s: %s\n", e_.pyclass, e_.msg);                              \
        free(o_.p);                                                                                \
    } while (0)

#define EXPECT(doc, proto, lit) EXPECT_BYTES(doc, proto, lit, sizeof(lit) - 1)

#define EXPECT_ERROR(doc, proto, code_)                                                            \
    do {                                                                                           \
        out o_ = {0};                                                                              \
        brine_error e_;                                                                            \
        int rc_ = encode(doc, proto, &o_, &e_);                                                    \
        CHECK_EQ_INT(rc_, -1);                                                                     \
        if (rc_ < 0) CHECK_EQ_INT(e_.code, code_);                                                 \
        free(o_.p);                                                                                \
    } while (0)

static brine_value *str(brine_doc *doc, const char *s) {
    return brine_new_str(doc, s, strlen(s), NULL);
}

static brine_value *global(brine_doc *doc, const char *m, const char *n) {
    return brine_new_global(doc, m, strlen(m), n, strlen(n), NULL);
}

/* ------------------------------------------------------------------------ */
/* Pins                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct pin {
    const char *expr;    /* the Python value (for test_encode_pins.py) */
    const char *src;     /* pickle.dumps(value, 5), hex */
    const char *want[6]; /* pickle.dumps(value, p), hex, or "!ErrorClass"; NULL = not pinned */
} pin;

/* clang-format off */
static const pin PINS[] = {
    {"0",
     "80 05 4b 00 2e",
     {[0] = "49 30 0a 2e",
      [1] = "4b 00 2e",
      [2] = "80 02 4b 00 2e"}},
    {"255",
     "80 05 4b ff 2e",
     {[0] = "49 32 35 35 0a 2e",
      [1] = "4b ff 2e",
      [2] = "80 02 4b ff 2e"}},
    {"256",
     "80 05 95 04 00 00 00 00 00 00 00 4d 00 01 2e",
     {[1] = "4d 00 01 2e"}},
    {"65535",
     "80 05 95 04 00 00 00 00 00 00 00 4d ff ff 2e",
     {[1] = "4d ff ff 2e"}},
    {"65536",
     "80 05 95 06 00 00 00 00 00 00 00 4a 00 00 01 00 2e",
     {[1] = "4a 00 00 01 00 2e"}},
    {"-1",
     "80 05 95 06 00 00 00 00 00 00 00 4a ff ff ff ff 2e",
     {[0] = "49 2d 31 0a 2e",
      [1] = "4a ff ff ff ff 2e"}},
    {"-256",
     "80 05 95 06 00 00 00 00 00 00 00 4a 00 ff ff ff 2e",
     {[1] = "4a 00 ff ff ff 2e"}},
    {"2**31-1",
     "80 05 95 06 00 00 00 00 00 00 00 4a ff ff ff 7f 2e",
     {[0] = "49 32 31 34 37 34 38 33 36 34 37 0a 2e",
      [1] = "4a ff ff ff 7f 2e"}},
    {"2**31",
     "80 05 95 08 00 00 00 00 00 00 00 8a 05 00 00 00 80 00 2e",
     {[0] = "4c 32 31 34 37 34 38 33 36 34 38 4c 0a 2e",
      [1] = "4c 32 31 34 37 34 38 33 36 34 38 4c 0a 2e",
      [2] = "80 02 8a 05 00 00 00 80 00 2e"}},
    {"-2**31",
     "80 05 95 06 00 00 00 00 00 00 00 4a 00 00 00 80 2e",
     {[0] = "49 2d 32 31 34 37 34 38 33 36 34 38 0a 2e",
      [1] = "4a 00 00 00 80 2e"}},
    {"-2**31-1",
     "80 05 95 08 00 00 00 00 00 00 00 8a 05 ff ff ff 7f ff 2e",
     {[0] = "4c 2d 32 31 34 37 34 38 33 36 34 39 4c 0a 2e",
      [2] = "80 02 8a 05 ff ff ff 7f ff 2e"}},
    {"2**63",
     "80 05 95 0c 00 00 00 00 00 00 00 8a 09 00 00 00 00 00 00 00 80 00 2e",
     {[2] = "80 02 8a 09 00 00 00 00 00 00 00 80 00 2e"}},
    {"-2**63-1",
     "80 05 95 0c 00 00 00 00 00 00 00 8a 09 ff ff ff ff ff ff ff 7f ff 2e",
     {[2] = "80 02 8a 09 ff ff ff ff ff ff ff 7f ff 2e"}},
    {"-2**39",
     "80 05 95 08 00 00 00 00 00 00 00 8a 05 00 00 00 00 80 2e",
     {[2] = "80 02 8a 05 00 00 00 00 80 2e"}},
    {"2**39",
     "80 05 95 09 00 00 00 00 00 00 00 8a 06 00 00 00 00 80 00 2e",
     {[2] = "80 02 8a 06 00 00 00 00 80 00 2e"}},
    {"[True, False]",
     "80 05 95 07 00 00 00 00 00 00 00 5d 94 28 88 89 65 2e",
     {[0] = "28 6c 70 30 0a 49 30 31 0a 61 49 30 30 0a 61 2e",
      [1] = "5d 71 00 28 49 30 31 0a 49 30 30 0a 65 2e",
      [2] = "80 02 5d 71 00 28 88 89 65 2e"}},
    {"None",
     "80 05 4e 2e",
     {[0] = "4e 2e",
      [2] = "80 02 4e 2e"}},
    {"[1.5, -0.0, float('inf'), float('nan')]",
     "80 05 95 29 00 00 00 00 00 00 00 5d 94 28 47 3f f8 00 00 00 00 00 00 47 80 00 "
     "00 00 00 00 00 00 47 7f f0 00 00 00 00 00 00 47 7f f8 00 00 00 00 00 00 65 2e",
     {[0] = "28 6c 70 30 0a 46 31 2e 35 0a 61 46 2d 30 2e 30 0a 61 46 69 6e 66 0a 61 46 6e "
             "61 6e 0a 61 2e",
      [1] = "5d 71 00 28 47 3f f8 00 00 00 00 00 00 47 80 00 00 00 00 00 00 00 47 7f f0 00 "
             "00 00 00 00 00 47 7f f8 00 00 00 00 00 00 65 2e"}},
    {"struct.unpack('>d', bytes.fromhex('7ff0000000000001'))[0]",
     "80 05 95 0a 00 00 00 00 00 00 00 47 7f f0 00 00 00 00 00 01 2e",
     {[0] = "46 6e 61 6e 0a 2e",
      [1] = "47 7f f0 00 00 00 00 00 01 2e"}},
    {"['a\\\\\\n\\x00\\x1a\\r\\t', '\\u20ac\\U0001f600', '\\ud800']",
     "80 05 95 1f 00 00 00 00 00 00 00 5d 94 28 8c 07 61 5c 0a 00 1a 0d 09 94 8c 07 "
     "e2 82 ac f0 9f 98 80 94 8c 03 ed a0 80 94 65 2e",
     {[0] = "28 6c 70 30 0a 56 61 5c 75 30 30 35 63 5c 75 30 30 30 61 5c 75 30 30 30 30 5c "
             "75 30 30 31 61 5c 75 30 30 30 64 09 0a 70 31 0a 61 56 5c 75 32 30 61 63 5c 55 "
             "30 30 30 31 66 36 30 30 0a 70 32 0a 61 56 5c 75 64 38 30 30 0a 70 33 0a 61 2e",
      [1] = "5d 71 00 28 58 07 00 00 00 61 5c 0a 00 1a 0d 09 71 01 58 07 00 00 00 e2 82 ac "
             "f0 9f 98 80 71 02 58 03 00 00 00 ed a0 80 71 03 65 2e",
      [4] = "80 04 95 1f 00 00 00 00 00 00 00 5d 94 28 8c 07 61 5c 0a 00 1a 0d 09 94 8c 07 "
             "e2 82 ac f0 9f 98 80 94 8c 03 ed a0 80 94 65 2e"}},
    {"['', 'a', '', 'a']",
     "80 05 95 10 00 00 00 00 00 00 00 5d 94 28 8c 00 94 8c 01 61 94 68 01 68 02 65 "
     "2e",
     {[0] = "28 6c 70 30 0a 56 0a 70 31 0a 61 56 61 0a 70 32 0a 61 67 31 0a 61 67 32 0a 61 "
             "2e",
      [4] = "80 04 95 10 00 00 00 00 00 00 00 5d 94 28 8c 00 94 8c 01 61 94 68 01 68 02 65 "
             "2e"}},
    {"[b'', b'a', b'ab', b'\\xe9']",
     "80 05 95 15 00 00 00 00 00 00 00 5d 94 28 43 00 94 43 01 61 94 43 02 61 62 94 "
     "43 01 e9 94 65 2e",
     {[0] = "28 6c 70 30 0a 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 62 79 74 65 73 0a 70 31 "
             "0a 28 74 52 70 32 0a 61 63 5f 63 6f 64 65 63 73 0a 65 6e 63 6f 64 65 0a 70 33 "
             "0a 28 56 61 0a 70 34 0a 56 6c 61 74 69 6e 31 0a 70 35 0a 74 70 36 0a 52 70 37 "
             "0a 61 67 33 0a 28 56 61 62 0a 70 38 0a 67 35 0a 74 70 39 0a 52 70 31 30 0a 61 "
             "67 33 0a 28 56 e9 0a 70 31 31 0a 67 35 0a 74 70 31 32 0a 52 70 31 33 0a 61 2e",
      [1] = "5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 62 79 74 65 73 0a 71 01 29 "
             "52 71 02 63 5f 63 6f 64 65 63 73 0a 65 6e 63 6f 64 65 0a 71 03 28 58 01 00 00 "
             "00 61 71 04 58 06 00 00 00 6c 61 74 69 6e 31 71 05 74 71 06 52 71 07 68 03 28 "
             "58 02 00 00 00 61 62 71 08 68 05 74 71 09 52 71 0a 68 03 28 58 02 00 00 00 c3 "
             "a9 71 0b 68 05 74 71 0c 52 71 0d 65 2e",
      [2] = "80 02 5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 62 79 74 65 73 0a 71 "
             "01 29 52 71 02 63 5f 63 6f 64 65 63 73 0a 65 6e 63 6f 64 65 0a 71 03 58 01 00 "
             "00 00 61 71 04 58 06 00 00 00 6c 61 74 69 6e 31 71 05 86 71 06 52 71 07 68 03 "
             "58 02 00 00 00 61 62 71 08 68 05 86 71 09 52 71 0a 68 03 58 02 00 00 00 c3 a9 "
             "71 0b 68 05 86 71 0c 52 71 0d 65 2e",
      [3] = "80 03 5d 71 00 28 43 00 71 01 43 01 61 71 02 43 02 61 62 71 03 43 01 e9 71 04 "
             "65 2e"}},
    {"[b'a', b'a', b'ab']",
     "80 05 95 10 00 00 00 00 00 00 00 5d 94 28 43 01 61 94 68 01 43 02 61 62 94 65 "
     "2e",
     {[2] = "80 02 5d 71 00 28 63 5f 63 6f 64 65 63 73 0a 65 6e 63 6f 64 65 0a 71 01 58 01 "
             "00 00 00 61 71 02 58 06 00 00 00 6c 61 74 69 6e 31 71 03 86 71 04 52 71 05 68 "
             "05 68 01 58 02 00 00 00 61 62 71 06 68 03 86 71 07 52 71 08 65 2e"}},
    {"[bytearray(b'ab'), bytearray()]",
     "80 05 95 1b 00 00 00 00 00 00 00 5d 94 28 96 02 00 00 00 00 00 00 00 61 62 94 "
     "96 00 00 00 00 00 00 00 00 94 65 2e",
     {[1] = "5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 62 79 74 65 61 72 72 61 79 "
             "0a 71 01 28 63 5f 63 6f 64 65 63 73 0a 65 6e 63 6f 64 65 0a 71 02 28 58 02 00 "
             "00 00 61 62 71 03 58 06 00 00 00 6c 61 74 69 6e 31 71 04 74 71 05 52 71 06 74 "
             "71 07 52 71 08 68 01 29 52 71 09 65 2e",
      [2] = "80 02 5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 62 79 74 65 61 72 72 "
             "61 79 0a 71 01 63 5f 63 6f 64 65 63 73 0a 65 6e 63 6f 64 65 0a 71 02 58 02 00 "
             "00 00 61 62 71 03 58 06 00 00 00 6c 61 74 69 6e 31 71 04 86 71 05 52 71 06 85 "
             "71 07 52 71 08 68 01 29 52 71 09 65 2e",
      [3] = "80 03 5d 71 00 28 63 62 75 69 6c 74 69 6e 73 0a 62 79 74 65 61 72 72 61 79 0a "
             "71 01 43 02 61 62 71 02 85 71 03 52 71 04 68 01 29 52 71 05 65 2e",
      [4] = "80 04 95 2c 00 00 00 00 00 00 00 5d 94 28 8c 08 62 75 69 6c 74 69 6e 73 94 8c "
             "09 62 79 74 65 61 72 72 61 79 94 93 94 43 02 61 62 94 85 94 52 94 68 03 29 52 "
             "94 65 2e",
      [5] = "80 05 95 1b 00 00 00 00 00 00 00 5d 94 28 96 02 00 00 00 00 00 00 00 61 62 94 "
             "96 00 00 00 00 00 00 00 00 94 65 2e"}},
    {"[(), (1,), (1, 2, 3), (1, 2, 3, 4)]",
     "80 05 95 1d 00 00 00 00 00 00 00 5d 94 28 29 4b 01 85 94 4b 01 4b 02 4b 03 87 "
     "94 28 4b 01 4b 02 4b 03 4b 04 74 94 65 2e",
     {[0] = "28 6c 70 30 0a 28 74 61 28 49 31 0a 74 70 31 0a 61 28 49 31 0a 49 32 0a 49 33 "
             "0a 74 70 32 0a 61 28 49 31 0a 49 32 0a 49 33 0a 49 34 0a 74 70 33 0a 61 2e",
      [1] = "5d 71 00 28 29 28 4b 01 74 71 01 28 4b 01 4b 02 4b 03 74 71 02 28 4b 01 4b 02 "
             "4b 03 4b 04 74 71 03 65 2e",
      [2] = "80 02 5d 71 00 28 29 4b 01 85 71 01 4b 01 4b 02 4b 03 87 71 02 28 4b 01 4b 02 "
             "4b 03 4b 04 74 71 03 65 2e"}},
    {"(lambda l: (l.append((l,)), l[0])[1])([])",
     "80 05 95 0b 00 00 00 00 00 00 00 5d 94 68 00 85 94 61 30 68 01 2e",
     {[0] = "28 28 6c 70 30 0a 28 67 30 0a 74 70 31 0a 61 30 30 67 31 0a 2e",
      [1] = "28 5d 71 00 28 68 00 74 71 01 61 31 68 01 2e",
      [2] = "80 02 5d 71 00 68 00 85 71 01 61 30 68 01 2e",
      [4] = "80 04 95 0b 00 00 00 00 00 00 00 5d 94 68 00 85 94 61 30 68 01 2e"}},
    {"(lambda l: (l.append((l, 1, 2, 3)), l[0])[1])([])",
     "80 05 95 19 00 00 00 00 00 00 00 28 5d 94 28 68 00 4b 01 4b 02 4b 03 74 94 61 "
     "4b 01 4b 02 4b 03 31 68 01 2e",
     {[0] = "28 28 6c 70 30 0a 28 67 30 0a 49 31 0a 49 32 0a 49 33 0a 74 70 31 0a 61 49 31 "
             "0a 49 32 0a 49 33 0a 30 30 30 30 30 67 31 0a 2e",
      [1] = "28 5d 71 00 28 68 00 4b 01 4b 02 4b 03 74 71 01 61 4b 01 4b 02 4b 03 31 68 01 "
             "2e",
      [2] = "80 02 28 5d 71 00 28 68 00 4b 01 4b 02 4b 03 74 71 01 61 4b 01 4b 02 4b 03 31 "
             "68 01 2e"}},
    {"[[1], [1, 2]]",
     "80 05 95 12 00 00 00 00 00 00 00 5d 94 28 5d 94 4b 01 61 5d 94 28 4b 01 4b 02 "
     "65 65 2e",
     {[0] = "28 6c 70 30 0a 28 6c 70 31 0a 49 31 0a 61 61 28 6c 70 32 0a 49 31 0a 61 49 32 "
             "0a 61 61 2e",
      [1] = "5d 71 00 28 5d 71 01 4b 01 61 5d 71 02 28 4b 01 4b 02 65 65 2e",
      [2] = "80 02 5d 71 00 28 5d 71 01 4b 01 61 5d 71 02 28 4b 01 4b 02 65 65 2e"}},
    {"[{1: 2}, {1: 2, 3: 4}]",
     "80 05 95 18 00 00 00 00 00 00 00 5d 94 28 7d 94 4b 01 4b 02 73 7d 94 28 4b 01 "
     "4b 02 4b 03 4b 04 75 65 2e",
     {[0] = "28 6c 70 30 0a 28 64 70 31 0a 49 31 0a 49 32 0a 73 61 28 64 70 32 0a 49 31 0a "
             "49 32 0a 73 49 33 0a 49 34 0a 73 61 2e",
      [1] = "5d 71 00 28 7d 71 01 4b 01 4b 02 73 7d 71 02 28 4b 01 4b 02 4b 03 4b 04 75 65 "
             "2e",
      [2] = "80 02 5d 71 00 28 7d 71 01 4b 01 4b 02 73 7d 71 02 28 4b 01 4b 02 4b 03 4b 04 "
             "75 65 2e"}},
    {"[{1, 2}, frozenset({1}), frozenset()]",
     "80 05 95 15 00 00 00 00 00 00 00 5d 94 28 8f 94 28 4b 01 4b 02 90 28 4b 01 91 "
     "94 28 91 94 65 2e",
     {[0] = "28 6c 70 30 0a 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 73 65 74 0a 70 31 0a 28 "
             "28 6c 70 32 0a 49 31 0a 61 49 32 0a 61 74 70 33 0a 52 70 34 0a 61 63 5f 5f 62 "
             "75 69 6c 74 69 6e 5f 5f 0a 66 72 6f 7a 65 6e 73 65 74 0a 70 35 0a 28 28 6c 70 "
             "36 0a 49 31 0a 61 74 70 37 0a 52 70 38 0a 61 67 35 0a 28 28 6c 70 39 0a 74 70 "
             "31 30 0a 52 70 31 31 0a 61 2e",
      [2] = "80 02 5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 73 65 74 0a 71 01 5d "
             "71 02 28 4b 01 4b 02 65 85 71 03 52 71 04 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f "
             "0a 66 72 6f 7a 65 6e 73 65 74 0a 71 05 5d 71 06 4b 01 61 85 71 07 52 71 08 68 "
             "05 5d 71 09 85 71 0a 52 71 0b 65 2e",
      [3] = "80 03 5d 71 00 28 63 62 75 69 6c 74 69 6e 73 0a 73 65 74 0a 71 01 5d 71 02 28 "
             "4b 01 4b 02 65 85 71 03 52 71 04 63 62 75 69 6c 74 69 6e 73 0a 66 72 6f 7a 65 "
             "6e 73 65 74 0a 71 05 5d 71 06 4b 01 61 85 71 07 52 71 08 68 05 5d 71 09 85 71 "
             "0a 52 71 0b 65 2e",
      [4] = "80 04 95 15 00 00 00 00 00 00 00 5d 94 28 8f 94 28 4b 01 4b 02 90 28 4b 01 91 "
             "94 28 91 94 65 2e"}},
    {"[1+2j, 1+2j]",
     "80 05 95 34 00 00 00 00 00 00 00 5d 94 28 8c 08 62 75 69 6c 74 69 6e 73 94 8c "
     "07 63 6f 6d 70 6c 65 78 94 93 94 47 3f f0 00 00 00 00 00 00 47 40 00 00 00 00 "
     "00 00 00 86 94 52 94 68 05 65 2e",
     {[0] = "28 6c 70 30 0a 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 63 6f 6d 70 6c 65 78 0a "
             "70 31 0a 28 46 31 2e 30 0a 46 32 2e 30 0a 74 70 32 0a 52 70 33 0a 61 67 33 0a "
             "61 2e",
      [2] = "80 02 5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 63 6f 6d 70 6c 65 78 "
             "0a 71 01 47 3f f0 00 00 00 00 00 00 47 40 00 00 00 00 00 00 00 86 71 02 52 71 "
             "03 68 03 65 2e",
      [4] = "80 04 95 34 00 00 00 00 00 00 00 5d 94 28 8c 08 62 75 69 6c 74 69 6e 73 94 8c "
             "07 63 6f 6d 70 6c 65 78 94 93 94 47 3f f0 00 00 00 00 00 00 47 40 00 00 00 00 "
             "00 00 00 86 94 52 94 68 05 65 2e"}},
    {"(lambda c: [c, c])(3j)",
     "80 05 95 34 00 00 00 00 00 00 00 5d 94 28 8c 08 62 75 69 6c 74 69 6e 73 94 8c "
     "07 63 6f 6d 70 6c 65 78 94 93 94 47 00 00 00 00 00 00 00 00 47 40 08 00 00 00 "
     "00 00 00 86 94 52 94 68 05 65 2e",
     {[2] = "80 02 5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 63 6f 6d 70 6c 65 78 "
             "0a 71 01 47 00 00 00 00 00 00 00 00 47 40 08 00 00 00 00 00 00 86 71 02 52 71 "
             "03 68 03 65 2e"}},
    {"[len, len]",
     "80 05 95 1a 00 00 00 00 00 00 00 5d 94 28 8c 08 62 75 69 6c 74 69 6e 73 94 8c "
     "03 6c 65 6e 94 93 94 68 03 65 2e",
     {[0] = "28 6c 70 30 0a 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 6c 65 6e 0a 70 31 0a 61 "
             "67 31 0a 61 2e",
      [2] = "80 02 5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 6c 65 6e 0a 71 01 68 "
             "01 65 2e",
      [3] = "80 03 5d 71 00 28 63 62 75 69 6c 74 69 6e 73 0a 6c 65 6e 0a 71 01 68 01 65 2e",
      [4] = "80 04 95 1a 00 00 00 00 00 00 00 5d 94 28 8c 08 62 75 69 6c 74 69 6e 73 94 8c "
             "03 6c 65 6e 94 93 94 68 03 65 2e"}},
    {"ast.NodeVisitor.visit",
     "80 05 95 1d 00 00 00 00 00 00 00 8c 03 61 73 74 94 8c 11 4e 6f 64 65 56 69 73 "
     "69 74 6f 72 2e 76 69 73 69 74 94 93 94 2e",
     {[0] = "63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 67 65 74 61 74 74 72 0a 70 30 0a 28 63 "
             "61 73 74 0a 4e 6f 64 65 56 69 73 69 74 6f 72 0a 70 31 0a 56 76 69 73 69 74 0a "
             "70 32 0a 74 70 33 0a 52 70 34 0a 2e",
      [2] = "80 02 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 67 65 74 61 74 74 72 0a 71 00 63 "
             "61 73 74 0a 4e 6f 64 65 56 69 73 69 74 6f 72 0a 71 01 58 05 00 00 00 76 69 73 "
             "69 74 71 02 86 71 03 52 71 04 2e",
      [3] = "80 03 63 62 75 69 6c 74 69 6e 73 0a 67 65 74 61 74 74 72 0a 71 00 63 61 73 74 "
             "0a 4e 6f 64 65 56 69 73 69 74 6f 72 0a 71 01 58 05 00 00 00 76 69 73 69 74 71 "
             "02 86 71 03 52 71 04 2e",
      [4] = "80 04 95 1d 00 00 00 00 00 00 00 8c 03 61 73 74 94 8c 11 4e 6f 64 65 56 69 73 "
             "69 74 6f 72 2e 76 69 73 69 74 94 93 94 2e"}},
    {"[range, ImportError, ModuleNotFoundError]",
     "80 05 95 46 00 00 00 00 00 00 00 5d 94 28 8c 08 62 75 69 6c 74 69 6e 73 94 8c "
     "05 72 61 6e 67 65 94 93 94 68 01 8c 0b 49 6d 70 6f 72 74 45 72 72 6f 72 94 93 "
     "94 68 01 8c 13 4d 6f 64 75 6c 65 4e 6f 74 46 6f 75 6e 64 45 72 72 6f 72 94 93 "
     "94 65 2e",
     {[0] = "28 6c 70 30 0a 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 78 72 61 6e 67 65 0a 70 "
             "31 0a 61 63 65 78 63 65 70 74 69 6f 6e 73 0a 49 6d 70 6f 72 74 45 72 72 6f 72 "
             "0a 70 32 0a 61 63 65 78 63 65 70 74 69 6f 6e 73 0a 49 6d 70 6f 72 74 45 72 72 "
             "6f 72 0a 70 33 0a 61 2e",
      [2] = "80 02 5d 71 00 28 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 78 72 61 6e 67 65 0a "
             "71 01 63 65 78 63 65 70 74 69 6f 6e 73 0a 49 6d 70 6f 72 74 45 72 72 6f 72 0a "
             "71 02 63 65 78 63 65 70 74 69 6f 6e 73 0a 49 6d 70 6f 72 74 45 72 72 6f 72 0a "
             "71 03 65 2e",
      [3] = "80 03 5d 71 00 28 63 62 75 69 6c 74 69 6e 73 0a 72 61 6e 67 65 0a 71 01 63 62 "
             "75 69 6c 74 69 6e 73 0a 49 6d 70 6f 72 74 45 72 72 6f 72 0a 71 02 63 62 75 69 "
             "6c 74 69 6e 73 0a 4d 6f 64 75 6c 65 4e 6f 74 46 6f 75 6e 64 45 72 72 6f 72 0a "
             "71 03 65 2e"}},
    {"collections.OrderedDict(a=1, b=2)",
     "80 05 95 30 00 00 00 00 00 00 00 8c 0b 63 6f 6c 6c 65 63 74 69 6f 6e 73 94 8c "
     "0b 4f 72 64 65 72 65 64 44 69 63 74 94 93 94 29 52 94 28 8c 01 61 94 4b 01 8c "
     "01 62 94 4b 02 75 2e",
     {[0] = "63 63 6f 6c 6c 65 63 74 69 6f 6e 73 0a 4f 72 64 65 72 65 64 44 69 63 74 0a 70 "
             "30 0a 28 74 52 70 31 0a 56 61 0a 70 32 0a 49 31 0a 73 56 62 0a 70 33 0a 49 32 "
             "0a 73 2e",
      [1] = "63 63 6f 6c 6c 65 63 74 69 6f 6e 73 0a 4f 72 64 65 72 65 64 44 69 63 74 0a 71 "
             "00 29 52 71 01 28 58 01 00 00 00 61 71 02 4b 01 58 01 00 00 00 62 71 03 4b 02 "
             "75 2e",
      [2] = "80 02 63 63 6f 6c 6c 65 63 74 69 6f 6e 73 0a 4f 72 64 65 72 65 64 44 69 63 74 "
             "0a 71 00 29 52 71 01 28 58 01 00 00 00 61 71 02 4b 01 58 01 00 00 00 62 71 03 "
             "4b 02 75 2e",
      [4] = "80 04 95 30 00 00 00 00 00 00 00 8c 0b 63 6f 6c 6c 65 63 74 69 6f 6e 73 94 8c "
             "0b 4f 72 64 65 72 65 64 44 69 63 74 94 93 94 29 52 94 28 8c 01 61 94 4b 01 8c "
             "01 62 94 4b 02 75 2e"}},
    {"collections.deque([1, 2])",
     "80 05 95 22 00 00 00 00 00 00 00 8c 0b 63 6f 6c 6c 65 63 74 69 6f 6e 73 94 8c "
     "05 64 65 71 75 65 94 93 94 29 52 94 28 4b 01 4b 02 65 2e",
     {[1] = "63 63 6f 6c 6c 65 63 74 69 6f 6e 73 0a 64 65 71 75 65 0a 71 00 29 52 71 01 28 "
             "4b 01 4b 02 65 2e",
      [2] = "80 02 63 63 6f 6c 6c 65 63 74 69 6f 6e 73 0a 64 65 71 75 65 0a 71 00 29 52 71 "
             "01 28 4b 01 4b 02 65 2e",
      [4] = "80 04 95 22 00 00 00 00 00 00 00 8c 0b 63 6f 6c 6c 65 63 74 69 6f 6e 73 94 8c "
             "05 64 65 71 75 65 94 93 94 29 52 94 28 4b 01 4b 02 65 2e"}},
    {"argparse.Namespace(a=1)",
     "80 05 95 27 00 00 00 00 00 00 00 8c 08 61 72 67 70 61 72 73 65 94 8c 09 4e 61 "
     "6d 65 73 70 61 63 65 94 93 94 29 81 94 7d 94 8c 01 61 94 4b 01 73 62 2e",
     {[2] = "80 02 63 61 72 67 70 61 72 73 65 0a 4e 61 6d 65 73 70 61 63 65 0a 71 00 29 81 "
             "71 01 7d 71 02 58 01 00 00 00 61 71 03 4b 01 73 62 2e",
      [3] = "80 03 63 61 72 67 70 61 72 73 65 0a 4e 61 6d 65 73 70 61 63 65 0a 71 00 29 81 "
             "71 01 7d 71 02 58 01 00 00 00 61 71 03 4b 01 73 62 2e",
      [4] = "80 04 95 27 00 00 00 00 00 00 00 8c 08 61 72 67 70 61 72 73 65 94 8c 09 4e 61 "
             "6d 65 73 70 61 63 65 94 93 94 29 81 94 7d 94 8c 01 61 94 4b 01 73 62 2e"}},
    {"functools.partial(len, 1, k=2)",
     "80 05 95 44 00 00 00 00 00 00 00 8c 09 66 75 6e 63 74 6f 6f 6c 73 94 8c 07 70 "
     "61 72 74 69 61 6c 94 93 94 8c 08 62 75 69 6c 74 69 6e 73 94 8c 03 6c 65 6e 94 "
     "93 94 85 94 52 94 28 68 05 4b 01 85 94 7d 94 8c 01 6b 94 4b 02 73 4e 74 94 62 "
     "2e",
     {[2] = "80 02 63 66 75 6e 63 74 6f 6f 6c 73 0a 70 61 72 74 69 61 6c 0a 71 00 63 5f 5f "
             "62 75 69 6c 74 69 6e 5f 5f 0a 6c 65 6e 0a 71 01 85 71 02 52 71 03 28 68 01 4b "
             "01 85 71 04 7d 71 05 58 01 00 00 00 6b 71 06 4b 02 73 4e 74 71 07 62 2e",
      [4] = "80 04 95 44 00 00 00 00 00 00 00 8c 09 66 75 6e 63 74 6f 6f 6c 73 94 8c 07 70 "
             "61 72 74 69 61 6c 94 93 94 8c 08 62 75 69 6c 74 69 6e 73 94 8c 03 6c 65 6e 94 "
             "93 94 85 94 52 94 28 68 05 4b 01 85 94 7d 94 8c 01 6b 94 4b 02 73 4e 74 94 62 "
             "2e"}},
    {"datetime.date(2020, 1, 2)",
     "80 05 95 20 00 00 00 00 00 00 00 8c 08 64 61 74 65 74 69 6d 65 94 8c 04 64 61 "
     "74 65 94 93 94 43 04 07 e4 01 02 94 85 94 52 94 2e",
     {[0] = "63 64 61 74 65 74 69 6d 65 0a 64 61 74 65 0a 70 30 0a 28 63 5f 63 6f 64 65 63 "
             "73 0a 65 6e 63 6f 64 65 0a 70 31 0a 28 56 07 e4 01 02 0a 70 32 0a 56 6c 61 74 "
             "69 6e 31 0a 70 33 0a 74 70 34 0a 52 70 35 0a 74 70 36 0a 52 70 37 0a 2e",
      [2] = "80 02 63 64 61 74 65 74 69 6d 65 0a 64 61 74 65 0a 71 00 63 5f 63 6f 64 65 63 "
             "73 0a 65 6e 63 6f 64 65 0a 71 01 58 05 00 00 00 07 c3 a4 01 02 71 02 58 06 00 "
             "00 00 6c 61 74 69 6e 31 71 03 86 71 04 52 71 05 85 71 06 52 71 07 2e",
      [3] = "80 03 63 64 61 74 65 74 69 6d 65 0a 64 61 74 65 0a 71 00 43 04 07 e4 01 02 71 "
             "01 85 71 02 52 71 03 2e"}},
    {"range(5)",
     "80 05 95 20 00 00 00 00 00 00 00 8c 08 62 75 69 6c 74 69 6e 73 94 8c 05 72 61 "
     "6e 67 65 94 93 94 4b 00 4b 05 4b 01 87 94 52 94 2e",
     {[2] = "80 02 63 5f 5f 62 75 69 6c 74 69 6e 5f 5f 0a 78 72 61 6e 67 65 0a 71 00 4b 00 "
             "4b 05 4b 01 87 71 01 52 71 02 2e"}},
    {"{i: i for i in range(3)}",
     "80 05 95 11 00 00 00 00 00 00 00 7d 94 28 4b 00 4b 00 4b 01 4b 01 4b 02 4b 02 "
     "75 2e",
     {[0] = "28 64 70 30 0a 49 30 0a 49 30 0a 73 49 31 0a 49 31 0a 73 49 32 0a 49 32 0a 73 "
             "2e",
      [1] = "7d 71 00 28 4b 00 4b 00 4b 01 4b 01 4b 02 4b 02 75 2e",
      [2] = "80 02 7d 71 00 28 4b 00 4b 00 4b 01 4b 01 4b 02 4b 02 75 2e"}},
};
/* clang-format on */

static void test_pins(void) {
    static uint8_t src[1 << 16], want[1 << 16];
    for (size_t i = 0; i < sizeof PINS / sizeof PINS[0]; i++) {
        const pin *pn = &PINS[i];
        size_t slen = unhex(pn->src, src);
        for (int pol = 0; pol < 2; pol++) {
            brine_decode_options dopts;
            brine_decode_options_init(&dopts);
            dopts.policy = pol ? BRINE_POLICY_BUILTINS : BRINE_POLICY_SYMBOLIC;
            brine_error err;
            brine_doc *doc = brine_decode(src, slen, &dopts, NULL, &err);
            CHECK(doc != NULL);
            if (!doc) continue;
            for (int p = 0; p < 6; p++) {
                if (!pn->want[p]) continue;
                out o = {0};
                int rc = encode(doc, p, &o, &err);
                int ok;
                if (pn->want[p][0] == '!') {
                    ok = rc < 0 && strcmp(err.pyclass, pn->want[p] + 1) == 0;
                } else {
                    size_t wlen = unhex(pn->want[p], want);
                    ok = rc == 0 && o.n == wlen && memcmp(o.p, want, wlen) == 0;
                    if (!ok && rc == 0) tcheck_dump_("  got", o.p, o.n);
                }
                tcheck_checks++;
                if (!ok)
                    TFAIL_("pin %s at protocol %d (%s): %s", pn->expr, p,
                           pol ? "builtins" : "symbolic", rc < 0 ? err.msg : "different bytes");
                free(o.p);
            }
            brine_doc_free(doc);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Options and usage                                                         */
/* ------------------------------------------------------------------------ */

static void test_options(void) {
    brine_encode_options opts;
    memset(&opts, 0x5a, sizeof opts);
    brine_encode_options_init(&opts);
    CHECK_EQ_INT(opts.protocol, 4);
    CHECK_EQ_INT(opts.fix_imports, 1);
    CHECK(opts.buffer_callback == NULL && opts.buffers == NULL && opts.nbuffers == 0);

    brine_doc *doc = brine_doc_new(NULL);
    out o = {0};
    brine_error err;
    /* no root */
    CHECK_EQ_INT(brine_encode(doc, NULL, out_cb, &o, &err), -1);
    CHECK_EQ_INT(err.code, BRINE_E_USAGE);
    brine_doc_set_root(doc, brine_new_none(doc));
    CHECK_EQ_INT(brine_encode(NULL, NULL, out_cb, &o, &err), -1);
    CHECK_EQ_INT(brine_encode(doc, NULL, NULL, NULL, &err), -1);
    CHECK_EQ_INT(err.code, BRINE_E_USAGE);
    /* NULL options: protocol 4 */
    CHECK_EQ_INT(brine_encode(doc, NULL, out_cb, &o, &err), 0);
    CHECK_EQ_MEM(o.p, o.n, "\x80\x04N.", 4);
    EXPECT(doc, -1, "\x80\x05N.");
    EXPECT(doc, -7, "\x80\x05N.");
    EXPECT(doc, 0, "N.");
    EXPECT(doc, 1, "N.");
    EXPECT_ERROR(doc, 6, BRINE_E_ENCODE_VALUE);
    CHECK_EQ_STR(brine_error_pyclass(BRINE_E_ENCODE_VALUE), "ValueError");
    free(o.p);
    brine_doc_free(doc);
}

static void test_write_failure(void) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *list = brine_new_list(doc);
    static uint8_t big[100000];
    brine_list_append(doc, list, brine_new_bytes(doc, big, sizeof big));
    for (int i = 0; i < 30000; i++)
        brine_list_append(doc, list, brine_new_int64(doc, 1 << 20));
    brine_doc_set_root(doc, list);
    for (size_t after = 1; after < 200000; after = after * 3 + 1) {
        out o = {0};
        o.fail_after = after;
        brine_encode_options opts;
        brine_encode_options_init(&opts);
        brine_error err;
        CHECK_EQ_INT(brine_encode(doc, &opts, out_cb, &o, &err), -1);
        CHECK_EQ_INT(err.code, BRINE_E_IO);
        CHECK_EQ_STR(err.pyclass, "OSError");
        free(o.p);
    }
    brine_doc_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Atoms                                                                     */
/* ------------------------------------------------------------------------ */

/* 2**k as an int node. */
static brine_value *pow2(brine_doc *doc, unsigned k) {
    size_t n = k / 8 + 1;
    uint8_t *le = calloc(n + 1, 1);
    le[k / 8] = (uint8_t)(1u << (k % 8));
    brine_value *v = brine_new_int_bytes(doc, le, n + 1); /* + 1: keep it positive */
    free(le);
    return v;
}

static void test_int_limits(void) {
    brine_doc *doc = brine_doc_new(NULL);
    /* 2**14280 has 4299 digits, 2**14300 has 4305: repr() refuses more than 4300. */
    brine_doc_set_root(doc, pow2(doc, 14280));
    out o = {0};
    brine_error err;
    CHECK_EQ_INT(encode(doc, 0, &o, &err), 0);
    CHECK(o.n == 4299 + 4 && o.p[0] == 'L' && o.p[o.n - 3] == 'L' && o.p[o.n - 2] == '\n');
    brine_doc_set_root(doc, pow2(doc, 14300));
    EXPECT_ERROR(doc, 0, BRINE_E_ENCODE_VALUE);
    EXPECT_ERROR(doc, 1, BRINE_E_ENCODE_VALUE);
    CHECK_EQ_INT(encode(doc, 2, &o, &err), 0);
    CHECK(o.p[2] == 0x8b); /* LONG4: 1788 bytes */
    CHECK_EQ_INT(o.p[3] | o.p[4] << 8, 14300 / 8 + 1);
    /* A persistent id that is such an int fails the same way at protocol 0. */
    brine_doc_set_root(doc, brine_new_persid(doc, pow2(doc, 14300)));
    EXPECT_ERROR(doc, 0, BRINE_E_ENCODE_VALUE);
    free(o.p);
    brine_doc_free(doc);
}

static void test_size_overflow(void) {
    /* Lengths past 4 GiB fail below protocol 4 before any data is read, so
     * a node that only claims such a length is enough. */
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *s = str(doc, "abc");
    brine_value *b = brine_new_bytes(doc, (const uint8_t *)"abc", 3);
    if (sizeof(size_t) > 4) {
        s->u.s.n = (size_t)5 << 30;
        b->u.s.n = (size_t)5 << 30;
        brine_doc_set_root(doc, s);
        EXPECT_ERROR(doc, 1, BRINE_E_ENCODE_OVERFLOW);
        EXPECT_ERROR(doc, 3, BRINE_E_ENCODE_OVERFLOW);
        brine_doc_set_root(doc, b);
        EXPECT_ERROR(doc, 3, BRINE_E_ENCODE_OVERFLOW);
        CHECK_EQ_STR(brine_error_pyclass(BRINE_E_ENCODE_OVERFLOW), "OverflowError");
    }
    brine_doc_free(doc);
}

static void test_one_char_strs(void) {
    /* b'\xe9' below protocol 3 is _codecs.encode('\xe9', 'latin1'), whose
     * str is the one-character singleton the value also holds. */
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *list = brine_new_list(doc);
    brine_list_append(doc, list, str(doc, "\xc3\xa9"));
    brine_list_append(doc, list, brine_new_bytes(doc, (const uint8_t *)"\xe9", 1));
    brine_list_append(doc, list, brine_new_bytes(doc, (const uint8_t *)"\xe9", 1));
    brine_doc_set_root(doc, list);
    EXPECT(doc, 2,
           "\x80\x02]q\x00(X\x02\x00\x00\x00\xc3\xa9q\x01"
           "c_codecs\nencode\nq\x02h\x01X\x06\x00"
           "\x00\x00latin1q\x03\x86q\x04Rq\x05h\x02h\x01h\x03\x86q\x06Rq\x07"
           "e.");
    brine_doc_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Globals                                                                   */
/* ------------------------------------------------------------------------ */

static void test_global_names(void) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_doc_set_root(doc, global(doc, "m\xc3\xa9", "f"));
    EXPECT_ERROR(doc, 0, BRINE_E_PICKLING);
    EXPECT_ERROR(doc, 2, BRINE_E_PICKLING);
    EXPECT(doc, 3,
           "\x80\x03"
           "cm\xc3\xa9\nf\nq\x00.");
    EXPECT(doc, 4,
           "\x80\x04\x95\x0d\x00\x00\x00\x00\x00\x00\x00\x8c\x03m\xc3\xa9\x94\x8c\x01"
           "f\x94\x93\x94.");
    brine_doc_set_root(doc, global(doc, "m", "\xc3\xa9"));
    EXPECT_ERROR(doc, 1, BRINE_E_PICKLING);
    /* lone surrogates are not UTF-8 */
    brine_doc_set_root(doc, global(doc, "m", "\xed\xa0\x80"));
    EXPECT_ERROR(doc, 3, BRINE_E_PICKLING);
    /* the import of '' fails in CPython; a newline breaks a GLOBAL line */
    brine_doc_set_root(doc, global(doc, "", "f"));
    EXPECT_ERROR(doc, 4, BRINE_E_PICKLING);
    brine_doc_set_root(doc, global(doc, "m", "a\nb"));
    EXPECT_ERROR(doc, 3, BRINE_E_PICKLING);
    EXPECT(doc, 4,
           "\x80\x04\x95\x0d\x00\x00\x00\x00\x00\x00\x00\x8c\x01m\x94\x8c\x03"
           "a\nb\x94\x93\x94.");
    /* get_dotted_path refuses local objects */
    brine_doc_set_root(doc, global(doc, "m", "f.<locals>.g"));
    EXPECT_ERROR(doc, 4, BRINE_E_NO_ATTRIBUTE);
    EXPECT_ERROR(doc, 2, BRINE_E_NO_ATTRIBUTE);
    /* fix_imports */
    brine_doc_set_root(doc, global(doc, "builtins", "range"));
    EXPECT(doc, 2,
           "\x80\x02"
           "c__builtin__\nxrange\nq\x00.");
    EXPECT(doc, 3,
           "\x80\x03"
           "cbuiltins\nrange\nq\x00.");
    brine_encode_options opts;
    brine_encode_options_init(&opts);
    opts.protocol = 2;
    opts.fix_imports = 0;
    out o = {0};
    brine_error err;
    CHECK_EQ_INT(brine_encode(doc, &opts, out_cb, &o, &err), 0);
    CHECK_EQ_MEM(o.p, o.n,
                 "\x80\x02"
                 "cbuiltins\nrange\nq\x00.",
                 21);
    free(o.p);
    /* A dotted name below protocol 4: getattr(parent, 'last'), the parent
     * being the document's own global when it has one. */
    brine_value *list = brine_new_list(doc);
    brine_list_append(doc, list, global(doc, "m", "A"));
    brine_list_append(doc, list, global(doc, "m", "A.B.c"));
    brine_list_append(doc, list, global(doc, "m", "A.B.c"));
    brine_doc_set_root(doc, list);
    EXPECT(doc, 2,
           "\x80\x02]q\x00(cm\nA\nq\x01"
           "c__builtin__\ngetattr\nq\x02h\x02h\x01X\x01\x00\x00\x00"
           "Bq\x03\x86q\x04Rq\x05X\x01\x00\x00\x00"
           "cq\x06\x86q\x07Rq\x08h\x08"
           "e.");
    brine_doc_free(doc);
}

static void test_global_ops(void) {
    /* BUILD and APPENDS the stream applied to a global follow its first write. */
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *g = global(doc, "m", "g");
    brine_add_op(doc, g, BRINE_OP_SETSTATE, brine_new_int64(doc, 1), NULL);
    brine_add_op(doc, g, BRINE_OP_EXTEND, brine_new_int64(doc, 2), NULL);
    brine_value *list = brine_new_list(doc);
    brine_list_append(doc, list, g);
    brine_list_append(doc, list, g);
    brine_doc_set_root(doc, list);
    EXPECT(doc, 1,
           "]q\x00(cm\ng\nq\x01K\x01"
           "bK\x02"
           "ah\x01"
           "e.");
    EXPECT(doc, 0, "(lp0\ncm\ng\np1\nI1\nbI2\naag1\na.");
    brine_doc_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Objects                                                                   */
/* ------------------------------------------------------------------------ */

static void test_new_below_protocol_4(void) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *cls = global(doc, "m", "C");
    brine_value *one = brine_new_int64(doc, 1);
    brine_doc_set_root(doc, brine_new_object(doc, BRINE_MAKE_NEW, cls, &one, 1, NULL));
    EXPECT(doc, 0, "ccopy_reg\n__newobj__\np0\n(cm\nC\np1\nI1\ntp2\nRp3\n.");
    EXPECT(doc, 1, "ccopy_reg\n__newobj__\nq\x00(cm\nC\nq\x01K\x01tq\x02Rq\x03.");
    EXPECT(doc, 2,
           "\x80\x02"
           "cm\nC\nq\x00K\x01\x85q\x01\x81q\x02.");

    brine_value *kw = brine_new_dict(doc);
    brine_dict_set(doc, kw, str(doc, "k"), brine_new_int64(doc, 2), NULL);
    brine_doc_set_root(doc, brine_new_object(doc, BRINE_MAKE_NEW, cls, &one, 1, kw));
    EXPECT(doc, 0,
           "ccopy_reg\n__newobj_ex__\np0\n(cm\nC\np1\n(I1\ntp2\n(dp3\nVk\np4\nI2\nstp5\nRp6\n.");
    /* functools.partial(C.__new__, C, 1, k=2)(), C.__new__ being object.__new__ */
    EXPECT(doc, 2,
           "\x80\x02"
           "cfunctools\npartial\nq\x00"
           "c__builtin__\ngetattr\nq\x01"
           "c__builtin__\nobject"
           "\nq\x02X\x07\x00\x00\x00__new__q\x03\x86q\x04Rq\x05\x85q\x06Rq\x07(h\x05"
           "cm\nC\nq"
           "\x08K\x01\x86q\t}q\nX\x01\x00\x00\x00kq\x0bK\x02sNtq\x0c"
           "b)Rq\r.");
    EXPECT(doc, 4,
           "\x80\x04\x95\x1a\x00\x00\x00\x00\x00\x00\x00\x8c\x01m\x94\x8c\x01"
           "C\x94"
           "\x93\x94K\x01\x85\x94}\x94\x8c\x01k\x94K\x02s\x92\x94.");
    /* Keyword names must be strs for partial(**kwargs). */
    brine_value *bad = brine_new_dict(doc);
    brine_dict_set(doc, bad, one, one, NULL);
    brine_doc_set_root(doc, brine_new_object(doc, BRINE_MAKE_NEW, cls, NULL, 0, bad));
    EXPECT_ERROR(doc, 3, BRINE_E_KEYWORDS_NOT_STR);
    brine_doc_free(doc);
}

static void test_setter_and_discarded(void) {
    /* A state setter is written right after its object's first write. */
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *x = brine_new_object(doc, BRINE_MAKE_CALL, global(doc, "m", "f"), NULL, 0, NULL);
    brine_value *state = brine_new_dict(doc);
    brine_dict_set(doc, state, str(doc, "a"), brine_new_int64(doc, 1), NULL);
    brine_value *args[2] = {x, state};
    brine_value *call =
        brine_new_object(doc, BRINE_MAKE_CALL, global(doc, "m", "s"), args, 2, NULL);
    brine_value *list = brine_new_list(doc);
    brine_list_append(doc, list, x);
    brine_list_append(doc, list, x);
    brine_doc_set_root(doc, list);
    brine_doc_add_discarded(doc, call);
    EXPECT(doc, 2,
           "\x80\x02]q\x00(cm\nf\nq\x01)Rq\x02"
           "cm\ns\nq\x03h\x02}q\x04X\x01\x00\x00\x00"
           "aq\x05K\x01s\x86R0h\x02"
           "e.");

    /* Any other discarded node goes before the root: save(node) POP. */
    brine_doc *d2 = brine_doc_new(NULL);
    brine_value *one = brine_new_int64(d2, 1);
    brine_value *lost = brine_new_object(d2, BRINE_MAKE_CALL, global(d2, "m", "f"), &one, 1, NULL);
    brine_doc_add_discarded(d2, lost);
    brine_doc_add_discarded(d2, brine_new_persid(d2, str(d2, "p")));
    brine_doc_set_root(d2, brine_new_none(d2));
    EXPECT(d2, 2,
           "\x80\x02"
           "cm\nf\nq\x00K\x01\x85q\x01Rq\x02"
           "0X\x01\x00\x00\x00pq\x03Q0N.");
    brine_doc_free(d2);
    brine_doc_free(doc);
}

static void test_object_ops(void) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *g = global(doc, "m", "g");
    brine_value *x = brine_new_object(doc, BRINE_MAKE_CALL, g, NULL, 0, NULL);
    /* ADD is not something CPython writes for objects: MARK ... ADDITEMS. */
    brine_add_op(doc, x, BRINE_OP_ADD, brine_new_int64(doc, 1), NULL);
    brine_add_op(doc, x, BRINE_OP_ADD, brine_new_int64(doc, 2), NULL);
    /* Runs keep their order; only consecutive operations of a kind merge. */
    brine_add_op(doc, x, BRINE_OP_EXTEND, brine_new_int64(doc, 3), NULL);
    brine_add_op(doc, x, BRINE_OP_SETITEM, brine_new_int64(doc, 4), brine_new_int64(doc, 5));
    brine_add_op(doc, x, BRINE_OP_SETITEM, brine_new_int64(doc, 6), brine_new_int64(doc, 7));
    brine_add_op(doc, x, BRINE_OP_EXTEND, brine_new_int64(doc, 8), NULL);
    brine_add_op(doc, x, BRINE_OP_EXTEND, brine_new_int64(doc, 9), NULL);
    brine_add_op(doc, x, BRINE_OP_SETSTATE, brine_new_none(doc), NULL);
    brine_doc_set_root(doc, x);
    EXPECT(doc, 2,
           "\x80\x02"
           "cm\ng\nq\x00)Rq\x01(K\x01K\x02\x90K\x03"
           "a(K\x04K\x05K\x06K\x07u"
           "(K\x08K\te"
           "Nb.");
    EXPECT(doc, 0, "cm\ng\np0\n(tRp1\n(I1\nI2\n\x90I3\naI4\nI5\nsI6\nI7\nsI8\naI9\naNb.");
    brine_doc_free(doc);
}

static void test_recursion_guard(void) {
    /* A tuple that is its own item, or an object that is its own argument,
     * makes CPython recurse until RecursionError. */
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *none = brine_new_none(doc);
    brine_value *t = brine_new_tuple(doc, &none, 1);
    t->u.tup.items[0] = t;
    brine_doc_set_root(doc, t);
    EXPECT_ERROR(doc, 2, BRINE_E_PICKLING);
    EXPECT_ERROR(doc, 0, BRINE_E_PICKLING);
    brine_value *x = brine_new_object(doc, BRINE_MAKE_CALL, global(doc, "m", "f"), &none, 1, NULL);
    x->u.o->args[0] = x;
    brine_doc_set_root(doc, x);
    EXPECT_ERROR(doc, 4, BRINE_E_PICKLING);
    /* The same through 20 tuples (past the guard's inline entries), and
     * through 20 tuples one of which has a str before the next: memoizing
     * the str does not stop it, the second time round the str is fetched
     * and the save repeats itself from there. */
    for (int with_str = 0; with_str < 2; with_str++) {
        brine_value *first = brine_new_tuple(doc, &none, 1), *cur = first;
        for (int i = 1; i < 20; i++) {
            brine_value *items[2] = {str(doc, "s"), cur};
            cur = with_str && i == 10 ? brine_new_tuple(doc, items, 2)
                                      : brine_new_tuple(doc, items + 1, 1);
        }
        first->u.tup.items[0] = cur;
        brine_doc_set_root(doc, cur);
        for (int proto = 0; proto <= 5; proto++)
            EXPECT_ERROR(doc, proto, BRINE_E_PICKLING);
    }
    brine_doc_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Buffers, views, persistent ids                                            */
/* ------------------------------------------------------------------------ */

static int in_band(void *ctx, const brine_value *buffer) {
    (void)buffer;
    return *(int *)ctx;
}

static void test_picklebuffer(void) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *rw = brine_new_picklebuffer(doc, 0);
    brine_value *ro = brine_new_picklebuffer(doc, 1);
    ro->flags |= VF_READONLY;
    brine_value *list = brine_new_list(doc);
    brine_list_append(doc, list, rw);
    brine_list_append(doc, list, ro);
    brine_doc_set_root(doc, list);
    /* out of band by default */
    EXPECT(doc, 5,
           "\x80\x05\x95\x08\x00\x00\x00\x00\x00\x00\x00]\x94(\x97\x97\x98"
           "e.");
    EXPECT_ERROR(doc, 4, BRINE_E_PICKLING);
    /* in band when the callback says so, with the caller's data */
    brine_buffer bufs[2] = {{(const uint8_t *)"ab", 2, 0}, {(const uint8_t *)"cd", 2, 1}};
    int answer = 1;
    brine_encode_options opts;
    brine_encode_options_init(&opts);
    opts.protocol = 5;
    opts.buffer_callback = in_band;
    opts.buffer_ctx = &answer;
    opts.buffers = bufs;
    opts.nbuffers = 2;
    out o = {0};
    brine_error err;
    CHECK_EQ_INT(brine_encode(doc, &opts, out_cb, &o, &err), 0);
    CHECK_EQ_MEM(o.p, o.n,
                 "\x80\x05\x95\x16\x00\x00\x00\x00\x00\x00\x00]\x94(\x96\x02\x00\x00\x00\x00\x00"
                 "\x00\x00"
                 "ab\x94"
                 "C\x02"
                 "cd\x94"
                 "e.",
                 33);
    answer = -1;
    CHECK_EQ_INT(brine_encode(doc, &opts, out_cb, &o, &err), -1);
    CHECK_EQ_INT(err.code, BRINE_E_PICKLING);
    free(o.p);
    brine_doc_free(doc);
}

static void test_readonly_view(void) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *ba = brine_new_bytearray(doc, (const uint8_t *)"ab", 2);
    brine_doc_set_root(doc, brine_new_readonly_view(doc, ba));
    EXPECT(doc, 5,
           "\x80\x05\x95\x0e\x00\x00\x00\x00\x00\x00\x00\x96\x02\x00\x00\x00\x00\x00\x00"
           "\x00"
           "ab\x94\x98.");
    EXPECT_ERROR(doc, 4, BRINE_E_PICKLING);
    EXPECT_ERROR(doc, 0, BRINE_E_PICKLING);
    brine_doc_free(doc);
}

static void test_persid(void) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *list = brine_new_list(doc);
    brine_value *p = brine_new_persid(doc, str(doc, "abc"));
    brine_list_append(doc, list, p);
    brine_list_append(doc, list, p); /* never memoized: written twice */
    brine_list_append(doc, list, brine_new_persid(doc, brine_new_int64(doc, -5)));
    brine_list_append(doc, list, brine_new_persid(doc, brine_new_bool(doc, 1)));
    brine_list_append(doc, list, brine_new_persid(doc, brine_new_float(doc, 0.5)));
    brine_doc_set_root(doc, list);
    EXPECT(doc, 0, "(lp0\nPabc\naPabc\naP-5\naPTrue\naP0.5\na.");
    EXPECT(doc, 1,
           "]q\x00(X\x03\x00\x00\x00"
           "abcq\x01Qh\x01QJ\xfb\xff\xff\xffQI01\nQ"
           "G?\xe0\x00\x00\x00\x00\x00\x00Qe.");
    brine_doc_set_root(doc, brine_new_persid(doc, str(doc, "\xc3\xa9")));
    EXPECT_ERROR(doc, 0, BRINE_E_PICKLING);
    brine_doc_set_root(doc, brine_new_persid(doc, str(doc, "a\nb")));
    EXPECT_ERROR(doc, 0, BRINE_E_PICKLING);
    brine_value *one = brine_new_int64(doc, 1);
    brine_doc_set_root(doc, brine_new_persid(doc, brine_new_tuple(doc, &one, 1)));
    EXPECT_ERROR(doc, 0, BRINE_E_PICKLING);
    EXPECT(doc, 2, "\x80\x02K\x01\x85q\x00Q.");
    brine_doc_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Frames and streaming                                                      */
/* ------------------------------------------------------------------------ */

static uint64_t le64(const uint8_t *p) {
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* [b'x' * first] + 255 distinct 253-byte bytes + [b'z'] at protocol 4: with
 * first = 250 the frame holds exactly 64 KiB when save(b'z') starts. */
static brine_doc *frame_doc(size_t first) {
    static uint8_t data[256];
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *list = brine_new_list(doc);
    memset(data, 'x', sizeof data);
    brine_list_append(doc, list, brine_new_bytes(doc, data, first));
    for (int i = 0; i < 255; i++) {
        memset(data, 'A' + i % 26, 253);
        brine_list_append(doc, list, brine_new_bytes(doc, data, 253));
    }
    brine_list_append(doc, list, brine_new_bytes(doc, (const uint8_t *)"z", 1));
    brine_doc_set_root(doc, list);
    return doc;
}

static void test_frames(void) {
    out o = {0};
    brine_error err;
    brine_doc *doc = frame_doc(250);
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    CHECK_EQ_INT(o.n, 65562);
    CHECK(o.p[2] == 0x95 && le64(o.p + 3) == 65536);
    CHECK(o.p[11 + 65536] == 0x95 && le64(o.p + 12 + 65536) == 6);
    brine_doc_free(doc);
    doc = frame_doc(249); /* 64 KiB - 1: the frame goes on to the end */
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    CHECK_EQ_INT(o.n, 65552);
    CHECK(o.p[2] == 0x95 && le64(o.p + 3) == 65541);
    brine_doc_free(doc);

    /* Payloads of 64 KiB and more are written outside frames, straight
     * from the document; the frames around them are too short to keep
     * their headers. */
    static uint8_t big[70000];
    memset(big, 'a', sizeof big);
    doc = brine_doc_new(NULL);
    brine_value *list = brine_new_list(doc);
    brine_value *b = brine_new_bytes(doc, big, sizeof big);
    brine_list_append(doc, list, b);
    brine_doc_set_root(doc, list);
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    CHECK_EQ_INT(o.n, 2 + 2 + 5 + 70000 + 3);
    CHECK_EQ_MEM(o.p, 9,
                 "\x80\x04]\x94"
                 "B\x70\x11\x01\x00",
                 9);
    CHECK_EQ_MEM(o.p + 9 + 70000, 3,
                 "\x94"
                 "a.",
                 3);
    CHECK(o.max_call == 70000); /* handed on in one piece, not copied */
    brine_doc_set_root(doc, b);
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    CHECK_EQ_MEM(o.p, 7,
                 "\x80\x04"
                 "B\x70\x11\x01\x00",
                 7);
    CHECK_EQ_MEM(o.p + 7 + 70000, 2, "\x94.", 2);
    /* strs: 65535 bytes stay in the frame, 65536 do not */
    brine_doc_set_root(doc, brine_new_str(doc, (const char *)big, 65535, NULL));
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    CHECK(o.p[2] == 0x95 && le64(o.p + 3) == 65535 + 5 + 1 + 1 && o.p[11] == 'X');
    brine_doc_set_root(doc, brine_new_str(doc, (const char *)big, 65536, NULL));
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    CHECK(o.p[2] == 'X' && o.n == 2 + 5 + 65536 + 2);
    brine_doc_free(doc);
    free(o.p);
}

static void test_streaming(void) {
    /* The output reaches the callback frame by frame (protocol 4) or in
     * pieces of about 64 KiB (protocols 0-3), never all at once. */
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *list = brine_new_list(doc);
    char text[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(text, sizeof text, "item number %d of the streaming test", i);
        brine_list_append(doc, list, str(doc, text));
    }
    brine_doc_set_root(doc, list);
    out o = {0};
    brine_error err;
    for (int p = 0; p <= 5; p++) {
        CHECK_EQ_INT(encode(doc, p, &o, &err), 0);
        CHECK(o.n > 4000000 && o.calls > 50 && o.max_call < 66000);
    }
    free(o.p);
    brine_doc_free(doc);
}

/* ------------------------------------------------------------------------ */
/* Depth and size                                                            */
/* ------------------------------------------------------------------------ */

static double seconds(clock_t since) {
    return (double)(clock() - since) / CLOCKS_PER_SEC;
}

static brine_doc *nested_lists(int depth) {
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *v = brine_new_list(doc);
    for (int i = 1; i < depth; i++) {
        brine_value *outer = brine_new_list(doc);
        brine_list_append(doc, outer, v);
        v = outer;
    }
    brine_doc_set_root(doc, v);
    return doc;
}

static void test_deep(void) {
    enum { DEPTH = 1000000 };
    out o = {0};
    brine_error err;
    clock_t t0 = clock();
    /* CPython (run with a big enough C stack) frames 60000 nested lists as
     * 65536 + 114464 bytes: the APPENDs written while the saves unwind
     * start no save(), so nothing closes the second frame. */
    brine_doc *doc = nested_lists(60000);
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    CHECK_EQ_INT(o.n, 180020);
    CHECK(le64(o.p + 3) == 65536 && le64(o.p + 12 + 65536) == 114464);
    brine_doc_free(doc);

    doc = nested_lists(DEPTH);
    CHECK_EQ_INT(encode(doc, 4, &o, &err), 0);
    /* PROTO, ] MEMOIZE per list, APPEND per non-empty one, STOP: 31 frames
     * over the 2 MB of ] MEMOIZE, the last one with all the APPENDs */
    CHECK_EQ_INT(o.n - 2 - (size_t)DEPTH * 3, 31 * 9);
    /* and back through the decoder, the same bytes again */
    brine_doc *back = brine_decode(o.p, o.n, NULL, NULL, &err);
    CHECK(back != NULL);
    if (back) {
        out o2 = {0};
        CHECK_EQ_INT(encode(back, 4, &o2, &err), 0);
        CHECK(o2.n == o.n && memcmp(o2.p, o.p, o.n) == 0);
        free(o2.p);
        brine_doc_free(back);
    }
    CHECK_EQ_INT(encode(doc, 0, &o, &err), 0);
    brine_doc_free(doc);

    /* 10**6 nested one-tuples, each memoized after its item */
    doc = brine_doc_new(NULL);
    brine_value *v = brine_new_tuple(doc, NULL, 0);
    for (int i = 0; i < DEPTH; i++)
        v = brine_new_tuple(doc, &v, 1);
    brine_doc_set_root(doc, v);
    CHECK_EQ_INT(encode(doc, 2, &o, &err), 0);
    /* PROTO, EMPTY_TUPLE, TUPLE1 + BINPUT (256) or LONG_BINPUT, STOP */
    CHECK_EQ_INT(o.n, 2 + 1 + 256 * 3 + (DEPTH - 256) * 6 + 1);
    brine_doc_free(doc);

    /* a chain of 10**5 objects, each the state of the previous one */
    doc = brine_doc_new(NULL);
    brine_value *cls = global(doc, "m", "C");
    brine_value *first = brine_new_object(doc, BRINE_MAKE_NEW, cls, NULL, 0, NULL), *prev = first;
    for (int i = 0; i < 100000; i++) {
        brine_value *next = brine_new_object(doc, BRINE_MAKE_NEW, cls, NULL, 0, NULL);
        brine_add_op(doc, prev, BRINE_OP_SETSTATE, next, NULL);
        prev = next;
    }
    brine_doc_set_root(doc, first);
    for (int p = 0; p <= 5; p++)
        CHECK_EQ_INT(encode(doc, p, &o, &err), 0);
    brine_doc_free(doc);
    fprintf(stderr, "test_deep: %.2f s\n", seconds(t0));
    free(o.p);
}

static void test_wide(void) {
    /* Linear time: two million items, a dict and a set of them. */
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *list = brine_new_list(doc), *d = brine_new_dict(doc), *s = brine_new_set(doc);
    for (int i = 0; i < 2000000; i++) {
        brine_value *x = brine_new_int64(doc, i * 7919LL);
        brine_list_append(doc, list, x);
        if (i % 4 == 0) brine_dict_set(doc, d, x, list, NULL);
        if (i % 4 == 1) brine_set_add(doc, s, x, NULL);
    }
    brine_list_append(doc, list, d);
    brine_list_append(doc, list, s);
    brine_doc_set_root(doc, list);
    out o = {0};
    brine_error err;
    clock_t t0 = clock();
    for (int p = 0; p <= 5; p++)
        CHECK_EQ_INT(encode(doc, p, &o, &err), 0);
    fprintf(stderr, "test_wide: %.2f s for 6 protocols\n", seconds(t0));
    free(o.p);
    brine_doc_free(doc);
}

int main(void) {
    TRUN(test_pins);
    TRUN(test_options);
    TRUN(test_write_failure);
    TRUN(test_int_limits);
    TRUN(test_size_overflow);
    TRUN(test_one_char_strs);
    TRUN(test_global_names);
    TRUN(test_global_ops);
    TRUN(test_new_below_protocol_4);
    TRUN(test_setter_and_discarded);
    TRUN(test_object_ops);
    TRUN(test_recursion_guard);
    TRUN(test_picklebuffer);
    TRUN(test_readonly_view);
    TRUN(test_persid);
    TRUN(test_frames);
    TRUN(test_streaming);
    TRUN(test_deep);
    TRUN(test_wide);
    return TDONE();
}
