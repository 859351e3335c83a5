/*
 * pyfloat_num.h - the exact arithmetic under pyfloat.c (repr) and
 * pyfloat_parse.c (parsing): double layout constants, small unsigned big
 * integers, 128-bit products and powers of five, and the test knobs.
 * Internal to those two files (the tests include both .c files with the
 * knobs changed, see tests/unit/test_pyfloat_variant.h).
 */
#ifndef BRINE_PYFLOAT_NUM_H
#define BRINE_PYFLOAT_NUM_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "byteorder.h"

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

static inline void big_trim(big *b) {
    while (b->len > 0 && b->d[b->len - 1] == 0)
        b->len--;
}

static inline void big_set_u64(big *b, uint64_t x) {
    b->len = 0;
    while (x) {
        b->d[b->len++] = (uint32_t)x;
        x >>= 32;
    }
}

static inline uint32_t big_limb(const big *b, size_t i) {
    return i < b->len ? b->d[i] : 0;
}

/* b = b * m + a */
static inline void big_mul_add_small(big *b, uint32_t m, uint32_t a) {
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

static inline void big_mul_pow5(big *b, unsigned e) {
    for (; e >= 13; e -= 13)
        big_mul_add_small(b, POW5_13, 0);
    if (e) big_mul_add_small(b, pow5_u32[e], 0);
}

static inline void big_shl(big *b, unsigned s) {
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
static inline int big_div_pow5_13(big *b) {
    uint64_t rem = 0;
    for (size_t i = b->len; i-- > 0;) {
        uint64_t cur = (rem << 32) | b->d[i];
        b->d[i] = (uint32_t)(cur / POW5_13);
        rem = cur % POW5_13;
    }
    big_trim(b);
    return rem != 0;
}

static inline int big_div_small(big *b, uint32_t m) {
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
static inline int big_div_pow5(big *b, unsigned e) {
    int inexact = 0;
    for (; e >= 13; e -= 13)
        inexact |= big_div_pow5_13(b);
    if (e) inexact |= big_div_small(b, pow5_u32[e]);
    return inexact;
}

static inline size_t big_bitlen(const big *b) {
    return b->len ? (b->len - 1) * 32 + bit_length64(b->d[b->len - 1]) : 0;
}

/* floor(b / 2^s), which the caller knows to be below 2^64; *inexact tells
 * whether any of the dropped bits was set. */
static inline uint64_t big_shr_u64(const big *b, size_t s, int *inexact) {
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
static inline uint64_t big_top64(const big *b, int *e2, int *inexact) {
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

static inline void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
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
static inline uint64_t shr128(uint64_t hi, uint64_t lo, unsigned n, int *inexact) {
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
static inline fp128 fp128_mul(fp128 a, fp128 b) {
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
static inline fp128 fp128_pow5(unsigned n, int recip) {
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

/* Tests compile pyfloat.c and pyfloat_parse.c with these changed to reach
 * the slow paths: */
#ifndef PYFLOAT_FAST_PATHS
#define PYFLOAT_FAST_PATHS 1 /* 0: everything through the big-integer code */
#endif
#ifndef PYFLOAT_APPROX_SLACK
#define PYFLOAT_APPROX_SLACK 128 /* the approximations' error bound (see their use) */
#endif

/* Bits pos .. pos + 63 of the 192-bit w[2]:w[1]:w[0], for pos <= 128. */
static inline uint64_t bits192(const uint64_t w[3], unsigned pos) {
    unsigned i = pos / 64, off = pos % 64;
    uint64_t hi = i < 2 ? w[i + 1] : 0;
    return off ? (w[i] >> off) | (hi << (64 - off)) : w[i];
}

#endif
