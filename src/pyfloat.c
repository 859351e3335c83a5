/*
 * pyfloat.c - Python's float repr, exactly (see pyfloat.h); parsing is in
 * pyfloat_parse.c, the arithmetic both use in pyfloat_num.h.
 *
 * repr: the rounding interval of the double is scaled by a power of ten
 * chosen so that its width lies in [1, 10); then at most one multiple of ten
 * fits in it (that one is the shortest answer), else the answer is the one of
 * floor(x) and floor(x) + 1 that fits, the nearer if both do. Only the
 * floors of the scaled bounds (and whether they are exact) are needed: they
 * come from 128-bit integer products for magnitudes near 1, from a 128-bit
 * power of five rounded down with a proven error bound elsewhere, and from
 * exact big integers whenever that bound leaves the floor in doubt. The
 * layout follows CPython's float_repr.
 *
 * Nothing here is taken from another project's code; the algorithms are
 * explained where they are used.
 */
#include "pyfloat.h"

#include <assert.h>
#include <string.h>

#include "pyfloat_num.h"

/* ------------------------------------------------------------------------ */
/* Bits                                                                      */
/* ------------------------------------------------------------------------ */

uint64_t pyfloat_bits(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

double pyfloat_from_bits(uint64_t bits) {
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* ------------------------------------------------------------------------ */
/* repr                                                                      */
/* ------------------------------------------------------------------------ */

/* floor(x / 2^20) for negative x too (>> on negative values is
 * implementation-defined in C). */
static int floor_div_2p20(int64_t x) {
    return (int)(x >= 0 ? x / 1048576 : -((-x + 1048575) / 1048576));
}

/* floor(x * 2^(q-2) * 10^-k) and whether that floor is exact, computed
 * exactly. The callers only ask for results below 2^62 (see
 * shortest_digits). */
static uint64_t scaled_floor_exact(uint64_t x, int q, int k, int *exact) {
    /* 10^-k = 5^-k * 2^-k, so the value is x * 5^-k * 2^t. */
    int t = q - 2 - k;
    int inexact = 0;
    uint64_t r;
    if (PYFLOAT_FAST_PATHS && k <= 0 && k >= -27) {
        /* Magnitudes between about 1e-12 and 1e17: 128 bits are enough. */
        uint64_t hi, lo;
        mul64(x, pow5_u64[-k], &hi, &lo);
        if (t >= 0) {
            assert(hi == 0 && t < 8);
            r = lo << t;
        } else {
            r = shr128(hi, lo, (unsigned)-t, &inexact);
        }
    } else {
        big b;
        big_set_u64(&b, x);
        if (k <= 0) {
            /* Small values: multiply by 5^-k, then drop 2^-t (t >= 0 only
             * for 4 <= 2^q < 16, where k == 0). */
            big_mul_pow5(&b, (unsigned)-k);
            if (t >= 0) big_shl(&b, (unsigned)t);
            r = big_shr_u64(&b, t >= 0 ? 0 : (size_t)-t, &inexact);
        } else {
            /* Large values: t >= 1 here (k > 0 needs q >= 4), so shift
             * first, then divide by 5^k. */
            int none;
            assert(t > 0);
            big_shl(&b, (unsigned)t);
            inexact = big_div_pow5(&b, (unsigned)k);
            r = big_shr_u64(&b, 0, &none);
        }
    }
    *exact = !inexact;
    return r;
}

/* The same, approximately, from a ~ 5^-k rounded down (see fp128_pow5),
 * for |k| > 27, where exact arithmetic needs hundreds of bits. The scaled
 * value v = x * a * 2^(a.e + t) is below 2^59 and a * 2^(a.e + t) is below
 * 4, so its absolute error is below 2^57 * 4 * (2 * 350 + 10) * 2^-127 <
 * 2^-58, and truncating the product to 64 fraction bits adds 2^-64: the
 * true value lies in [P, P + 2^-57) for the computed P. Its floor is P's
 * unless P's fraction is within that of 1, and the value is then not an
 * integer (P < value < floor + 1) unless P's fraction is 0. For |k| > 27 it
 * never is one (that needs 5^k or 2^-t to divide x < 2^56), but both cases
 * go to the exact code anyway. Returns 0 when undecided. */
static int scaled_floor_approx(uint64_t x, const fp128 *a, int t, uint64_t *fl, int *exact) {
    uint64_t w[3], h1, l1, h0, l0;
    mul64(x, a->lo, &h0, &l0);
    mul64(x, a->hi, &h1, &l1);
    w[0] = l0;
    w[1] = h0 + l1;
    w[2] = h1 + (w[1] < l1);
    /* x * a = (w2:w1:w0) * 2^(a.e + t); a.e + t is in [-129, -126]
     * because a * 2^(a.e + t) is in [1/4, 10/3) and a in [2^127, 2^128). */
    unsigned sh = (unsigned)-(a->e + t);
    assert(sh >= 126 && sh <= 129);
    uint64_t ip = bits192(w, sh);
    uint64_t frac = bits192(w, sh - 64);
    assert(sh >= 128 || (w[2] >> (sh - 64)) == 0);
    if (frac == 0 || frac > UINT64_MAX - (uint64_t)PYFLOAT_APPROX_SLACK) return 0;
    *fl = ip;
    *exact = 0;
    return 1;
}

/* The digits of repr(c * 2^q) for c >= 1: returns them as an integer
 * without trailing zeros and sets *exp10 so the value is that times
 * 10^*exp10. asym is set for a power of two above the smallest normal, whose
 * lower neighbour is half as far as its upper one. */
static uint64_t shortest_digits(uint64_t c, int q, int asym, int *exp10) {
    uint64_t r;
    int e;
    if (PYFLOAT_FAST_PATHS && q <= 0 && q > -64 && (c & ((UINT64_C(1) << -q) - 1)) == 0) {
        /* An integer below 2^53: its neighbours are at most 1 away, so no
         * decimal with fewer significant digits is within half of that. */
        r = c >> -q;
        e = 0;
    } else {
        /* In units of 2^(q-2), the rounding interval is [xl, xh] around 4c
         * (open when c is odd: the halfway points then round to even, away
         * from x). Choose k = floor(log10(width)), so that the scaled width
         * w = width / 10^k lies in [1, 10): then at most one multiple of 10
         * lies inside (it is the unique shortest candidate), and else one
         * of floor(m), floor(m) + 1 does (m = the scaled value), since
         * their distances to m add up to 1 < w. The constants are
         * log10(2) and log10(3/4) times 2^20, checked for every q. */
        int64_t qq = q;
        int k = asym ? floor_div_2p20(qq * 315653 - 131008) : floor_div_2p20(qq * 315653);
        uint64_t xs[3] = {4 * c - (asym ? 1 : 2), 4 * c + 2, 8 * c};
        uint64_t f[3];
        int ex[3];
        /* All below 2^58: m < 10 * 2^53, or 13.4 * 2^52 in the asymmetric
         * case. */
        int approx = PYFLOAT_FAST_PATHS && (k > 27 || k < -27);
        fp128 a = {0, 0, 0};
        if (approx) a = fp128_pow5((unsigned)(k < 0 ? -k : k), k > 0);
        for (int i = 0; i < 3; i++)
            if (!approx || !scaled_floor_approx(xs[i], &a, q - 2 - k, &f[i], &ex[i]))
                f[i] = scaled_floor_exact(xs[i], q, k, &ex[i]);
        uint64_t fl = f[0], fh = f[1], f2m = f[2];
        int el = ex[0], eh = ex[1], em = ex[2];
        int incl = (c & 1) == 0;
        /* The largest integer inside at the top, then its multiple of 10. */
        uint64_t top = fh - (uint64_t)(eh && !incl);
        uint64_t y = top - top % 10;
        if (y > fl || (y == fl && el && incl)) {
            r = y / 10;
            e = k + 1;
        } else {
            uint64_t s = f2m >> 1;
            /* s <= m < xh and s + 1 > m > xl always; check the other ends. */
            int s_in = s > fl || (s == fl && el && incl);
            int s1_in = s + 1 < fh || (s + 1 == fh && (!eh || incl));
            assert(s_in || s1_in);
            if (s_in && s1_in) {
                if (!(f2m & 1))
                    r = s; /* m < s + 1/2 */
                else if (!em)
                    r = s + 1; /* m > s + 1/2 */
                else
                    r = s + (s & 1); /* a tie: the even digit */
            } else {
                r = s_in ? s : s + 1;
            }
            e = k;
        }
    }
    while (r % 10 == 0) {
        r /= 10;
        e++;
    }
    *exp10 = e;
    return r;
}

size_t pyfloat_repr(double x, char *buf) {
    uint64_t bits = pyfloat_bits(x);
    int neg = (bits & SIGN_BIT) != 0;
    unsigned bexp = (unsigned)(bits >> MANT_BITS) & EXP_ALL_ONES;
    uint64_t frac = bits & MANT_MASK;
    char *p = buf;
    if (bexp == EXP_ALL_ONES) {
        const char *s = frac ? "nan" : neg ? "-inf" : "inf";
        size_t n = strlen(s);
        memcpy(buf, s, n + 1);
        return n;
    }
    if (neg) *p++ = '-';
    if (bexp == 0 && frac == 0) {
        memcpy(p, "0.0", 4);
        return (size_t)(p - buf) + 3;
    }

    int exp10;
    uint64_t d = bexp == 0 ? shortest_digits(frac, QMIN, 0, &exp10)
                           : shortest_digits(frac | HIDDEN_BIT, (int)bexp - 1075,
                                             frac == 0 && bexp > 1, &exp10);

    /* At most 17 digits (d < 10^17), written from the end. */
    char tmp[20];
    char *dig = tmp + sizeof tmp;
    do {
        *--dig = (char)('0' + d % 10);
        d /= 10;
    } while (d);
    int n = (int)(tmp + sizeof tmp - dig);

    /* CPython: value = 0.DIGITS * 10^decpt; exponent notation unless
     * -4 < decpt <= 16; ".0" after integral values in fixed notation. */
    int decpt = n + exp10;
    if (decpt <= -4 || decpt > 16) {
        *p++ = dig[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, dig + 1, (size_t)(n - 1));
            p += n - 1;
        }
        int ex = decpt - 1;
        unsigned ax = (unsigned)(ex < 0 ? -ex : ex);
        *p++ = 'e';
        *p++ = ex < 0 ? '-' : '+';
        if (ax >= 100) *p++ = (char)('0' + ax / 100);
        *p++ = (char)('0' + ax / 10 % 10);
        *p++ = (char)('0' + ax % 10);
    } else if (decpt <= 0) {
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', (size_t)-decpt);
        p += -decpt;
        memcpy(p, dig, (size_t)n);
        p += n;
    } else if (decpt < n) {
        memcpy(p, dig, (size_t)decpt);
        p += decpt;
        *p++ = '.';
        memcpy(p, dig + decpt, (size_t)(n - decpt));
        p += n - decpt;
    } else {
        memcpy(p, dig, (size_t)n);
        p += n;
        memset(p, '0', (size_t)(decpt - n));
        p += decpt - n;
        *p++ = '.';
        *p++ = '0';
    }
    *p = '\0';
    return (size_t)(p - buf);
}
