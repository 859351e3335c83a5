/*
 * canon_read_lex.c - the tokens of the canonical text reader: numbers and
 * str and bytes literals, each accepted only in the one spelling the
 * printer (canon_write.c) gives its value.
 */
#include <string.h>

#include "bigint.h"
#include "canon_read.h"
#include "pyfloat.h"
#include "pytext.h"

#include "canon.h"

#define HEX_MIN_DIGITS 1025

int cr_fail(cr_text *x, size_t off, const char *msg) {
    x->code = BRINE_E_SYNTAX;
    x->msg = msg;
    x->eoff = off;
    return 0;
}

int cr_nomem(cr_text *x) {
    x->code = arena_error(&x->doc->arena);
    x->msg = NULL;
    x->eoff = x->pos;
    return 0;
}

int cr_scratch_nomem(cr_text *x) {
    x->code = BRINE_E_NOMEM;
    x->msg = NULL;
    x->eoff = x->pos;
    return 0;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int is_lower_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* Characters that continue a number token: all the printer puts in one,
 * and letters, so that `1e5x` is one bad token. */
static int num_char(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '+' || c == '-' || c == '_';
}

int cr_decimal_size(cr_text *x, size_t *out, int allow_zero) {
    size_t p = x->pos, v = 0;
    while (p < x->n && is_digit(x->t[p])) {
        size_t d = (size_t)(x->t[p] - '0');
        v = v > ((size_t)-1 - d) / 10 ? (size_t)-1 : v * 10 + d;
        p++;
    }
    if (p == x->pos || (x->t[x->pos] == '0' && (p - x->pos > 1 || !allow_zero))) return 0;
    x->pos = p;
    *out = v;
    return 1;
}

/* --- numbers --- */

/* Decimal digits t[body..e), after a '-' when body > p. */
static brine_value *int_token(cr_text *x, size_t p, size_t body, size_t e) {
    int neg = body > p;
    size_t nd = e - body;
    const char *d = x->t + body;
    if (nd > 1 && d[0] == '0') {
        cr_fail(x, p, "an int is written without leading zeros");
        return NULL;
    }
    if (neg && d[0] == '0') {
        cr_fail(x, p, "zero is written 0, not -0");
        return NULL;
    }
    brine_value *v;
    if (nd <= 18) {
        int64_t i = 0;
        for (size_t k = 0; k < nd; k++)
            i = i * 10 + (d[k] - '0');
        v = val_int64(x->doc, neg ? -i : i);
    } else {
        /* The digit count bounds the (quadratic) conversion. */
        if (nd > CANON_DECIMAL_MAX_DIGITS) {
            cr_fail(x, p, "an int of 2**4096 or more is written in hex");
            return NULL;
        }
        uint32_t *limbs = arena_alloc(&x->doc->arena, bi_text_limbs(nd) * sizeof *limbs);
        if (!limbs) {
            cr_nomem(x);
            return NULL;
        }
        bi b;
        bi_from_digits(d, nd, 10, neg, limbs, &b);
        if (bi_bit_length(&b) > CANON_DECIMAL_BITS) {
            cr_fail(x, p, "an int of 2**4096 or more is written in hex");
            return NULL;
        }
        v = val_int_limbs(x->doc, b.limbs, b.n, b.neg);
    }
    if (!v) cr_nomem(x);
    return v;
}

/* `0x` and hex digits at t[body..e), after a '-' when body > p. */
static brine_value *hex_token(cr_text *x, size_t p, size_t body, size_t e) {
    const char *d = x->t + body + 2;
    size_t nd = e - body - 2;
    for (size_t i = 0; i < nd; i++)
        if (!is_lower_hex(d[i])) {
            cr_fail(x, body + 2 + i, "hex digits are lowercase 0-9a-f");
            return NULL;
        }
    if (nd == 0 || d[0] == '0') {
        cr_fail(x, p, "a hex int is written without leading zeros");
        return NULL;
    }
    if (nd < HEX_MIN_DIGITS) {
        cr_fail(x, p, "an int below 2**4096 is written in decimal");
        return NULL;
    }
    uint32_t *limbs = arena_alloc(&x->doc->arena, bi_text_limbs(nd) * sizeof *limbs);
    brine_value *v = NULL;
    if (limbs) {
        bi b;
        bi_from_digits(d, nd, 16, body > p, limbs, &b);
        v = val_int_limbs(x->doc, b.limbs, b.n, b.neg);
    }
    if (!v) cr_nomem(x);
    return v;
}

/* The float token t[p..e): `nan` (with a `:0x` payload after e) or exactly
 * pyfloat_repr of its value. Moves x->pos past it. */
static int float_token(cr_text *x, size_t p, size_t e, uint64_t *bits) {
    const char *s = x->t + p;
    size_t len = e - p;
    if (len == 3 && memcmp(s, "nan", 3) == 0) {
        x->pos = e;
        *bits = 0x7ff8000000000000u;
        if (!cr_lit(x, ":0x")) return 1; /* as in `{nan: 1}` */
        size_t q = x->pos, k = 0;
        uint64_t b = 0;
        for (; q + k < x->n && num_char(x->t[q + k]); k++) {
            char c = x->t[q + k];
            if (!is_lower_hex(c)) return cr_fail(x, q + k, "hex digits are lowercase 0-9a-f");
            b = b << 4 | (uint64_t)(is_digit(c) ? c - '0' : c - 'a' + 10);
        }
        if (k != 16) return cr_fail(x, q, "a NaN payload has 16 hex digits");
        if ((b & 0x7ff0000000000000u) != 0x7ff0000000000000u || !(b & 0x000fffffffffffffu))
            return cr_fail(x, q, "nan:0x needs the bits of a NaN");
        if (b == 0x7ff8000000000000u) return cr_fail(x, p, "this NaN is written nan");
        x->pos = q + 16;
        *bits = b;
        return 1;
    }
    double d;
    size_t used;
    char repr[PYFLOAT_REPR_MAX];
    if (len >= PYFLOAT_REPR_MAX || pyfloat_parse(s, len, &d, &used) != PYF_OK || used != len ||
        d != d)
        return cr_fail(x, p, "invalid number");
    if (pyfloat_repr(d, repr) != len || memcmp(repr, s, len) != 0)
        return cr_fail(x, p, "a float is written as its repr()");
    *bits = pyfloat_bits(d);
    x->pos = e;
    return 1;
}

/* The number token at x->pos: an optional '-', then [body, e). */
static void scan_number(const cr_text *x, size_t *body, size_t *e) {
    size_t q = x->pos;
    if (q < x->n && x->t[q] == '-') q++;
    *body = q;
    while (q < x->n && num_char(x->t[q]))
        q++;
    *e = q;
}

static int all_digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i])) return 0;
    return n > 0;
}

static int is_hex_token(const char *s, size_t n) {
    return n >= 2 && s[0] == '0' && s[1] == 'x';
}

/* A word where a value starts that names no float: `none`, `infinity`. */
static int stray_word(const char *s, size_t n) {
    return s[0] >= 'a' && s[0] <= 'z' &&
           !(n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0));
}

brine_value *cr_number(cr_text *x) {
    size_t p = x->pos, body, e;
    scan_number(x, &body, &e);
    const char *s = x->t + body;
    if (e == body || stray_word(s, e - body)) {
        cr_fail(x, p, "expected a value");
        return NULL;
    }
    if (all_digits(s, e - body)) {
        x->pos = e;
        return int_token(x, p, body, e);
    }
    if (is_hex_token(s, e - body)) {
        x->pos = e;
        return hex_token(x, p, body, e);
    }
    uint64_t bits;
    if (!float_token(x, p, e, &bits)) return NULL;
    brine_value *v = val_float_bits(x->doc, bits);
    if (!v) cr_nomem(x);
    return v;
}

int cr_float_only(cr_text *x, uint64_t *bits) {
    size_t p = x->pos, body, e;
    scan_number(x, &body, &e);
    const char *s = x->t + body;
    if (e == body || all_digits(s, e - body) || is_hex_token(s, e - body) ||
        stray_word(s, e - body))
        return cr_fail(x, p, "expected a float");
    return float_token(x, p, e, bits);
}

/* --- literals --- */

int cr_literal(cr_text *x, int is_str, size_t *outlen) {
    size_t q = x->pos, j = q + 1;
    while (j < x->n && x->t[j] != '\'')
        j += x->t[j] == '\\' ? 2 : 1;
    if (j >= x->n) return cr_fail(x, q, "unterminated literal");
    size_t m = j - q; /* the body and the closing quote */
    if (!cr_grow(x->al, (void **)&x->buf, &x->capbuf, m, 1)) return cr_scratch_nomem(x);
    size_t epos = 0;
    size_t used = is_str ? pt_canon_unescape_str(x->t + q + 1, m, x->buf, outlen, &epos)
                         : pt_canon_unescape_bytes(x->t + q + 1, m, x->buf, outlen, &epos);
    if (used != m - 1) {
        if (used != (size_t)-1 || epos >= m - 1) return cr_fail(x, q, "unterminated literal");
        return cr_fail(x, q + 1 + epos,
                       x->t[q + 1 + epos] == '\\' ? "an escape the printer does not write"
                                                  : "a character the printer escapes");
    }
    x->pos = j + 1;
    return 1;
}
