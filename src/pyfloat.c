/*
 * pyfloat.c - Python's float <-> text conversions, exactly (see pyfloat.h).
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
 * parse: the syntax of CPython's _Py_dg_strtod (and _Py_parse_inf_or_nan)
 * is checked here, and the value is rounded from exact big integers (the
 * digits times a power of five, or divided by one), after the same kind of
 * bounded 128-bit shortcut and Clinger's exact-double shortcut, so neither
 * the C library's strtod nor the locale is involved. Only an 800-digit
 * prefix of a longer significand is needed, which keeps huge inputs linear.
 *
 * Nothing here is taken from another project's code; the algorithms are
 * explained where they are used.
 */
#include "pyfloat.h"

#include <assert.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

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

#define MANT_BITS    52
#define MANT_MASK    ((UINT64_C(1) << MANT_BITS) - 1)
#define HIDDEN_BIT   (UINT64_C(1) << MANT_BITS)
#define SIGN_BIT     (UINT64_C(1) << 63)
#define EXP_ALL_ONES 0x7ff
#define QMIN         (-1074) /* exponent of the least significant bit of subnormals */
#define QMAX         971     /* exponent of the least significant bit of the largest binade */

/* ------------------------------------------------------------------------ */
/* Small unsigned big integers                                               */
/* ------------------------------------------------------------------------ */

/* Capacity in 32-bit limbs. The largest number built is in parsing: 801
 * digits shifted to leave 66 quotient bits after dividing by 5^1125, under
 * 2700 bits; repr needs under 820 bits. */
#define BIG_LIMBS 96

typedef struct big {
    size_t len; /* limbs in use; d[len - 1] != 0 unless len == 0 */
    uint32_t d[BIG_LIMBS];
} big;

static const uint32_t pow5_u32[14] = {1,       5,        25,        125,       625,
                                      3125,    15625,    78125,     390625,    1953125,
                                      9765625, 48828125, 244140625, 1220703125};
#define POW5_13 UINT32_C(1220703125)

static const uint32_t pow10_u32[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};

static void big_trim(big *b) {
    while (b->len > 0 && b->d[b->len - 1] == 0)
        b->len--;
}

static void big_set_u64(big *b, uint64_t x) {
    b->len = 0;
    while (x) {
        b->d[b->len++] = (uint32_t)x;
        x >>= 32;
    }
}

static uint32_t big_limb(const big *b, size_t i) {
    return i < b->len ? b->d[i] : 0;
}

/* b = b * m + a */
static void big_mul_add_small(big *b, uint32_t m, uint32_t a) {
    uint64_t carry = a;
    for (size_t i = 0; i < b->len; i++) {
        uint64_t t = (uint64_t)b->d[i] * m + carry;
        b->d[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) {
        assert(b->len < BIG_LIMBS);
        b->d[b->len++] = (uint32_t)carry;
    }
}

static void big_mul_pow5(big *b, unsigned e) {
    for (; e >= 13; e -= 13)
        big_mul_add_small(b, POW5_13, 0);
    if (e) big_mul_add_small(b, pow5_u32[e], 0);
}

static void big_shl(big *b, unsigned s) {
    if (b->len == 0 || s == 0) return;
    size_t limbs = s / 32;
    unsigned bits = s % 32;
    assert(b->len + limbs + 1 <= BIG_LIMBS);
    if (bits == 0) {
        memmove(b->d + limbs, b->d, b->len * sizeof b->d[0]);
    } else {
        b->d[b->len + limbs] = b->d[b->len - 1] >> (32 - bits);
        for (size_t i = b->len - 1; i > 0; i--)
            b->d[i + limbs] = (b->d[i] << bits) | (b->d[i - 1] >> (32 - bits));
        b->d[limbs] = b->d[0] << bits;
    }
    memset(b->d, 0, limbs * sizeof b->d[0]);
    b->len += limbs + (bits != 0);
    big_trim(b);
}

/* Divides in place by 5^13; returns nonzero when the remainder was not 0.
 * Kept apart from big_div_small so the compiler turns the division by a
 * constant into a multiplication. */
static int big_div_pow5_13(big *b) {
    uint64_t rem = 0;
    for (size_t i = b->len; i-- > 0;) {
        uint64_t cur = (rem << 32) | b->d[i];
        b->d[i] = (uint32_t)(cur / POW5_13);
        rem = cur % POW5_13;
    }
    big_trim(b);
    return rem != 0;
}

static int big_div_small(big *b, uint32_t m) {
    uint64_t rem = 0;
    for (size_t i = b->len; i-- > 0;) {
        uint64_t cur = (rem << 32) | b->d[i];
        b->d[i] = (uint32_t)(cur / m);
        rem = cur % m;
    }
    big_trim(b);
    return rem != 0;
}

/* b = floor(b / 5^e); returns nonzero when something was dropped (since
 * floor(floor(n / a) / b) == floor(n / (a * b)), chunks compose exactly). */
static int big_div_pow5(big *b, unsigned e) {
    int inexact = 0;
    for (; e >= 13; e -= 13)
        inexact |= big_div_pow5_13(b);
    if (e) inexact |= big_div_small(b, pow5_u32[e]);
    return inexact;
}

static unsigned bitlen64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
#else
    unsigned n = 0;
    while (x) {
        n++;
        x >>= 1;
    }
    return n;
#endif
}

static size_t big_bitlen(const big *b) {
    return b->len ? (b->len - 1) * 32 + bitlen64(b->d[b->len - 1]) : 0;
}

/* floor(b / 2^s), which the caller knows to be below 2^64; *inexact tells
 * whether any of the dropped bits was set. */
static uint64_t big_shr_u64(const big *b, size_t s, int *inexact) {
    size_t i = s / 32;
    unsigned off = (unsigned)(s % 32);
    uint64_t lo = big_limb(b, i) | ((uint64_t)big_limb(b, i + 1) << 32);
    uint64_t hi = big_limb(b, i + 2);
    assert(big_limb(b, i + 3) == 0 && (off == 0 ? hi == 0 : (hi >> off) == 0));
    uint64_t r = off ? (lo >> off) | (hi << (64 - off)) : lo;
    int nz = off && (big_limb(b, i) & ((UINT32_C(1) << off) - 1)) != 0;
    for (size_t j = 0; j < i && j < b->len && !nz; j++)
        nz = b->d[j] != 0;
    *inexact = nz;
    return r;
}

/* The 64 leading bits of b (b != 0): b = (r + f) * 2^*e2 with 0 <= f < 1,
 * r >= 2^63, and *inexact set when f > 0. */
static uint64_t big_top64(const big *b, int *e2, int *inexact) {
    size_t n = big_bitlen(b);
    if (n <= 64) {
        *inexact = 0;
        *e2 = (int)n - 64;
        return big_shr_u64(b, 0, inexact) << (64 - n);
    }
    *e2 = (int)(n - 64);
    return big_shr_u64(b, n - 64, inexact);
}

/* ------------------------------------------------------------------------ */
/* 128-bit helpers                                                           */
/* ------------------------------------------------------------------------ */

static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 wide;
    wide p = (wide)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *lo = (mid << 32) | (uint32_t)p00;
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/* floor((hi:lo) / 2^n) for 0 < n < 128 when it fits in 64 bits. */
static uint64_t shr128(uint64_t hi, uint64_t lo, unsigned n, int *inexact) {
    if (n < 64) {
        *inexact = (lo << (64 - n)) != 0;
        return (lo >> n) | (hi << (64 - n));
    }
    if (n == 64) {
        *inexact = lo != 0;
        return hi;
    }
    *inexact = lo != 0 || (hi << (128 - n)) != 0;
    return hi >> (n - 64);
}

/* A positive number m * 2^e with a 128-bit m, normalised (bit 127 set). */
typedef struct fp128 {
    uint64_t hi, lo;
    int e;
} fp128;

/* a * b, truncated to 128 bits: a relative error in (-2^-127, 0]. */
static fp128 fp128_mul(fp128 a, fp128 b) {
    uint64_t hh1, hh0, hl1, hl0, lh1, lh0, ll1, ll0;
    mul64(a.hi, b.hi, &hh1, &hh0);
    mul64(a.hi, b.lo, &hl1, &hl0);
    mul64(a.lo, b.hi, &lh1, &lh0);
    mul64(a.lo, b.lo, &ll1, &ll0);
    /* Words 1..3 of the 256-bit product (word 0, ll0, only adds carries
     * to nothing: it is dropped). */
    uint64_t w1 = ll1 + hl0;
    uint64_t c1 = w1 < hl0;
    w1 += lh0;
    c1 += w1 < lh0;
    uint64_t w2 = hh0 + hl1;
    uint64_t c2 = w2 < hl1;
    w2 += lh1;
    c2 += w2 < lh1;
    w2 += c1;
    c2 += w2 < c1;
    uint64_t w3 = hh1 + c2;
    fp128 r;
    if (w3 >> 63) {
        r.hi = w3;
        r.lo = w2;
        r.e = a.e + b.e + 128;
    } else {
        r.hi = (w3 << 1) | (w2 >> 63);
        r.lo = (w2 << 1) | (w1 >> 63);
        r.e = a.e + b.e + 127;
    }
    return r;
}

/* 5^n, or 5^-n when recip, for n >= 1, rounded down: with u = 2^-127 the
 * base has a relative error in (-u, 0] (0.2 is rounded, 5 is exact) and
 * binary exponentiation raises the base's error to the n-th power and each
 * truncated product's error to at most n/2^i for the i-th squaring, so the
 * result's relative error is in (-(2n + 10) u, 0]. */
static fp128 fp128_pow5(unsigned n, int recip) {
    fp128 base = {UINT64_C(0xa000000000000000), 0, -125};
    if (recip) {
        base.hi = base.lo = UINT64_C(0xcccccccccccccccc); /* floor(2^130 / 5) */
        base.e = -130;
    }
    fp128 r = base;
    int have = 0;
    for (;;) {
        if (n & 1) {
            r = have ? fp128_mul(r, base) : base;
            have = 1;
        }
        n >>= 1;
        if (!n) break;
        base = fp128_mul(base, base);
    }
    return r;
}

/* ------------------------------------------------------------------------ */
/* repr                                                                      */
/* ------------------------------------------------------------------------ */

/* 5^0 .. 5^27, the powers of five below 2^63. */
static const uint64_t pow5_u64[28] = {UINT64_C(1),
                                      UINT64_C(5),
                                      UINT64_C(25),
                                      UINT64_C(125),
                                      UINT64_C(625),
                                      UINT64_C(3125),
                                      UINT64_C(15625),
                                      UINT64_C(78125),
                                      UINT64_C(390625),
                                      UINT64_C(1953125),
                                      UINT64_C(9765625),
                                      UINT64_C(48828125),
                                      UINT64_C(244140625),
                                      UINT64_C(1220703125),
                                      UINT64_C(6103515625),
                                      UINT64_C(30517578125),
                                      UINT64_C(152587890625),
                                      UINT64_C(762939453125),
                                      UINT64_C(3814697265625),
                                      UINT64_C(19073486328125),
                                      UINT64_C(95367431640625),
                                      UINT64_C(476837158203125),
                                      UINT64_C(2384185791015625),
                                      UINT64_C(11920928955078125),
                                      UINT64_C(59604644775390625),
                                      UINT64_C(298023223876953125),
                                      UINT64_C(1490116119384765625),
                                      UINT64_C(7450580596923828125)};

/* Tests compile this file with these changed to reach the slow paths: */
#ifndef PYFLOAT_FAST_PATHS
#define PYFLOAT_FAST_PATHS 1 /* 0: everything through the big-integer code */
#endif
#ifndef PYFLOAT_APPROX_SLACK
#define PYFLOAT_APPROX_SLACK 128 /* the approximation's error bound, see below */
#endif

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

/* Bits pos .. pos + 63 of the 192-bit w[2]:w[1]:w[0], for pos <= 128. */
static uint64_t bits192(const uint64_t w[3], unsigned pos) {
    unsigned i = pos / 64, off = pos % 64;
    uint64_t hi = i < 2 ? w[i + 1] : 0;
    return off ? (w[i] >> off) | (hi << (64 - off)) : w[i];
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

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

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
            unsigned sh = 64 - bitlen64(hi);
            r = sh ? (hi << sh) | (lo >> (64 - sh)) : hi;
            sticky = (lo << sh) != 0;
            e2 = e10 + 64 - (int)sh;
        } else {
            unsigned sh = 64 - bitlen64(lo);
            r = lo << sh;
            sticky = 0;
            e2 = e10 - (int)sh;
        }
    } else {
        /* v * 10^e10 = (v * 2^s / 5^f) * 2^(e10 - s), f = -e10: with
         * 2^(P-1) <= 5^f < 2^P and 2^(L-1) <= v < 2^L, s = 63 + P - L puts
         * the quotient in (2^62, 2^64). */
        uint64_t den = pow5_u64[-e10];
        unsigned s = 63 + bitlen64(den) - bitlen64(v);
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
    int top = w[2] ? 128 + (int)bitlen64(w[2]) - 1 : 64 + (int)bitlen64(w[1]) - 1;
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
 * literals repr writes have up to 17. */
static size_t scan_digits(const char *s, size_t n, size_t i, uint64_t *v) {
    uint64_t acc = *v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (n - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* All eight in '0'..'9': high nibble 3, and still 3 after adding 6
         * (no byte carries into the next once the first test holds). */
        if ((w & 0xF0F0F0F0F0F0F0F0u) != 0x3030303030303030u ||
            ((w + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) != 0x3030303030303030u)
            break;
        /* Pairs, then quads, then the eight (s[i] is the low byte); no
         * lane overflows into the next. */
        w -= 0x3030303030303030u;
        w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFu;
        w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFu;
        w = (w * 10000 + (w >> 32)) & 0xFFFFFFFFu;
        acc = acc * 100000000 + w;
        i += 8;
    }
#endif
    for (; i < n && is_digit(s[i]); i++)
        acc = acc * 10 + (uint64_t)(s[i] - '0');
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
