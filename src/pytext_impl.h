/*
 * pytext_impl.h - helpers shared by pytext.c, pytext_decode.c and
 * pytext_canon.c: hex digits and escapes, and one step of CPython's UTF-8
 * decoder. Internal to those files.
 */
#ifndef BRINE_PYTEXT_IMPL_H
#define BRINE_PYTEXT_IMPL_H

#include <stddef.h>
#include <stdint.h>

static const char hexdigits[] = "0123456789abcdef";

/* Value of an ASCII hex digit of either case, or -1. */
static inline int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Writes '\\', letter and `digits` lowercase hex digits of v; returns the length. */
static inline size_t put_hex_escape(uint8_t *out, char letter, uint32_t v, int digits) {
    out[0] = '\\';
    out[1] = (uint8_t)letter;
    for (int k = 0; k < digits; k++)
        out[2 + k] = (uint8_t)hexdigits[(v >> (4 * (digits - 1 - k))) & 0xF];
    return 2 + (size_t)digits;
}

/* One step of CPython's UTF-8 decoder at p[i]. When len > 0 the bytes
 * p[i..i+len) are a valid sequence for cp. When len == 0 they are not, and
 * `bad` is how many bytes CPython reports as one error (its start..end):
 * 1 for a byte that cannot start a sequence, k when the k-th byte after the
 * lead is wrong, and all remaining bytes when the input ends inside an
 * otherwise valid sequence. This is the Unicode "maximal subpart" rule;
 * it decides how many U+FFFD "replace" writes and which bytes
 * "surrogateescape" and "backslashreplace" see. */
typedef struct {
    size_t len;
    size_t bad;
    uint32_t cp;
} utf8_step;

static inline utf8_step utf8_scan(const uint8_t *p, size_t n, size_t i, int surrogates) {
    utf8_step r = {0, 1, 0};
    uint8_t b = p[i];
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the byte after the lead */
    size_t need;
    uint32_t cp;

    if (b < 0x80) {
        r.len = 1;
        r.cp = b;
        return r;
    }
    if (b < 0xC2) return r; /* stray continuation byte, or overlong C0/C1 */
    if (b < 0xE0) {
        need = 2;
        cp = b & 0x1Fu;
    } else if (b < 0xF0) {
        need = 3;
        cp = b & 0x0Fu;
        if (b == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (b == 0xED && !surrogates)
            hi = 0x9F; /* U+D800..U+DFFF */
    } else if (b < 0xF5) {
        need = 4;
        cp = b & 0x07u;
        if (b == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (b == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return r; /* F5..FF never start a sequence */
    }
    for (size_t k = 1; k < need; k++) {
        if (i + k >= n) {
            r.bad = k; /* truncated: the valid prefix p[i..n) is one error */
            return r;
        }
        uint8_t c = p[i + k];
        if (k == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) {
            r.bad = k;
            return r;
        }
        cp = (cp << 6) | (c & 0x3Fu);
    }
    r.len = need;
    r.cp = cp;
    return r;
}

#endif
