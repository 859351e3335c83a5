/*
 * pyfloat_parse.c - Python's float parsing, exactly (see pyfloat.h).
 *
 * The syntax of CPython's _Py_dg_strtod (and _Py_parse_inf_or_nan) is
 * checked here, and the value is rounded from exact big integers (the
 * digits times a power of five, or divided by one), after shortcuts that
 * are exact by construction or come with a proven error bound: Clinger's
 * exact-double one, 128-bit integers for up to 19 digits within 10^+-27
 * (what repr writes), a bounded 128-bit approximation beyond. Neither the
 * C library's strtod nor the locale is involved. Only an 800-digit prefix
 * of a longer significand is needed, which keeps huge inputs linear.
 *
 * Nothing here is taken from another project's code; the algorithms are
 * explained where they are used.
 */
#include "pyfloat.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "pyfloat_num.h"
#include "swar.h"

/* CPython's _Py_dg_strtod clips exponents beyond this (a no-op for any
 * input shorter than about a gigabyte, kept to match it exactly) ... */
#define PY_MAX_ABS_EXP 1100000000
/* ... and refuses significands with more digits than this. */
#define PY_MAX_DIGITS 1000000000u
/* Significant digits kept: halfway points between doubles have at most 768
 * significant digits, so a longer significand rounds like its first 800
 * digits followed by a 1 (see decimal_to_double). */
#define KEEP_DIGITS 800

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* What the scanner found in a decimal literal. The significand's digits are
 * s[int_beg, int_beg + int_len) followed by s[frac_beg, frac_beg + frac_len). */
typedef struct dec_literal {
    int neg;
    size_t int_beg, int_len, frac_beg, frac_len;
    int64_t exp; /* written exponent, clipped as CPython does */
} dec_literal;

static char lit_digit(const char *s, const dec_literal *d, size_t i) {
    return i < d->int_len ? s[d->int_beg + i] : s[d->frac_beg + (i - d->int_len)];
}

static double make_double(int neg, uint64_t bits) {
    return pyfloat_from_bits(bits | (neg ? SIGN_BIT : 0));
}

/* The double nearest to (r + f) * 2^e2 with r >= 2^63, 0 <= f < 1 and
 * sticky telling whether f > 0, ties to even; *overflow is set when that is
 * beyond the largest double (the result is then infinity). */
static uint64_t round_to_bits(uint64_t r, int sticky, int e2, int *overflow) {
    int ex = e2 + 11; /* exponent of the last kept bit when normal */
    unsigned drop = 11;
    *overflow = 0;
    if (ex < QMIN) {
        /* Subnormal: keep only the bits at or above 2^QMIN. */
        if (QMIN - e2 > 64) return 0; /* below 2^(QMIN-1): rounds to zero */
        drop = (unsigned)(QMIN - e2);
        ex = QMIN;
    }
    uint64_t m, rem, half;
    if (drop == 64) {
        m = 0;
        rem = r;
        half = SIGN_BIT;
    } else {
        m = r >> drop;
        rem = r & ((UINT64_C(1) << drop) - 1);
        half = UINT64_C(1) << (drop - 1);
    }
    if (rem > half || (rem == half && (sticky || (m & 1)))) m++;
    if (m == HIDDEN_BIT << 1) {
        m >>= 1;
        ex++;
    }
    if (ex > QMAX) {
        *overflow = 1;
        return (uint64_t)EXP_ALL_ONES << MANT_BITS;
    }
    if (m < HIDDEN_BIT) return m; /* subnormal (or zero) */
    return ((uint64_t)(ex - QMIN + 1) << MANT_BITS) | (m & MANT_MASK);
}

#if defined(__SIZEOF_INT128__)
#define HAVE_U128 1
__extension__ typedef unsigned __int128 u128;

/* The double nearest to v * 10^e10 for 0 < v < 2^64 and |e10| <= 27, the
 * literals repr writes (up to 17 digits, most of them past Clinger's
 * limits), exactly with 128-bit integers: 5^|e10| < 2^63, so v * 5^e10
 * fits in 128 bits, and v / 5^-e10 is one 128-by-64-bit division whose
 * quotient has 63 or 64 bits (a 64th from the remainder when needed) and
 * whose remainder is the sticky bit. */
static uint64_t small_to_bits(uint64_t v, int e10, int *overflow) {
    uint64_t r;
    int e2, sticky;
    if (e10 >= 0) {
        /* v * 10^e10 = (v * 5^e10) * 2^e10: keep the product's top 64 bits. */
        u128 p = (u128)v * pow5_u64[e10];
        uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
        if (hi) {
            unsigned sh = 64 - bit_length64(hi);
            r = sh ? (hi << sh) | (lo >> (64 - sh)) : hi;
            sticky = (lo << sh) != 0;
            e2 = e10 + 64 - (int)sh;
        } else {
            unsigned sh = 64 - bit_length64(lo);
            r = lo << sh;
            sticky = 0;
            e2 = e10 - (int)sh;
        }
    } else {
        /* v * 10^e10 = (v * 2^s / 5^f) * 2^(e10 - s), f = -e10: with
         * 2^(P-1) <= 5^f < 2^P and 2^(L-1) <= v < 2^L, s = 63 + P - L puts
         * the quotient in (2^62, 2^64). */
        uint64_t den = pow5_u64[-e10];
        unsigned s = 63 + bit_length64(den) - bit_length64(v);
        u128 num = (u128)v << s;
        r = (uint64_t)(num / den);
        uint64_t rem = (uint64_t)(num - (u128)r * den);
        e2 = e10 - (int)s;
        if (!(r >> 63)) {
            /* One more quotient bit: rem < 5^f < 2^63, so 2 * rem fits. */
            rem <<= 1;
            r = (r << 1) | (rem >= den);
            if (rem >= den) rem -= den;
            e2--;
        }
        sticky = rem != 0;
    }
    return round_to_bits(r, sticky, e2, overflow);
}
#endif

/* The double nearest to v * 10^e10 (v < 2^64, 27 < |e10| <= 350), from
 * 5^e10 rounded down to 128 bits (see fp128_pow5): the product P = v * 5^e10
 * is then at most P * 2^-117 below the true value, so the rounding is P's
 * unless a halfway point between doubles lies in [P, P + P * 2^-117].
 * Returns 0 when that cannot be ruled out (then the exact code decides). */
static int approx_to_bits(uint64_t v, int e10, uint64_t *bits, int *overflow) {
    fp128 a = fp128_pow5((unsigned)(e10 < 0 ? -e10 : e10), e10 < 0);
    uint64_t w[3], h1, l1, h0, l0;
    mul64(v, a.lo, &h0, &l0);
    mul64(v, a.hi, &h1, &l1);
    w[0] = l0;
    w[1] = h0 + l1;
    w[2] = h1 + (w[1] < l1);
    /* value ~ (w2:w1:w0) * 2^lsb; the top bit is at L >= 127. */
    int lsb = a.e + e10;
    int top = w[2] ? 128 + (int)bit_length64(w[2]) - 1 : 64 + (int)bit_length64(w[1]) - 1;
    /* Bits dropped to round to 53 bits, or to the subnormal grid. */
    int drop = top - 52;
    if (lsb + drop < QMIN) drop = QMIN - lsb;
    if (drop > 191) return 0; /* far below the smallest subnormal */
    /* The 64 bits just below the rounding point: the top one is the half
     * bit, and the error is below one unit of the lowest (the error is
     * under 2^(top - 116) and drop - 64 >= top - 116). A halfway point can
     * only be within reach when these are 0x8000... or just below. */
    uint64_t win = bits192(w, (unsigned)(drop - 64));
    uint64_t off_half = win >= SIGN_BIT ? win - SIGN_BIT : SIGN_BIT - win;
    if (off_half <= (uint64_t)PYFLOAT_APPROX_SLACK) return 0;
    int sticky = 0;
    for (int i = 0; i < 3 && !sticky; i++)
        sticky = i * 64 + 64 <= top - 63 ? w[i] != 0
                 : i * 64 < top - 63     ? (w[i] << (64 - (top - 63 - i * 64))) != 0
                                         : 0;
    *bits = round_to_bits(bits192(w, (unsigned)(top - 63)), sticky, lsb + top - 63, overflow);
    return 1;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The correctly rounded value of a scanned literal; *overflow as above. */
static double decimal_to_double(const char *s, const dec_literal *d, int *overflow) {
    size_t total = d->int_len + d->frac_len;
    size_t first = 0, last = total;
    *overflow = 0;
    while (first < total && lit_digit(s, d, first) == '0')
        first++;
    if (first == total) return make_double(d->neg, 0);
    while (lit_digit(s, d, last - 1) == '0')
        last--;
    /* value = D * 10^e10 with D = digits [first, last), no leading or
     * trailing zeros; it lies in [10^(mag-1), 10^mag). */
    size_t nsig = last - first;
    int64_t e10 = d->exp - (int64_t)d->frac_len + (int64_t)(total - last);
    int64_t mag = e10 + (int64_t)nsig;
    if (mag > 309) { /* >= 1e309 */
        *overflow = 1;
        return make_double(d->neg, (uint64_t)EXP_ALL_ONES << MANT_BITS);
    }
    if (mag < -324) /* < 1e-325, less than half the smallest subnormal */
        return make_double(d->neg, 0);

#if FLT_EVAL_METHOD == 0
    /* Both operands exact doubles, so one IEEE operation rounds correctly
     * (Clinger's fast path). */
    if (PYFLOAT_FAST_PATHS && nsig <= 15 && e10 >= -22 && e10 <= 22 + 15 - (int64_t)nsig) {
        uint64_t v = 0;
        for (size_t i = first; i < last; i++)
            v = v * 10 + (uint64_t)(lit_digit(s, d, i) - '0');
        double x;
        if (e10 < 0) {
            x = (double)v / pow10_exact[-e10];
        } else if (e10 <= 22) {
            x = (double)v * pow10_exact[e10];
        } else {
            /* Still below 10^15 < 2^53 after this, hence exact. */
            x = (double)(v * (uint64_t)pow10_exact[e10 - 22]) * 1e22;
        }
        return d->neg ? -x : x;
    }
#endif

    if (PYFLOAT_FAST_PATHS && nsig <= 19 && (e10 > 27 || e10 < -27)) {
        uint64_t v = 0;
        for (size_t i = first; i < last; i++)
            v = v * 10 + (uint64_t)(lit_digit(s, d, i) - '0');
        uint64_t bits;
        if (approx_to_bits(v, (int)e10, &bits, overflow)) return make_double(d->neg, bits);
    }

    /* Exact path: D as a big integer. A longer significand is cut to
     * KEEP_DIGITS digits and a 1 is appended (its last digit is not 0, so
     * it is strictly above the cut value): no halfway point between
     * doubles lies strictly between the cut value and the cut value plus
     * one unit in its last place, since those have at most 768 significant
     * digits; both therefore round alike. */
    big n;
    big_set_u64(&n, 0);
    size_t take = nsig > KEEP_DIGITS ? KEEP_DIGITS : nsig;
    uint32_t chunk = 0;
    unsigned cnt = 0;
    for (size_t i = first; i < first + take; i++) {
        chunk = chunk * 10 + (uint32_t)(lit_digit(s, d, i) - '0');
        if (++cnt == 9) {
            big_mul_add_small(&n, pow10_u32[9], chunk);
            chunk = 0;
            cnt = 0;
        }
    }
    if (cnt) big_mul_add_small(&n, pow10_u32[cnt], chunk);
    if (take < nsig) {
        big_mul_add_small(&n, 10, 1);
        e10 += (int64_t)(nsig - take) - 1;
    }

    int e2, sticky;
    uint64_t r;
    if (e10 >= 0) {
        /* D * 10^e10 = (D * 5^e10) * 2^e10, an integer. */
        big_mul_pow5(&n, (unsigned)e10);
        r = big_top64(&n, &e2, &sticky);
        e2 += (int)e10;
    } else {
        /* D * 10^e10 = (D * 2^sh / 5^f) * 2^(-sh-f): shift so that the
         * quotient keeps at least 64 bits (5^f has at most
         * f * 2.322 + 1 bits), then divide, noting any remainder. */
        unsigned f = (unsigned)-e10;
        int64_t sh = 66 + (int64_t)f * 2322 / 1000 + 1 - (int64_t)big_bitlen(&n);
        if (sh < 0) sh = 0;
        big_shl(&n, (unsigned)sh);
        int dropped = big_div_pow5(&n, f);
        r = big_top64(&n, &e2, &sticky);
        sticky |= dropped;
        e2 -= (int)(sh + f);
    }
    return make_double(d->neg, round_to_bits(r, sticky, e2, overflow));
}

/* Scans the digits at s[i..n) into *v (v * 10 + digit each; it wraps
 * past 19 significant digits, and is then not used) and returns the
 * index after them. Eight at a time where the byte order allows: the
 * literals repr writes have up to 17. Inlined in parse_prefix's two calls,
 * which then share the constants. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
static inline size_t
scan_digits(const char *s, size_t n, size_t i, uint64_t *v) {
    uint64_t acc = *v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (swar_nondigits(w)) break; /* all eight in '0'..'9', or the loop below */
        acc = acc * 100000000 + swar_digits_value(w - 0x3030303030303030u); /* s[i] low */
        i += 8;
    }
#endif
    for (; i < n; i++) {
        unsigned digit = (unsigned)(unsigned char)s[i] - '0';
        if (digit > 9) break;
        acc = acc * 10 + digit;
    }
    *v = acc;
    return i;
}

/* ASCII case-insensitive match of word at s[i..n). */
static int match_word(const char *s, size_t n, size_t i, const char *word) {
    for (; *word; word++, i++) {
        if (i >= n) return 0;
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != *word) return 0;
    }
    return 1;
}

/* _PyOS_ascii_strtod on s[0..n): returns 0 when nothing was parsed, else
 * 1 with the value (infinity on overflow, flagged), and the number of
 * bytes used. A NUL, which ends CPython's C string, stops the parse here
 * like any other byte no literal holds. */
static int parse_prefix(const char *s, size_t n, double *out, size_t *end, int *overflow) {
    dec_literal d;
    size_t i = 0;
    *overflow = 0;
    d.neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) d.neg = s[i++] == '-';
    /* The leading zeros are counted apart; v gathers the digits after
     * them, exactly while there are at most 19. */
    uint64_t v = 0;
    d.int_beg = i;
    while (i < n && s[i] == '0')
        i++;
    size_t lead = i - d.int_beg, first_sig = i;
    i = scan_digits(s, n, i, &v);
    size_t int_sig = i - first_sig;
    d.int_len = i - d.int_beg;
    d.frac_beg = i;
    d.frac_len = 0;
    if (i < n && s[i] == '.') {
        d.frac_beg = ++i;
        if (!int_sig) {
            while (i < n && s[i] == '0')
                i++;
            lead += i - d.frac_beg;
        }
        i = scan_digits(s, n, i, &v);
        d.frac_len = i - d.frac_beg;
    }
    if (d.int_len + d.frac_len > 0) {
        /* CPython's size limits: digits after leading zeros, and digits
         * after the point. */
        size_t nsig = d.int_len + d.frac_len - lead;
        if (nsig > PY_MAX_DIGITS || d.frac_len > PY_MAX_DIGITS) return 0;
        d.exp = 0;
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            int eneg = 0;
            if (j < n && (s[j] == '-' || s[j] == '+')) eneg = s[j++] == '-';
            size_t dig_beg = j;
            while (j < n && s[j] == '0')
                j++;
            size_t sig_beg = j;
            int64_t a = 0;
            while (j < n && is_digit(s[j])) {
                if (a <= PY_MAX_ABS_EXP) a = a * 10 + (s[j] - '0');
                j++;
            }
            /* An 'e' without digits is not part of the number. */
            if (j > dig_beg) {
                if (j - sig_beg > 9 || a > PY_MAX_ABS_EXP) a = PY_MAX_ABS_EXP;
                d.exp = eneg ? -a : a;
                i = j;
            }
        }
        *end = i;
        if (PYFLOAT_FAST_PATHS && nsig <= 19) {
            /* value = v * 10^e10 exactly; both shortcuts round once. */
            int64_t e10 = d.exp - (int64_t)d.frac_len;
            if (v == 0) {
                *out = make_double(d.neg, 0);
                return 1;
            }
#if FLT_EVAL_METHOD == 0
            if (v <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
                double x = (double)v; /* exact, as is the power of ten */
                x = e10 < 0 ? x / pow10_exact[-e10] : x * pow10_exact[e10];
                *out = d.neg ? -x : x;
                return 1;
            }
#endif
#ifdef HAVE_U128
            if (e10 >= -27 && e10 <= 27) {
                *out = make_double(d.neg, small_to_bits(v, (int)e10, overflow));
                return 1;
            }
#endif
        }
        *out = decimal_to_double(s, &d, overflow);
        return 1;
    }

    /* _Py_parse_inf_or_nan: the sign again, then inf, infinity or nan. */
    i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    if (match_word(s, n, i, "inf")) {
        i += 3;
        if (match_word(s, n, i, "inity")) i += 5;
        *out = make_double(neg, (uint64_t)EXP_ALL_ONES << MANT_BITS);
    } else if (match_word(s, n, i, "nan")) {
        i += 3;
        /* _Py_dg_stdnan: the default quiet NaN, with the sign bit set for
         * "-nan". */
        *out = make_double(neg, ((uint64_t)EXP_ALL_ONES << MANT_BITS) | (HIDDEN_BIT >> 1));
    } else {
        return 0;
    }
    *end = i;
    return 1;
}

pyfloat_status pyfloat_parse(const char *s, size_t len, double *out, size_t *consumed) {
    /* The text ends at a NUL byte, but parse_prefix need not be told:
     * no literal has one, so a parse stops at or before the first. */
    double v;
    size_t end;
    int overflow;
    if (!parse_prefix(s, len, &v, &end, &overflow)) return PYF_INVALID;
    /* Set on overflow too (to the signed infinity), though callers raise. */
    *out = v;
    *consumed = end;
    return overflow ? PYF_OVERFLOW : PYF_OK;
}

/* Py_ISSPACE: the ASCII whitespace characters. */
static int is_py_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* float_from_string_inner: strip whitespace, then the whole rest must parse
 * (overflow is no error for float(): it gives infinity). */
static pyfloat_status float_inner(const char *s, size_t len, double *out) {
    size_t b = 0, e = len;
    while (b < e && is_py_space(s[b]))
        b++;
    if (b == e) return PYF_INVALID;
    while (e - b > 1 && is_py_space(s[e - 1]))
        e--;
    double v;
    size_t end;
    int overflow;
    if (!parse_prefix(s + b, e - b, &v, &end, &overflow) || end != e - b) return PYF_INVALID;
    *out = v;
    return PYF_OK;
}

pyfloat_status pyfloat_from_bytes(const char *s, size_t len, double *out) {
    /* A NUL ends the C string CPython parses, short of the object's end. */
    if (len && memchr(s, '\0', len)) return PYF_INVALID;
    if (!len || !memchr(s, '_', len)) return float_inner(s, len, out);

    /* _Py_string_to_number_with_underscores: each '_' must sit between two
     * digits; the digits are then parsed without them. */
    char small[256];
    char *dup = len <= sizeof small ? small : malloc(len);
    if (!dup) return PYF_INVALID; /* CPython would raise MemoryError */
    size_t m = 0;
    char prev = '\0';
    int ok = 1;
    for (size_t i = 0; i < len && ok; i++) {
        char c = s[i];
        if (c == '_') {
            ok = is_digit(prev);
        } else {
            dup[m++] = c;
            ok = prev != '_' || is_digit(c);
        }
        prev = c;
    }
    pyfloat_status st = ok && prev != '_' ? float_inner(dup, m, out) : PYF_INVALID;
    if (dup != small) free(dup);
    return st;
}
