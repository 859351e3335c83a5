/*
 * pytext_canon.c - the bodies of the canonical text's str and bytes
 * literals (docs/canonical.md): the printer and the strict reader.
 */
#include "pytext.h"
#include "pytext_impl.h"

/* Value of a lowercase hex digit, or -1: the canonical text has no others. */
static int lowerhexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* The named escape letter for c, or 0. */
static char canon_named(uint32_t c) {
    switch (c) {
    case '\\': return '\\';
    case '\'': return '\'';
    case '\t': return 't';
    case '\n': return 'n';
    case '\r': return 'r';
    default: return 0;
    }
}

/* The character a named escape letter stands for, or -1. */
static int canon_unnamed(uint8_t letter) {
    switch (letter) {
    case '\\': return '\\';
    case '\'': return '\'';
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    default: return -1;
    }
}

size_t pt_canon_escape_str(const uint8_t *wtf8, size_t n, char *out) {
    uint8_t *u = (uint8_t *)out;
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp = pt_next_cp(wtf8, &i);
        char named = canon_named(cp);
        if (named) {
            u[o++] = '\\';
            u[o++] = (uint8_t)named;
        } else if (cp >= 0x20 && cp <= 0x7E) {
            u[o++] = (uint8_t)cp;
        } else if (cp < 0x100) {
            o += put_hex_escape(u + o, 'x', cp, 2);
        } else if (cp < 0x10000) {
            o += put_hex_escape(u + o, 'u', cp, 4);
        } else {
            o += put_hex_escape(u + o, 'U', cp, 8);
        }
    }
    return o;
}

size_t pt_canon_escape_bytes(const uint8_t *p, size_t n, char *out) {
    uint8_t *u = (uint8_t *)out;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char named = canon_named(p[i]);
        if (named) {
            u[o++] = '\\';
            u[o++] = (uint8_t)named;
        } else if (p[i] >= 0x20 && p[i] <= 0x7E) {
            u[o++] = p[i];
        } else {
            o += put_hex_escape(u + o, 'x', p[i], 2);
        }
    }
    return o;
}

/* Shared reader of both literal kinds. Each accepted form is the one the
 * printer writes for the value it denotes, so e.g. \x41, \u00e9, \X, \xAB
 * and a raw tab are rejected. */
static size_t canon_unescape(const char *text, size_t n, int is_str, uint8_t *out, size_t *outlen,
                             size_t *err_pos) {
    const uint8_t *t = (const uint8_t *)text;
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c = t[i];
        if (c == '\'') {
            *outlen = o;
            return i;
        }
        if (c != '\\') {
            if (c < 0x20 || c > 0x7E) break; /* must have been escaped */
            out[o++] = c;
            i++;
            continue;
        }
        if (i + 1 >= n) break;
        int named = canon_unnamed(t[i + 1]);
        if (named >= 0) {
            out[o++] = (uint8_t)named;
            i += 2;
            continue;
        }
        int digits = 0; /* \x, and in a str \u and \U */
        if (t[i + 1] == 'x')
            digits = 2;
        else if (is_str && t[i + 1] == 'u')
            digits = 4;
        else if (is_str && t[i + 1] == 'U')
            digits = 8;
        if (digits == 0 || n - i - 2 < (size_t)digits) break;
        uint32_t cp = 0;
        int ok = 1;
        for (int k = 0; k < digits; k++) {
            int d = lowerhexval(t[i + 2 + (size_t)k]);
            if (d < 0) ok = 0;
            cp = (cp << 4) | (uint32_t)(d & 0xF);
        }
        if (digits == 2)
            ok = ok && !(cp >= 0x20 && cp <= 0x7E) && !canon_named(cp);
        else if (digits == 4)
            ok = ok && cp >= 0x100;
        else
            ok = ok && cp >= 0x10000 && cp <= 0x10FFFF;
        if (!ok) break;
        if (is_str)
            o += pt_put_cp(out + o, cp);
        else
            out[o++] = (uint8_t)cp;
        i += 2 + (size_t)digits;
    }
    /* A bad character or escape at i, or no closing quote (i == n). */
    if (err_pos) *err_pos = i;
    return (size_t)-1;
}

size_t pt_canon_unescape_str(const char *text, size_t n, uint8_t *out, size_t *outlen,
                             size_t *err_pos) {
    return canon_unescape(text, n, 1, out, outlen, err_pos);
}

size_t pt_canon_unescape_bytes(const char *text, size_t n, uint8_t *out, size_t *outlen,
                               size_t *err_pos) {
    return canon_unescape(text, n, 0, out, outlen, err_pos);
}
