/*
 * test_bigint_vectors.c - line protocol over src/bigint.c for differential
 * tests against CPython.
 *
 * With the argument --stdin it reads commands, one a line, and answers each
 * with one line; tests/py/test_bigint.py generates the vectors, runs this
 * and compares every answer with CPython 3.11. Byte strings travel as hex
 * so that NUL, newline and non-ASCII bytes pass through untouched; ints
 * travel as signed hex ("-1f").
 *
 *   P <base> <bytes>  bi_parse_py: "OK <consumed> <int>", "INVALID <0|1>" (1: the
 *                     message would be a UnicodeDecodeError) or "TOOMANY"
 *   S <bytes>         bi_strtol0: "<erange> <value> <consumed>"
 *   N <int>           every conversion of one int: "<le bytes or -> <decimal with the
 *                     4300 limit, or !> <int> <bit length> <int64 or X> <self>", where
 *                     <self> is "ok" or names an internal round trip that failed
 *   M <decimal>       bi_from_digits(base 10, no limit): "<int>"
 *   B <bytes>         bi_from_le_bytes: "<int>"
 *   E <int> <bits>    bi_eq_double (bits: the double's 16 hex digits): "0" or "1"
 *   F <bits>          bi_from_integral_double: "<int>"
 *   C <int> <int>     bi_cmp: "-1", "0" or "1"
 *
 * Without arguments (as ctest runs it) it answers a fixed script whose
 * answers were taken from CPython, so the protocol itself is tested too.
 */
#include <stdlib.h>

#include "bigint.h"
#include "tcheck.h"

typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static void sb_reserve(sbuf *b, size_t more) {
    if (b->len + more + 1 > b->cap) {
        b->cap = (b->len + more + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
}

static void sb_put(sbuf *b, const char *s, size_t n) {
    sb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) {
    sb_put(b, s, strlen(s));
}

static void sb_u64(sbuf *b, unsigned long long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", v);
    sb_str(b, tmp);
}

static void sb_i64(sbuf *b, long long v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", v);
    sb_str(b, tmp);
}

static void sb_hexbytes(sbuf *b, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    sb_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        b->p[b->len++] = hx[p[i] >> 4];
        b->p[b->len++] = hx[p[i] & 15];
    }
    b->p[b->len] = '\0';
}

static void sb_int(sbuf *b, const bi *x) {
    sb_reserve(b, x->n * 8 + 2);
    if (x->neg) b->p[b->len++] = '-';
    b->len += bi_to_hex(x, b->p + b->len);
    b->p[b->len] = '\0';
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex text into malloc'd bytes; returns the byte count. */
static size_t unhex(const char *h, size_t hl, uint8_t **out) {
    *out = xrealloc(NULL, hl / 2 + 1);
    for (size_t i = 0; i + 1 < hl; i += 2)
        (*out)[i / 2] = (uint8_t)(hexval(h[i]) * 16 + hexval(h[i + 1]));
    return hl / 2;
}

/* Signed hex text to a bi with malloc'd limbs. */
static bi parse_int(const char *h, size_t hl) {
    int neg = hl > 0 && h[0] == '-';
    if (neg) {
        h++;
        hl--;
    }
    bi x;
    bi_from_digits(h, hl, 16, neg, xrealloc(NULL, bi_text_limbs(hl) * sizeof(uint32_t)), &x);
    return x;
}

static uint64_t parse_bits(const char *h, size_t hl) {
    uint64_t v = 0;
    for (size_t i = 0; i < hl; i++)
        v = v * 16 + (uint64_t)hexval(h[i]);
    return v;
}

/* Splits a line into up to 3 space-separated fields after the command. */
typedef struct {
    const char *f[3];
    size_t fl[3];
} fields;

static fields split(const char *line, size_t len) {
    fields r = {{"", "", ""}, {0, 0, 0}};
    size_t i = 1, k = 0;
    while (k < 3 && i < len) {
        if (line[i] == ' ') i++;
        size_t j = i;
        while (j < len && line[j] != ' ')
            j++;
        r.f[k] = line + i;
        r.fl[k] = j - i;
        k++;
        i = j;
    }
    return r;
}

/* N: every conversion of one int, plus round trips checked here. */
static void cmd_int(sbuf *out, const bi *x) {
    const char *self = "ok";
    /* bytes */
    size_t nb = bi_to_le_bytes(x, NULL, 0);
    uint8_t *bytes = xrealloc(NULL, nb);
    if (bi_to_le_bytes(x, bytes, nb) != nb) self = "le-size";
    if (nb == 0)
        sb_str(out, "-");
    else
        sb_hexbytes(out, bytes, nb);
    uint32_t *limbs =
        xrealloc(NULL, (bi_bytes_limbs(nb) + bi_text_limbs(x->n * 10 + 16) + 4) * sizeof *limbs);
    bi y;
    bi_from_le_bytes(bytes, nb, limbs, &y);
    if (bi_cmp(x, &y) != 0) self = "le-roundtrip";
    free(bytes);

    /* decimal with repr's limit */
    size_t cap = bi_decimal_size(x);
    char *dec = xrealloc(NULL, cap);
    uint32_t *scratch = xrealloc(NULL, (x->n + 1) * sizeof *scratch);
    size_t dl = bi_to_decimal(x, BI_MAX_STR_DIGITS, dec, scratch);
    sb_str(out, " ");
    if (dl == 0) {
        sb_str(out, "!");
    } else {
        sb_put(out, dec, dl);
        if (dl > cap) self = "decimal-size";
        bi_from_digits(dec + x->neg, dl - (size_t)x->neg, 10, x->neg, limbs, &y);
        if (bi_cmp(x, &y) != 0) self = "decimal-roundtrip";
    }
    free(dec);
    free(scratch);

    /* hex, back through PyLong_FromString with a prefix */
    sb_str(out, " ");
    size_t before = out->len;
    sb_int(out, x);
    size_t hl = out->len - before - (size_t)x->neg;
    if (hl > x->n * 8 + 1) self = "hex-size";
    char *lit = xrealloc(NULL, hl + 4);
    size_t ll = 0;
    if (x->neg) lit[ll++] = '-';
    lit[ll++] = '0';
    lit[ll++] = 'X';
    memcpy(lit + ll, out->p + before + x->neg, hl);
    ll += hl;
    uint32_t *plimbs = xrealloc(NULL, bi_text_limbs(ll) * sizeof *plimbs);
    size_t consumed;
    if (bi_parse_py(lit, ll, 0, plimbs, &y, &consumed) != BI_OK || bi_cmp(x, &y) != 0)
        self = "hex-roundtrip";
    free(plimbs);
    free(lit);
    free(limbs);

    sb_str(out, " ");
    sb_u64(out, bi_bit_length(x));
    sb_str(out, " ");
    int64_t v;
    if (bi_to_i64(x, &v)) {
        sb_i64(out, v);
        uint32_t l2[2];
        bi_from_i64(v, l2, &y);
        if (bi_cmp(x, &y) != 0) self = "i64-roundtrip";
    } else {
        sb_str(out, "X");
    }
    sb_str(out, " ");
    sb_str(out, self);
}

static void run_line(sbuf *out, const char *line, size_t len) {
    fields f = split(line, len);
    char cmd = len ? line[0] : '?';
    switch (cmd) {
    case 'P': {
        int base = atoi(f.f[0]);
        uint8_t *s;
        size_t n = unhex(f.f[1], f.fl[1], &s);
        uint32_t *limbs = xrealloc(NULL, bi_text_limbs(n) * sizeof *limbs);
        bi x;
        size_t consumed = 0;
        bi_status st = bi_parse_py((const char *)s, n, base, limbs, &x, &consumed);
        if (st == BI_OK) {
            sb_str(out, "OK ");
            sb_u64(out, consumed);
            sb_str(out, " ");
            sb_int(out, &x);
        } else if (st == BI_INVALID) {
            sb_str(out, bi_invalid_literal_is_unicode_error((const char *)s, n) ? "INVALID 1"
                                                                                : "INVALID 0");
        } else {
            sb_str(out, "TOOMANY");
        }
        free(limbs);
        free(s);
        break;
    }
    case 'S': {
        uint8_t *s;
        size_t n = unhex(f.f[0], f.fl[0], &s);
        int64_t v = 0;
        size_t consumed = 0;
        int er = bi_strtol0((const char *)s, n, &v, &consumed);
        sb_i64(out, er);
        sb_str(out, " ");
        sb_i64(out, v);
        sb_str(out, " ");
        sb_u64(out, consumed);
        free(s);
        break;
    }
    case 'N': {
        bi x = parse_int(f.f[0], f.fl[0]);
        cmd_int(out, &x);
        free(x.limbs);
        break;
    }
    case 'M': {
        const char *d = f.f[0];
        size_t dl = f.fl[0];
        int neg = dl > 0 && d[0] == '-';
        bi x;
        uint32_t *limbs = xrealloc(NULL, bi_text_limbs(dl) * sizeof *limbs);
        bi_from_digits(d + neg, dl - (size_t)neg, 10, neg, limbs, &x);
        sb_int(out, &x);
        free(limbs);
        break;
    }
    case 'B': {
        uint8_t *s;
        size_t n = unhex(f.f[0], f.fl[0], &s);
        uint32_t *limbs = xrealloc(NULL, (bi_bytes_limbs(n) + 1) * sizeof *limbs);
        bi x;
        bi_from_le_bytes(s, n, limbs, &x);
        sb_int(out, &x);
        free(limbs);
        free(s);
        break;
    }
    case 'E': {
        bi x = parse_int(f.f[0], f.fl[0]);
        uint64_t bits = parse_bits(f.f[1], f.fl[1]);
        double d;
        memcpy(&d, &bits, sizeof d);
        sb_str(out, bi_eq_double(&x, d) ? "1" : "0");
        free(x.limbs);
        break;
    }
    case 'F': {
        uint64_t bits = parse_bits(f.f[0], f.fl[0]);
        double d;
        memcpy(&d, &bits, sizeof d);
        uint32_t limbs[35];
        bi x;
        bi_from_integral_double(d, limbs, &x);
        sb_int(out, &x);
        break;
    }
    case 'C': {
        bi a = parse_int(f.f[0], f.fl[0]);
        bi b = parse_int(f.f[1], f.fl[1]);
        sb_i64(out, bi_cmp(&a, &b));
        free(a.limbs);
        free(b.limbs);
        break;
    }
    default: sb_str(out, "?"); break;
    }
    sb_str(out, "\n");
}

static int serve_stdin(void) {
    sbuf in = {0};
    for (;;) {
        sb_reserve(&in, 1 << 16);
        size_t got = fread(in.p + in.len, 1, in.cap - in.len - 1, stdin);
        if (got == 0) break;
        in.len += got;
    }
    sbuf out = {0};
    size_t i = 0;
    while (i < in.len) {
        const char *nl = memchr(in.p + i, '\n', in.len - i);
        size_t end = nl ? (size_t)(nl - in.p) : in.len;
        run_line(&out, in.p + i, end - i);
        if (out.len > (1 << 20)) {
            fwrite(out.p, 1, out.len, stdout);
            out.len = 0;
        }
        i = end + 1;
    }
    if (out.len) fwrite(out.p, 1, out.len, stdout);
    free(in.p);
    free(out.p);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Answers taken from CPython 3.11.7 (see tests/py/test_bigint.py for how
 * each command maps to Python). */
static void test_script(void) {
    static const char *const script[][2] = {
        {"P 0 3132", "OK 2 c"},              /* "12" */
        {"P 0 2030785f3166200a", "OK 8 1f"}, /* " 0x_1f \n" */
        {"P 0 3038", "INVALID 0"},           /* "08" */
        {"P 10 3038", "OK 2 8"},             /* "08", base 10 */
        {"P 0 ff", "INVALID 1"},             /* "\xff" */
        {"P 0 2d3100ff", "OK 2 -1"},         /* "-1\0\xff" */
        {"P 0 5f31", "INVALID 0"},           /* "_1" */
        {"S 30780a", "0 0 1"},               /* "0x\n" */
        {"S 2d30313737", "0 -127 5"},        /* "-0177": octal */
        {"S 39323233333732303336383534373735383038", "1 9223372036854775807 19"},
        {"N 0", "- 0 0 0 0 ok"},
        {"N -80", "80 -128 -80 8 -128 ok"},
        {"N ff", "ff00 255 ff 8 255 ok"},
        {"N -8000000000000001",
         "ffffffffffffff7fff -9223372036854775809 -8000000000000001 64 X ok"},
        {"M -18446744073709551616", "-10000000000000000"},
        {"B 0080", "-8000"},
        {"B ", "0"},
        {"E 20000000000001 4340000000000000", "0"},
        {"E 20000000000000 4340000000000000", "1"},
        {"E 0 8000000000000000", "1"},
        {"F c340000000000000", "-20000000000000"},
        {"C -1 0", "-1"},
        {"C 10 f", "1"},
    };
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        sbuf out = {0};
        run_line(&out, script[i][0], strlen(script[i][0]));
        if (out.len) out.p[--out.len] = '\0'; /* the newline */
        CHECK_EQ_STR(out.p, script[i][1]);
        free(out.p);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--stdin") == 0) return serve_stdin();
    TRUN(test_script);
    return TDONE();
}
