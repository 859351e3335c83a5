/*
 * dis_args.c - the opcode argument readers of `brine dis`: pickletools'
 * read_* functions of CPython 3.11, which are not the unpickler's.
 *
 * What pickletools does and the unpickler does not:
 *  - INT, GET and PUT take int() of the raw line (bytes): whitespace,
 *    signs, underscores and the 4300-digit limit as int() has them, and
 *    exactly "00" and "01" are False and True -- for GET and PUT too.
 *    LONG drops one trailing 'L' and does the same.
 *  - FLOAT takes float() of the bytes (whitespace and underscores allowed).
 *  - STRING needs a quote at both ends, but a lone quote passes ('' then);
 *    STRING, GLOBAL, INST and PERSID all go through codecs.escape_decode
 *    and then must be ASCII.
 *  - BINSTRING rejects negative lengths; counted data must all be there.
 *  - LONG1/LONG4 read fine at any size; repr() then fails past 4300 digits,
 *    after the "%5d: " of the line is out, so that failure is deferred.
 */
#include "dis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigint.h"
#include "byteorder.h"
#include "errors.h"
#include "pyfloat.h"
#include "pytext.h"

int dis_fail(dis_input *in, brine_code code, const char *pyclass, const char *msg) {
    if (!in->failed) {
        brine_set_error(in->err, code, msg, in->pos);
        if (in->err && pyclass) in->err->pyclass = pyclass;
        in->failed = 1;
    }
    return -1;
}

static int bad_arg(dis_input *in, brine_code code, const char *msg) { /* ValueError */
    return dis_fail(in, code, "ValueError", msg);
}

static int need(dis_input *in, size_t n, const char *msg) {
    return n <= in->len - in->i ? 0 : bad_arg(in, BRINE_E_TRUNCATED, msg);
}

/* f.readline() without its newline; the readers raise when there is none. */
static int readline(dis_input *in, const uint8_t **s, size_t *n) {
    const uint8_t *nl = memchr(in->p + in->i, '\n', in->len - in->i);
    if (!nl) return bad_arg(in, BRINE_E_TRUNCATED, "no newline found when trying to read");
    *s = in->p + in->i;
    *n = (size_t)(nl - *s);
    in->i += *n + 1;
    return 0;
}

/* repr(x) into numbuf, or too_long where repr() raises (over 4300 digits;
 * decided from the size alone when it is clear: 2**14286 > 10**4300). */
static void int_text(dis_input *in, const bi *x, dis_arg *a) {
    if (bi_bit_length(x) > 14400 || x->n > DIS_SCRATCH_LIM) {
        a->too_long = 1;
        return;
    }
    size_t m = bi_to_decimal(x, BI_MAX_STR_DIGITS, in->numbuf, in->scratch);
    a->too_long = m == 0;
    a->p = (const uint8_t *)in->numbuf;
    a->key = in->numbuf;
    a->n = a->keylen = m;
}

void dis_small_int(dis_arg *a, uint64_t v, int neg) {
    int m = neg ? snprintf(a->num, sizeof a->num, "%" PRId64, (int64_t)v)
                : snprintf(a->num, sizeof a->num, "%" PRIu64, v);
    a->p = (const uint8_t *)a->num;
    a->key = a->num;
    a->n = a->keylen = (size_t)m;
}

/* int(s) for bytes s: PyLong_FromString in base 10, which must use all of
 * s (a NUL stops it short). The value has at most 4300 digits. */
static int parse_int(dis_input *in, const uint8_t *s, size_t n, dis_arg *a) {
    uint32_t small[16];
    size_t nl = bi_text_limbs(n), used = 0;
    uint32_t *limbs = nl <= 16 ? small : (nl <= SIZE_MAX / 4 ? malloc(nl * 4) : NULL);
    if (!limbs) return dis_fail(in, BRINE_E_NOMEM, NULL, NULL);
    bi x;
    bi_status st = bi_parse_py((const char *)s, n, 10, limbs, &x, &used);
    if (st == BI_OK && used == n) int_text(in, &x, a);
    if (limbs != small) free(limbs);
    if (st == BI_TOO_MANY_DIGITS)
        return bad_arg(in, BRINE_E_INT_DIGITS,
                       "Exceeds the limit (4300 digits) for integer string conversion");
    if (st != BI_OK || used != n)
        return bad_arg(in, BRINE_E_LONG_PARSE, "invalid literal for int() with base 10");
    return 0;
}

/* decode_long(): int.from_bytes(data, 'little', signed=True). Redundant
 * sign bytes go first, so that huge values cost nothing. */
static void long_bytes(dis_input *in, const uint8_t *p, size_t n, dis_arg *a) {
    while (n > 1 &&
           ((p[n - 1] == 0 && !(p[n - 2] & 0x80)) || (p[n - 1] == 0xff && (p[n - 2] & 0x80))))
        n--;
    if (n > 1800) { /* over 14400 bits */
        a->too_long = 1;
        return;
    }
    uint32_t limbs[DIS_SCRATCH_LIM];
    bi x;
    bi_from_le_bytes(p, n, limbs, &x);
    int_text(in, &x, a);
}

/* codecs.escape_decode(s)[0].decode("ascii"), appended at out + *len. */
static int escape_ascii(dis_input *in, const uint8_t *s, size_t n, uint8_t *out, size_t *len) {
    size_t m;
    if (pt_bytes_decode_escape(s, n, out + *len, &m, NULL) != BRINE_OK)
        return bad_arg(in, BRINE_E_ESCAPE, "invalid \\x escape or trailing \\ in string");
    for (size_t k = 0; k < m; k++)
        if (out[*len + k] >= 0x80)
            return dis_fail(in, BRINE_E_UNICODE_DECODE, "UnicodeDecodeError",
                            "'ascii' codec can't decode byte");
    *len += m;
    return 0;
}

static int alloc_buf(dis_input *in, dis_arg *a, size_t n, size_t mul) {
    a->buf = n <= (SIZE_MAX - 1) / mul ? malloc(n * mul + 1) : NULL;
    return a->buf ? 0 : dis_fail(in, BRINE_E_NOMEM, NULL, NULL);
}

/* The counted arguments: a count of `width` bytes, then that much data. */
enum { C_LONG, C_LATIN1, C_UTF8, C_BYTES, C_BYTEARRAY };
static const struct {
    uint8_t width, is_signed, form;
} counted[] = {
    [A_LONG1] = {1, 0, C_LONG},     [A_LONG4] = {4, 1, C_LONG},
    [A_STRING1] = {1, 0, C_LATIN1}, [A_STRING4] = {4, 1, C_LATIN1},
    [A_BYTES1] = {1, 0, C_BYTES},   [A_BYTES4] = {4, 0, C_BYTES},
    [A_BYTES8] = {8, 0, C_BYTES},   [A_BYTEARRAY8] = {8, 0, C_BYTEARRAY},
    [A_UNICODE1] = {1, 0, C_UTF8},  [A_UNICODE4] = {4, 0, C_UTF8},
    [A_UNICODE8] = {8, 0, C_UTF8},
};

static int read_counted(dis_input *in, int kind, dis_arg *a) {
    const unsigned w = counted[kind].width;
    if (need(in, w, "not enough data in stream to read the count") != 0) return -1;
    uint64_t v = load_le(in->p + in->i, w);
    in->i += w;
    if (counted[kind].is_signed && (v & 0x80000000u)) /* string4, long4 */
        return bad_arg(in, BRINE_E_LONG_NEGATIVE, "byte count < 0");
    if (v > INT64_MAX) /* bytes8 and the like: n > sys.maxsize */
        return bad_arg(in, BRINE_E_SIZE_OVERFLOW, "byte count > sys.maxsize");
    /* Python fails here too, with ValueError or (allocating n bytes first)
     * MemoryError or OverflowError: a failure either way. */
    if (v > in->len - in->i) return bad_arg(in, BRINE_E_TRUNCATED, "not enough data");
    const uint8_t *s = in->p + in->i;
    const size_t n = (size_t)v;
    in->i += n;
    a->p = s;
    a->n = n;
    switch (counted[kind].form) {
    case C_LONG: long_bytes(in, s, n, a); return 0;
    case C_LATIN1: /* data.decode("latin-1") */
        if (alloc_buf(in, a, n, 2) != 0) return -1;
        a->n = 0;
        for (size_t k = 0; k < n; k++)
            a->n += pt_put_cp(a->buf + a->n, s[k]);
        a->kind = V_STR;
        a->p = a->buf;
        return 0;
    case C_UTF8: /* str(data, 'utf-8', 'surrogatepass'): WTF-8 as it stands */
        if (pt_utf8_check(s, n, NULL, NULL) != BRINE_OK)
            return dis_fail(in, BRINE_E_UNICODE_DECODE, "UnicodeDecodeError",
                            "'utf-8' codec can't decode bytes");
        a->kind = V_STR;
        return 0;
    default: a->kind = counted[kind].form == C_BYTES ? V_BYTES : V_BYTEARRAY; return 0;
    }
}

int dis_read_arg(dis_input *in, int kind, dis_arg *a) {
    static const uint8_t width[] = {[A_U1] = 1, [A_U2] = 2, [A_U4] = 4, [A_U8] = 8, [A_I4] = 4};
    const uint8_t *s, *s2;
    size_t n, n2;
    a->kind = V_TEXT;
    switch (kind) {
    case A_U1:
    case A_U2:
    case A_U4:
    case A_U8:
    case A_I4: {
        if (need(in, width[kind], "not enough data in stream to read an integer") != 0) return -1;
        uint64_t v = load_le(in->p + in->i, width[kind]);
        in->i += width[kind];
        if (kind == A_I4) v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;
        dis_small_int(a, v, kind == A_I4);
        return 0;
    }
    case A_DECNL_SHORT:
        if (readline(in, &s, &n) != 0) return -1;
        /* The hack for True and False (I01, I00) serves GET and PUT too. */
        if (n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1')) {
            a->p = (const uint8_t *)(s[1] == '1' ? "True" : "False");
            a->n = s[1] == '1' ? 4 : 5;
            a->key = s[1] == '1' ? "1" : "0"; /* True == 1, False == 0 as keys */
            a->keylen = 1;
            return 0;
        }
        return parse_int(in, s, n, a);
    case A_DECNL_LONG:
        if (readline(in, &s, &n) != 0) return -1;
        return parse_int(in, s, n && s[n - 1] == 'L' ? n - 1 : n, a);
    case A_FLOATNL: {
        double x;
        if (readline(in, &s, &n) != 0) return -1;
        if (pyfloat_from_bytes((const char *)s, n, &x) != PYF_OK)
            return bad_arg(in, BRINE_E_FLOAT_PARSE, "could not convert string to float");
        a->n = pyfloat_repr(x, a->num);
        a->p = (const uint8_t *)a->num;
        return 0;
    }
    case A_FLOAT8: { /* struct.unpack(">d") */
        if (need(in, 8, "not enough data in stream to read float8") != 0) return -1;
        uint64_t bits = 0;
        for (unsigned k = 0; k < 8; k++)
            bits = bits << 8 | in->p[in->i + k];
        in->i += 8;
        a->n = pyfloat_repr(pyfloat_from_bits(bits), a->num);
        a->p = (const uint8_t *)a->num;
        return 0;
    }
    case A_STRINGNL:
        if (readline(in, &s, &n) != 0) return -1;
        /* A quote at both ends -- which one lone quote character is. */
        if (n == 0 || (s[0] != '"' && s[0] != '\'') || s[n - 1] != s[0])
            return bad_arg(in, BRINE_E_STRING_QUOTES, "string quotes not found at both ends");
        n = n >= 2 ? n - 2 : 0;
        if (alloc_buf(in, a, n, 1) != 0 || escape_ascii(in, s + 1, n, a->buf, &a->n) != 0)
            return -1;
        a->kind = V_STR;
        a->p = a->buf;
        return 0;
    case A_NOESC:
    case A_PAIR:
        /* "%s %s" % (read_stringnl_noescape(f), read_stringnl_noescape(f));
         * any failure comes before the line is printed, in whatever order. */
        if (readline(in, &s, &n) != 0) return -1;
        s2 = NULL, n2 = 0;
        if (kind == A_PAIR && readline(in, &s2, &n2) != 0) return -1;
        if (alloc_buf(in, a, n + n2 + 1, 1) != 0 || escape_ascii(in, s, n, a->buf, &a->n) != 0)
            return -1;
        if (kind == A_PAIR) {
            a->buf[a->n++] = ' ';
            if (escape_ascii(in, s2, n2, a->buf, &a->n) != 0) return -1;
        }
        a->kind = V_STR;
        a->p = a->buf;
        return 0;
    case A_UNICODENL: /* str(line, 'raw-unicode-escape') */
        if (readline(in, &s, &n) != 0 || alloc_buf(in, a, n, 2) != 0) return -1;
        if (pt_raw_unicode_escape_decode(s, n, a->buf, &a->n, NULL, NULL) != BRINE_OK)
            return dis_fail(in, BRINE_E_UNICODE_DECODE, "UnicodeDecodeError",
                            "'rawunicodeescape' codec can't decode bytes");
        a->kind = V_STR;
        a->p = a->buf;
        return 0;
    case A_NONE: return 0;
    default: return read_counted(in, kind, a);
    }
}
