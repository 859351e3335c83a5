/*
 * bigint.c - arbitrary precision integers with CPython 3.11's text rules.
 *
 * Magnitudes are base 2**32 limbs, least significant first. Every function
 * works in storage the caller provides (see the bounds in bigint.h), so the
 * module never allocates and keeps no state. Only decimal conversion (and
 * other bases that are not powers of two) is quadratic; text parsing caps
 * it at BI_MAX_STR_DIGITS digits before doing any of that work, exactly
 * where CPython does, and decimal output refuses huge numbers from their
 * bit length alone.
 */
#include "bigint.h"

#include <string.h>

#include "byteorder.h"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* Py_ISSPACE, which for bytes is also C's isspace() in the "C" locale:
 * space, \t \n \v \f \r. Notably not \x1c-\x1f or \x85 (str.isspace() has
 * those, but the byte-level parsers here never see str). */
static int is_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* _PyLong_DigitValue: 0-9, then letters of either case as 10..35; anything
 * else is 37 so that it is never below a base. */
static unsigned digit_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 37;
}

/* Length of the C string in s[0..len): parsing stops at a NUL byte just as
 * CPython's char * parsers do. */
static size_t c_strlen(const char *s, size_t len) {
    const void *nul = len ? memchr(s, '\0', len) : NULL;
    return nul ? (size_t)((const char *)nul - s) : len;
}

static void normalize(bi *x) {
    while (x->n > 0 && x->limbs[x->n - 1] == 0)
        x->n--;
    if (x->n == 0) x->neg = 0;
}

static void set_zero(uint32_t *limbs, bi *out) {
    out->limbs = limbs;
    out->n = 0;
    out->neg = 0;
}

/* x = x * m + a on a magnitude of *n limbs. The caller guarantees room for
 * the result (a carry limb is written only when it is non-zero). */
static void mag_mul_add(uint32_t *limbs, size_t *n, uint32_t m, uint32_t a) {
    uint64_t carry = a;
    for (size_t i = 0; i < *n; i++) {
        uint64_t t = (uint64_t)limbs[i] * m + carry;
        limbs[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) limbs[(*n)++] = (uint32_t)carry;
}

/* x = x / d in place, returning the remainder; *n shrinks as the top limb
 * empties. */
static uint32_t mag_div_small(uint32_t *limbs, size_t *n, uint32_t d) {
    uint64_t rem = 0;
    for (size_t i = *n; i-- > 0;) {
        uint64_t cur = (rem << 32) | limbs[i];
        limbs[i] = (uint32_t)(cur / d);
        rem = cur % d;
    }
    while (*n > 0 && limbs[*n - 1] == 0)
        (*n)--;
    return (uint32_t)rem;
}

static int mag_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn) {
    if (an != bn) return an < bn ? -1 : 1;
    for (size_t i = an; i-- > 0;) {
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Digit runs to magnitudes                                                  */
/* ------------------------------------------------------------------------ */

/* Digits s[0..len) of a power-of-two base (underscores skipped), packed from
 * the least significant end: linear time, so huge hex literals are cheap. */
static void digits_pow2(const char *s, size_t len, unsigned base, uint32_t *limbs, size_t *n) {
    unsigned bits = 0;
    while ((1u << bits) < base)
        bits++;
    uint64_t acc = 0;
    unsigned accbits = 0;
    size_t k = 0;
    for (size_t i = len; i-- > 0;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '_') continue;
        acc |= (uint64_t)digit_value(c) << accbits;
        accbits += bits;
        if (accbits >= 32) {
            limbs[k++] = (uint32_t)acc;
            acc >>= 32;
            accbits -= 32;
        }
    }
    if (accbits > 0) limbs[k++] = (uint32_t)acc;
    *n = k;
}

/* Digits s[0..len) of any other base (underscores skipped): multiply-add
 * by the largest power of the base that fits a limb, so quadratic. Callers
 * bound len first. */
static void digits_general(const char *s, size_t len, unsigned base, uint32_t *limbs, size_t *n) {
    uint32_t chunk_pow = base;
    unsigned chunk_len = 1;
    while ((uint64_t)chunk_pow * base <= UINT32_MAX) {
        chunk_pow *= base;
        chunk_len++;
    }
    size_t k = 0;
    uint32_t acc = 0, pow = 1;
    unsigned cnt = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '_') continue;
        acc = acc * base + digit_value(c);
        pow *= base;
        if (++cnt == chunk_len) {
            mag_mul_add(limbs, &k, chunk_pow, acc);
            acc = 0;
            pow = 1;
            cnt = 0;
        }
    }
    if (cnt > 0) mag_mul_add(limbs, &k, pow, acc);
    *n = k;
}

static void digits_to_bi(const char *s, size_t len, unsigned base, int neg, uint32_t *limbs,
                         bi *out) {
    out->limbs = limbs;
    if ((base & (base - 1)) == 0)
        digits_pow2(s, len, base, limbs, &out->n);
    else
        digits_general(s, len, base, limbs, &out->n);
    out->neg = neg;
    normalize(out);
}

/* ------------------------------------------------------------------------ */
/* Text parsing                                                              */
/* ------------------------------------------------------------------------ */

size_t bi_text_limbs(size_t len) {
    /* No base up to 36 needs more than 6 bits a character (log2(36) < 5.2),
     * and every partial result while parsing is below the final bound.
     * 6/32 = 3/16, written to avoid overflow. */
    return len / 16 * 3 + 3;
}

bi_status bi_parse_py(const char *s, size_t len, int base, uint32_t *limbs, bi *out,
                      size_t *consumed) {
    const size_t end = c_strlen(s, len);
    size_t p = 0;
    int neg = 0, error_if_nonzero = 0;

    if (base != 0 && (base < 2 || base > 36)) return BI_INVALID;
    while (p < end && is_space((unsigned char)s[p]))
        p++;
    if (p < end && (s[p] == '+' || s[p] == '-')) {
        neg = s[p] == '-';
        p++;
    }
    /* At `end` there is a NUL (real, or virtual when no NUL came before
     * len), so every look-ahead goes through AT(), which reads it as 0. */
#define AT(i) ((i) < end ? (unsigned char)s[i] : 0u)
    if (base == 0) {
        unsigned char c1 = (unsigned char)(AT(p + 1) | 0x20);
        if (AT(p) != '0')
            base = 10;
        else if (c1 == 'x')
            base = 16;
        else if (c1 == 'o')
            base = 8;
        else if (c1 == 'b')
            base = 2;
        else {
            /* An old C-style octal literal: Python 3 rejects it unless the
             * value turns out to be zero ("00", "0_0"). */
            error_if_nonzero = 1;
            base = 10;
        }
    }
    if (AT(p) == '0') {
        unsigned char c1 = (unsigned char)(AT(p + 1) | 0x20);
        if ((base == 16 && c1 == 'x') || (base == 8 && c1 == 'o') || (base == 2 && c1 == 'b')) {
            p += 2;
            if (AT(p) == '_') p++; /* "0x_1f": one underscore may follow */
        }
    }
    if (AT(p) == '_') return BI_INVALID;

    /* The digit run, with single underscores between digits. CPython
     * rejects a doubled or trailing underscore while scanning, i.e. before
     * it looks at the digit limit, and counts digits (leading zeros
     * included, underscores not) only within this run. */
    const size_t start = p;
    size_t digits = 0;
    unsigned char prev = 0;
    while (p < end) {
        unsigned char c = (unsigned char)s[p];
        if (c == '_') {
            if (prev == '_') return BI_INVALID;
        } else if (digit_value(c) < (unsigned)base) {
            digits++;
        } else {
            break;
        }
        prev = c;
        p++;
    }
    if (prev == '_') return BI_INVALID;
    if ((base & (base - 1)) != 0 && digits > BI_MAX_STR_DIGITS) return BI_TOO_MANY_DIGITS;

    /* Cheap syntax checks first: if they fail, the conversion would be
     * wasted work. CPython converts before checking, but the outcome is the
     * same because conversion cannot fail. */
    const size_t run_end = p;
    if (run_end == start) return BI_INVALID;
    while (p < end && is_space((unsigned char)s[p]))
        p++;
    if (p != end) return BI_INVALID;
#undef AT

    digits_to_bi(s + start, run_end - start, (unsigned)base, neg, limbs, out);
    if (error_if_nonzero && out->n != 0) return BI_INVALID;
    if (consumed) *consumed = end;
    return BI_OK;
}

int bi_invalid_literal_is_unicode_error(const char *s, size_t len) {
    size_t n = c_strlen(s, len);
    if (n > 200) n = 200;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    /* Strict UTF-8 as CPython decodes it: no overlong forms, no surrogates,
     * nothing above U+10FFFF, no truncated sequence. */
    while (i < n) {
        unsigned char c = u[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            return 1;
        }
        if (n - i - 1 < need) return 1;
        if (u[i + 1] < lo || u[i + 1] > hi) return 1;
        for (size_t k = 2; k <= need; k++) {
            if (u[i + k] < 0x80 || u[i + k] > 0xbf) return 1;
        }
        i += need + 1;
    }
    return 0;
}

int bi_strtol0(const char *s, size_t len, int64_t *out, size_t *consumed) {
    const size_t end = c_strlen(s, len);
    size_t p = 0;
    int neg = 0;
    unsigned base = 10;

    while (p < end && is_space((unsigned char)s[p]))
        p++;
    if (p < end && (s[p] == '+' || s[p] == '-')) {
        neg = s[p] == '-';
        p++;
    }
    if (p < end && s[p] == '0') {
        if (p + 1 < end && (s[p + 1] == 'x' || s[p + 1] == 'X')) {
            base = 16;
            p += 2;
        } else {
            base = 8; /* the '0' itself is then an octal digit */
        }
    }
    const size_t save = p;
    /* Magnitude limit: LONG_MAX, or -LONG_MIN for a negative number. */
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    /* acc * base + d <= limit exactly when acc < cutoff, or acc == cutoff
     * and d <= cutlim: one division per number rather than per digit. */
    const uint64_t cutoff = limit / base, cutlim = limit % base;
    uint64_t acc = 0;
    int overflow = 0;
    while (p < end) {
        unsigned d = digit_value((unsigned char)s[p]);
        if (d >= base) break;
        /* glibc keeps consuming digits after an overflow. */
        if (!overflow) {
            if (acc > cutoff || (acc == cutoff && d > cutlim))
                overflow = 1;
            else
                acc = acc * base + d;
        }
        p++;
    }
    if (p == save) {
        /* No digits. glibc's special case: after "0x" with no hex digit the
         * number is the "0" and the end points at the 'x'. */
        *out = 0;
        *consumed = base == 16 ? save - 1 : 0;
        return 0;
    }
    *consumed = p;
    if (overflow) {
        *out = neg ? INT64_MIN : INT64_MAX;
        return 1;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return 0;
}

void bi_from_digits(const char *digits, size_t n, int base, int neg, uint32_t *limbs, bi *out) {
    digits_to_bi(digits, n, (unsigned)base, neg, limbs, out);
}

/* ------------------------------------------------------------------------ */
/* Two's complement bytes                                                    */
/* ------------------------------------------------------------------------ */

size_t bi_bytes_limbs(size_t n) {
    /* The largest magnitude, 2**(8n-1), still fits in n bytes. */
    return n / 4 + (n % 4 != 0);
}

void bi_from_le_bytes(const uint8_t *p, size_t n, uint32_t *limbs, bi *out) {
    out->limbs = limbs;
    out->neg = n > 0 && (p[n - 1] & 0x80) != 0;
    /* For a negative number the magnitude is the bytes' negation, made on
     * the fly: invert and add one. Eight bytes (two limbs) a step: LONG4
     * holds numbers of any size, and a byte at a time ran at 2 GB/s. */
    const uint64_t flip = out->neg ? ~(uint64_t)0 : 0;
    uint64_t carry = (uint64_t)out->neg;
    size_t k = 0, i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t t = load_le64(p + i) ^ flip, s = t + carry;
        carry = s < t;
        limbs[k++] = (uint32_t)s;
        limbs[k++] = (uint32_t)(s >> 32);
    }
    if (i < n) {
        /* Past the end the value is sign-extended, so its inverse is 0.
         * The top byte's inverse has its high bit clear: no carry out. */
        size_t m = n - i;
        uint64_t s = (load_le(p + i, m) ^ (flip >> (8 * (8 - m)))) + carry;
        limbs[k++] = (uint32_t)s;
        if (m > 4) limbs[k++] = (uint32_t)(s >> 32);
    }
    out->n = k;
    normalize(out);
}

/* Four constant stores, which compilers merge into one. */
static inline void store_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

size_t bi_to_le_bytes(const bi *x, uint8_t *buf, size_t cap) {
    if (x->n == 0) return 0;
    size_t bits = bi_bit_length(x);
    if (x->neg) {
        /* -m fits in k bytes iff m - 1 < 2**(8k-1), and bit_length(m - 1)
         * is bit_length(m) less one exactly when m is a power of two. */
        int pow2 = (x->limbs[x->n - 1] & (x->limbs[x->n - 1] - 1)) == 0;
        for (size_t i = 0; pow2 && i + 1 < x->n; i++)
            pow2 = x->limbs[i] == 0;
        if (pow2) bits--;
    }
    size_t needed = bits / 8 + 1;
    size_t w = needed < cap ? needed : cap;
    /* A limb at a time, whole limbs first: the two's complement of a
     * negative number is the magnitude inverted plus one, the carry
     * running through the limbs. Limbs past the magnitude are 0. */
    const size_t full = w / 4, have = full < x->n ? full : x->n;
    uint32_t limb;
    size_t i = 0;
    if (!x->neg) {
        for (; i < have; i++)
            store_le32(buf + 4 * i, x->limbs[i]);
        for (; i < full; i++)
            store_le32(buf + 4 * i, 0);
        limb = i < x->n ? x->limbs[i] : 0u;
    } else {
        uint64_t carry = 1;
        for (; i < full; i++) {
            uint64_t t = (uint64_t)(uint32_t) ~(i < x->n ? x->limbs[i] : 0u) + carry;
            carry = t >> 32;
            store_le32(buf + 4 * i, (uint32_t)t);
        }
        limb = (uint32_t)((uint64_t)(uint32_t) ~(i < x->n ? x->limbs[i] : 0u) + carry);
    }
    for (size_t j = 0; j < w % 4; j++)
        buf[4 * full + j] = (uint8_t)(limb >> (8 * j));
    return needed;
}

/* ------------------------------------------------------------------------ */
/* int64, comparison, bit length                                             */
/* ------------------------------------------------------------------------ */

void bi_from_i64(int64_t v, uint32_t *limbs, bi *out) {
    uint64_t m = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
    limbs[0] = (uint32_t)m;
    limbs[1] = (uint32_t)(m >> 32);
    out->limbs = limbs;
    out->n = 2;
    out->neg = v < 0;
    normalize(out);
}

int bi_to_i64(const bi *x, int64_t *out) {
    if (x->n > 2) return 0;
    uint64_t m = x->n > 0 ? x->limbs[0] : 0;
    if (x->n > 1) m |= (uint64_t)x->limbs[1] << 32;
    if (x->neg) {
        if (m > (uint64_t)INT64_MAX + 1u) return 0;
        *out = m == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)m;
    }
    return 1;
}

int bi_cmp(const bi *a, const bi *b) {
    if (a->neg != b->neg) return a->neg ? -1 : 1;
    int c = mag_cmp(a->limbs, a->n, b->limbs, b->n);
    return a->neg ? -c : c;
}

size_t bi_bit_length(const bi *x) {
    if (x->n == 0) return 0;
    return (x->n - 1) * 32 + bit_length64(x->limbs[x->n - 1]);
}

/* ------------------------------------------------------------------------ */
/* Doubles                                                                   */
/* ------------------------------------------------------------------------ */

void bi_from_integral_double(double d, uint32_t *limbs, bi *out) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    unsigned exp = (unsigned)(bits >> 52) & 0x7ffu;
    uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
    set_zero(limbs, out);
    /* Zeros and subnormals are below 1; inf and NaN have no integer value
     * (the contract excludes them; they give 0). */
    if (exp == 0 || exp == 0x7ff) return;
    mant |= UINT64_C(1) << 52;
    int e = (int)exp - 1075; /* d = mant * 2**e */
    if (e < 0) {
        /* Integral by contract; a fraction would be truncated. */
        mant = e <= -53 ? 0 : mant >> -e;
        e = 0;
    }
    size_t shift_limbs = (size_t)e / 32;
    unsigned shift = (unsigned)e % 32;
    for (size_t i = 0; i < shift_limbs; i++)
        limbs[i] = 0;
    /* mant < 2**53, so mant << shift spans at most three limbs. */
    limbs[shift_limbs] = (uint32_t)(mant << shift);
    limbs[shift_limbs + 1] = (uint32_t)(mant >> (32 - shift));
    limbs[shift_limbs + 2] = shift ? (uint32_t)(mant >> (64 - shift)) : 0u;
    out->n = shift_limbs + 3;
    out->neg = (bits >> 63) != 0;
    normalize(out);
}

int bi_eq_double(const bi *x, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    unsigned exp = (unsigned)(bits >> 52) & 0x7ffu;
    if (exp == 0x7ff) return 0; /* inf, NaN */
    /* A fractional part makes it unequal to every integer. */
    uint64_t mant = bits & ((UINT64_C(1) << 52) - 1);
    if (exp == 0) {
        if (mant != 0) return 0; /* subnormal: 0 < |d| < 1 */
    } else if (exp < 1075) {
        unsigned frac_bits = 1075 - exp;
        if (frac_bits > 52) return 0; /* 0 < |d| < 1 */
        if (mant & ((UINT64_C(1) << frac_bits) - 1)) return 0;
    }
    uint32_t tmp[35];
    bi y;
    bi_from_integral_double(d, tmp, &y);
    return bi_cmp(x, &y) == 0;
}

/* ------------------------------------------------------------------------ */
/* Text output                                                               */
/* ------------------------------------------------------------------------ */

/* b * num / den rounded down, for b up to SIZE_MAX without overflow
 * (den <= 10**9). */
static uint64_t scale_down(uint64_t b, uint64_t num, uint64_t den) {
    return b / den * num + b % den * num / den;
}

/* Fewest decimal digits a magnitude of `bits` bits can have:
 * floor((bits-1) * log10(2)) + 1, with log10(2) rounded down. */
static uint64_t min_decimal_digits(size_t bits) {
    if (bits == 0) return 1;
    return scale_down(bits - 1, 301029995, 1000000000) + 1;
}

size_t bi_decimal_size(const bi *x) {
    /* Sign, then floor(bits * log10(2)) + 1 digits with log10(2) rounded up,
     * plus one for luck. */
    return (size_t)scale_down(bi_bit_length(x), 301029996, 1000000000) + 3;
}

size_t bi_to_decimal(const bi *x, size_t max_digits, char *out, uint32_t *scratch) {
    if (x->n == 0) {
        out[0] = '0';
        return 1;
    }
    /* repr(int) refuses more than max_digits digits. Decide from the bit
     * length when that is enough, so huge numbers cost nothing; otherwise
     * the number is at most about 3.33 * max_digits bits and converting it
     * first is bounded. (CPython's own pre-check is coarser but, like this
     * one, only ever fires for numbers that do have too many digits.) */
    if (max_digits != 0 && min_decimal_digits(bi_bit_length(x)) > max_digits) return 0;

    const size_t cap = bi_decimal_size(x);
    size_t pos = cap, m = x->n;
    memcpy(scratch, x->limbs, x->n * sizeof *scratch);
    while (m > 0) {
        uint32_t r = mag_div_small(scratch, &m, 1000000000u);
        if (m > 0) {
            for (int i = 0; i < 9; i++) {
                out[--pos] = (char)('0' + r % 10);
                r /= 10;
            }
        } else {
            do {
                out[--pos] = (char)('0' + r % 10);
                r /= 10;
            } while (r);
        }
    }
    size_t ndigits = cap - pos;
    if (max_digits != 0 && ndigits > max_digits) return 0;
    size_t sign = x->neg ? 1 : 0;
    memmove(out + sign, out + pos, ndigits);
    if (sign) out[0] = '-';
    return ndigits + sign;
}

size_t bi_to_hex(const bi *x, char *out) {
    static const char hexdigits[] = "0123456789abcdef";
    if (x->n == 0) {
        out[0] = '0';
        return 1;
    }
    size_t len = 0;
    uint32_t top = x->limbs[x->n - 1];
    int shift = 28;
    while ((top >> shift) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        out[len++] = hexdigits[(top >> shift) & 0xf];
    for (size_t i = x->n - 1; i-- > 0;) {
        for (shift = 28; shift >= 0; shift -= 4)
            out[len++] = hexdigits[(x->limbs[i] >> shift) & 0xf];
    }
    return len;
}
