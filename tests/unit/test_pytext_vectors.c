/*
 * test_pytext_vectors.c - pytext/pyrepr vector runner and property tests.
 *
 * Without arguments (as ctest runs it) it checks round-trip properties of
 * pytext and pyrepr on every code point and on random strings.
 *
 * With the argument "serve" it answers requests read from stdin, so that
 * tests/py/test_pytext_diff.py and test_pyrepr_diff.py can compare each
 * function with CPython on large generated inputs. Each output buffer is
 * exactly the bound the header documents plus a guard zone, which is
 * checked after the call: writing past the bound is reported as a failure.
 *
 * Request:  u8 op, then three blobs a, b, data, each u32 length + bytes.
 * Response: u32 code, u64 pos, u64 aux, u32 length + output bytes.
 * (all little-endian; pos is UINT64_MAX when the function did not set it)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyrepr.h"
#include "pytext.h"
#include "tcheck.h"

enum {
    OP_UTF8_CHECK = 1,
    OP_UTF8_CHECK_STRICT = 2,
    OP_RAW_UNICODE_ESCAPE_DECODE = 3,
    OP_BYTES_DECODE_ESCAPE = 4,
    OP_DECODE = 5,
    OP_ENCODING_SUPPORTED = 6,
    OP_LATIN1_ENCODE = 7,
    OP_RAW_UNICODE_ESCAPE_ENCODE = 8,
    OP_CANON_ESCAPE_STR = 9,
    OP_CANON_ESCAPE_BYTES = 10,
    OP_CANON_UNESCAPE_STR = 11,
    OP_CANON_UNESCAPE_BYTES = 12,
    OP_REPR_STR = 13,
    OP_REPR_BYTES = 14,
    OP_REPR_EACH_CP = 15,
    OP_ISPRINTABLE = 16,
};

/* Codes the runner itself reports, above every brine_code. */
#define CODE_OVERRUN 1000u /* wrote past the documented bound */
#define CODE_BAD_OP  1001u

#define GUARD      64
#define GUARD_BYTE 0xA5

/* ------------------------------------------------------------------------ */
/* serve mode                                                                */
/* ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *p;
    size_t n;
} blob;

static int read_exact(void *p, size_t n) {
    return n == 0 || fread(p, 1, n, stdin) == n;
}

static int read_u32(uint32_t *v) {
    uint8_t b[4];
    if (!read_exact(b, 4)) return 0;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 1;
}

/* Reads one blob into a fresh NUL-terminated allocation. */
static int read_blob(blob *b) {
    uint32_t n;
    if (!read_u32(&n)) return 0;
    b->p = malloc((size_t)n + 1);
    if (!b->p) return 0;
    b->n = n;
    if (!read_exact(b->p, n)) return 0;
    b->p[n] = 0;
    return 1;
}

static void write_le(uint64_t v, int bytes) {
    uint8_t b[8];
    for (int k = 0; k < bytes; k++)
        b[k] = (uint8_t)(v >> (8 * k));
    fwrite(b, 1, (size_t)bytes, stdout);
}

static void respond(uint32_t code, uint64_t pos, uint64_t aux, const void *out, size_t len) {
    write_le(code, 4);
    write_le(pos, 8);
    write_le(aux, 8);
    write_le(len, 4);
    if (len) fwrite(out, 1, len, stdout);
}

/* An output buffer of exactly `bound` bytes followed by a guard zone. */
static uint8_t *out_alloc(size_t bound) {
    uint8_t *o = malloc(bound + GUARD);
    if (!o) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(o, GUARD_BYTE, bound + GUARD);
    return o;
}

static int guard_intact(const uint8_t *o, size_t bound) {
    for (size_t k = 0; k < GUARD; k++)
        if (o[bound + k] != GUARD_BYTE) return 0;
    return 1;
}

static uint32_t u32_of(const blob *b) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4 && k < b->n; k++)
        v |= (uint32_t)b->p[k] << (8 * k);
    return v;
}

static void serve_one(int op, const blob *a, const blob *b, const blob *d) {
    const uint64_t unset = UINT64_MAX;
    size_t pos = (size_t)-1, aux = 0, len = 0, bound;
    brine_code rc = BRINE_OK;
    uint8_t *out;

    switch (op) {
    case OP_UTF8_CHECK:
        rc = pt_utf8_check(d->p, d->n, &aux, &pos);
        respond(rc, pos == (size_t)-1 ? unset : pos, aux, NULL, 0);
        return;
    case OP_UTF8_CHECK_STRICT:
        rc = pt_utf8_check_strict(d->p, d->n, &pos);
        respond(rc, pos == (size_t)-1 ? unset : pos, 0, NULL, 0);
        return;
    case OP_ENCODING_SUPPORTED:
        respond(0, unset, (uint64_t)pt_encoding_supported((const char *)a->p), NULL, 0);
        return;
    case OP_ISPRINTABLE: {
        uint32_t lo = u32_of(a), hi = u32_of(b);
        bound = hi > lo ? hi - lo : 0;
        out = out_alloc(bound);
        for (uint32_t cp = lo; cp < hi; cp++)
            out[cp - lo] = (uint8_t)pyrepr_isprintable(cp);
        respond(0, unset, 0, out, bound);
        free(out);
        return;
    }
    default: break;
    }

    /* Functions with an output buffer: first the documented bound. */
    switch (op) {
    case OP_RAW_UNICODE_ESCAPE_DECODE: bound = 2 * d->n; break;
    case OP_BYTES_DECODE_ESCAPE: bound = d->n; break;
    case OP_DECODE: bound = 4 * d->n; break;
    case OP_LATIN1_ENCODE: bound = d->n; break;
    case OP_RAW_UNICODE_ESCAPE_ENCODE: bound = 10 * d->n; break;
    case OP_CANON_ESCAPE_STR: bound = 10 * d->n; break;
    case OP_CANON_ESCAPE_BYTES: bound = 4 * d->n; break;
    case OP_CANON_UNESCAPE_STR:
    case OP_CANON_UNESCAPE_BYTES: bound = d->n; break;
    case OP_REPR_STR: bound = 10 * d->n + 2; break;
    case OP_REPR_BYTES: bound = 4 * d->n + 3; break;
    case OP_REPR_EACH_CP: bound = 13 * d->n; break; /* 10 * len + 2 + '\n' per cp */
    default: respond(CODE_BAD_OP, unset, 0, NULL, 0); return;
    }
    out = out_alloc(bound);

    switch (op) {
    case OP_RAW_UNICODE_ESCAPE_DECODE:
        rc = pt_raw_unicode_escape_decode(d->p, d->n, out, &len, &aux, &pos);
        break;
    case OP_BYTES_DECODE_ESCAPE: rc = pt_bytes_decode_escape(d->p, d->n, out, &len, &pos); break;
    case OP_DECODE:
        rc = pt_decode(d->p, d->n, (const char *)a->p, (const char *)b->p, out, &len, &pos);
        break;
    case OP_LATIN1_ENCODE: rc = pt_latin1_encode(d->p, d->n, out, &len); break;
    case OP_RAW_UNICODE_ESCAPE_ENCODE: len = pt_raw_unicode_escape_encode(d->p, d->n, out); break;
    case OP_CANON_ESCAPE_STR: len = pt_canon_escape_str(d->p, d->n, (char *)out); break;
    case OP_CANON_ESCAPE_BYTES: len = pt_canon_escape_bytes(d->p, d->n, (char *)out); break;
    case OP_CANON_UNESCAPE_STR:
    case OP_CANON_UNESCAPE_BYTES: {
        size_t used = op == OP_CANON_UNESCAPE_STR
                          ? pt_canon_unescape_str((const char *)d->p, d->n, out, &len, &pos)
                          : pt_canon_unescape_bytes((const char *)d->p, d->n, out, &len, &pos);
        if (used == (size_t)-1) {
            rc = BRINE_E_SYNTAX;
            len = 0;
        } else {
            aux = used;
        }
        break;
    }
    case OP_REPR_STR: len = pyrepr_str(d->p, d->n, (char *)out); break;
    case OP_REPR_BYTES: len = pyrepr_bytes(d->p, d->n, (char *)out); break;
    case OP_REPR_EACH_CP: {
        size_t i = 0;
        while (i < d->n) {
            size_t at = i;
            (void)pt_next_cp(d->p, &i);
            if (at) out[len++] = '\n';
            len += pyrepr_str(d->p + at, i - at, (char *)out + len);
        }
        break;
    }
    default: break;
    }
    if (!guard_intact(out, bound) || len > bound)
        respond(CODE_OVERRUN, unset, bound, NULL, 0);
    else if (rc != BRINE_OK)
        respond(rc, pos == (size_t)-1 ? unset : pos, aux, NULL, 0);
    else
        respond(rc, pos == (size_t)-1 ? unset : pos, aux, out, len);
    free(out);
}

static int serve(void) {
    for (;;) {
        uint8_t op;
        if (fread(&op, 1, 1, stdin) != 1) break;
        blob a = {0}, b = {0}, d = {0};
        if (!read_blob(&a) || !read_blob(&b) || !read_blob(&d)) {
            fprintf(stderr, "test_pytext_vectors: truncated request\n");
            return 2;
        }
        serve_one(op, &a, &b, &d);
        free(a.p);
        free(b.p);
        free(d.p);
    }
    return fflush(stdout) == 0 ? 0 : 2;
}

/* ------------------------------------------------------------------------ */
/* property tests (no arguments)                                             */
/* ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s) {
    /* xorshift64*: deterministic, so a failure reproduces. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* A random code point, biased to the interesting places. */
static uint32_t random_cp(uint64_t *s) {
    uint64_t r = rng_next(s);
    switch (r % 8) {
    case 0: return (uint32_t)(r >> 8) % 0x80;
    case 1: return (uint32_t)(r >> 8) % 0x100;
    case 2: return 0xD800 + (uint32_t)(r >> 8) % 0x800; /* lone surrogates */
    case 3: return (uint32_t)(r >> 8) % 0x10000;
    case 4: return 0x10000 + (uint32_t)(r >> 8) % 0x100000;
    case 5: return "\\'\"\t\n\r\x1a"[(r >> 8) % 7];
    case 6: return (uint32_t)(r >> 8) % 0x110000;
    default: return 0x10FFFF - (uint32_t)(r >> 8) % 4;
    }
}

/* Fills buf with a random WTF-8 string of at most 4 * maxcp bytes. */
static size_t random_wtf8(uint64_t *s, uint8_t *buf, size_t maxcp) {
    size_t ncp = (size_t)(rng_next(s) % (maxcp + 1)), o = 0;
    for (size_t k = 0; k < ncp; k++)
        o += pt_put_cp(buf + o, random_cp(s));
    return o;
}

static void test_every_code_point(void) {
    uint8_t buf[4];
    int bad_roundtrip = 0, bad_check = 0, bad_strict = 0, bad_len = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        size_t n = pt_put_cp(buf, cp), i = 0, ncp = 0, pos = 0;
        size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (n != want) bad_len++;
        if (pt_next_cp(buf, &i) != cp || i != n) bad_roundtrip++;
        if (pt_utf8_check(buf, n, &ncp, &pos) != BRINE_OK || ncp != 1) bad_check++;
        int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        brine_code strict = pt_utf8_check_strict(buf, n, &pos);
        if (surrogate ? (strict != BRINE_E_UNICODE_DECODE || pos != 0) : strict != BRINE_OK)
            bad_strict++;
    }
    CHECK_EQ_INT(bad_len, 0);
    CHECK_EQ_INT(bad_roundtrip, 0);
    CHECK_EQ_INT(bad_check, 0);
    CHECK_EQ_INT(bad_strict, 0);
}

static void test_random_roundtrips(void) {
    enum { MAXCP = 40 };
    static uint8_t s[4 * MAXCP], enc[10 * 4 * MAXCP], dec[2 * 10 * 4 * MAXCP];
    static char text[10 * 4 * MAXCP + 8];
    static uint8_t back[10 * 4 * MAXCP + 8];
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    int fails = 0;
    for (int round = 0; round < 20000; round++) {
        size_t n = random_wtf8(&seed, s, MAXCP), ncp = 0, pos = 0, len = 0;
        int ok = pt_utf8_check(s, n, &ncp, &pos) == BRINE_OK;

        /* raw-unicode-escape: the pickler's form decodes back exactly and
         * never contains a byte that would end or corrupt the line. */
        size_t elen = pt_raw_unicode_escape_encode(s, n, enc);
        ok = ok && elen <= 6 * n && !memchr(enc, '\n', elen) && !memchr(enc, '\r', elen) &&
             !memchr(enc, 0, elen) && !memchr(enc, 0x1A, elen);
        size_t dncp = 0;
        ok = ok && pt_raw_unicode_escape_decode(enc, elen, dec, &len, &dncp, &pos) == BRINE_OK &&
             len == n && memcmp(dec, s, n) == 0 && dncp == ncp;

        /* canonical str literal: ASCII, no quote, and read back exactly. */
        size_t tlen = pt_canon_escape_str(s, n, text);
        text[tlen] = '\'';
        size_t blen = 0, used = pt_canon_unescape_str(text, tlen + 1, back, &blen, &pos);
        ok = ok && tlen <= 4 * n && used == tlen && blen == n && memcmp(back, s, n) == 0;
        for (size_t k = 0; k < tlen; k++)
            ok = ok && text[k] >= 0x20 && text[k] <= 0x7E;

        /* canonical bytes literal, on the same bytes. */
        tlen = pt_canon_escape_bytes(s, n, text);
        text[tlen] = '\'';
        used = pt_canon_unescape_bytes(text, tlen + 1, back, &blen, &pos);
        ok = ok && used == tlen && blen == n && memcmp(back, s, n) == 0;

        /* repr() output is valid strict UTF-8 (surrogates are escaped). */
        tlen = pyrepr_str(s, n, text);
        ok = ok && tlen <= 4 * n + 2 &&
             pt_utf8_check_strict((const uint8_t *)text, tlen, &pos) == BRINE_OK;
        tlen = pyrepr_bytes(s, n, text);
        ok = ok && tlen <= 4 * n + 3;

        /* latin-1: fails exactly when some code point is above U+00FF. */
        int above = 0;
        for (size_t i = 0; i < n;)
            above |= pt_next_cp(s, &i) > 0xFF;
        brine_code rc = pt_latin1_encode(s, n, back, &blen);
        ok = ok && (above ? rc == BRINE_E_UNICODE_ENCODE : rc == BRINE_OK && blen == ncp);
        if (!ok && fails++ < 5) {
            TFAIL_("round %d failed", round);
            tcheck_dump_("  input", s, n);
        }
        tcheck_checks++;
    }
    CHECK_EQ_INT(fails, 0);
}

int main(int argc, char **argv) {
    if (argc > 1) {
        if (strcmp(argv[1], "serve") == 0) return serve();
        fprintf(stderr, "usage: %s [serve]\n", argv[0]);
        return 2;
    }
    TRUN(test_every_code_point);
    TRUN(test_random_roundtrips);
    return TDONE();
}
