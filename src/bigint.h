/*
 * bigint.h - arbitrary precision integers with CPython 3.11's text rules.
 *
 * A `bi` is a sign and a magnitude in base 2**32, least significant limb
 * first, with no high zero limbs (zero has n == 0 and neg == 0). The limb
 * storage is always the caller's: functions that produce a bi write into a
 * `limbs` array the caller sized with the matching *_limbs() bound, so the
 * module never allocates. Nothing here recurses.
 *
 * Text parsing follows CPython exactly, because the decoder's INT, LONG,
 * GET and PUT opcodes accept precisely what CPython's C functions accept:
 *  - bi_parse_py():  PyLong_FromString(s, &end, base)
 *  - bi_strtol0():   C strtol(s, &end, 0) in the "C" locale, 64-bit long
 */
#ifndef BRINE_BIGINT_H
#define BRINE_BIGINT_H

#include <stddef.h>
#include <stdint.h>

typedef struct bi {
    uint32_t *limbs;
    size_t n;
    int neg;
} bi;

/* CPython 3.11's default sys.int_max_str_digits. */
#define BI_MAX_STR_DIGITS 4300

typedef enum bi_status {
    BI_OK = 0,
    BI_INVALID,        /* ValueError: invalid literal for int() with base N */
    BI_TOO_MANY_DIGITS /* ValueError: Exceeds the limit (4300 digits) ... */
} bi_status;

/* Upper bound on the limbs any parse of `len` characters can need. */
size_t bi_text_limbs(size_t len);

/* PyLong_FromString(s, &end, base) of CPython 3.11 on the C string made of
 * s[0..len) (parsing stops at the first NUL byte, as it does in C): leading
 * and trailing whitespace (space, \t \n \v \f \r), one sign, the 0x/0o/0b
 * prefixes (any case) for base 0 or their own base, single underscores
 * between digits and after a prefix, no leading zeros in base-0 decimal
 * unless the number is zero, and the BI_MAX_STR_DIGITS limit for bases that
 * are not powers of two. base is 0 or 2..36.
 * On BI_OK, *out is the value (limbs has room for bi_text_limbs(len)) and
 * *consumed is the number of bytes parsed, trailing whitespace included
 * (less than len only when a NUL byte stopped the parse). */
bi_status bi_parse_py(const char *s, size_t len, int base, uint32_t *limbs, bi *out,
                      size_t *consumed);

/* strtol(s, &end, 0) of glibc in the "C" locale with a 64-bit long, on the C
 * string s[0..len): leading whitespace, sign, 0x/0X prefix (hex), leading 0
 * (octal), else decimal. Stores the value (clamped as strtol clamps) in
 * *out and the number of bytes consumed (0 when no conversion was
 * performed) in *consumed. Returns 1 when strtol would set errno to ERANGE,
 * else 0. */
int bi_strtol0(const char *s, size_t len, int64_t *out, size_t *consumed);

/* Digits only, already validated: base 10 or 16, lowercase or uppercase,
 * no sign, no prefix, no underscores. Used by the canonical text reader. */
void bi_from_digits(const char *digits, size_t n, int base, int neg, uint32_t *limbs, bi *out);

/* Limbs needed for an n-byte two's complement number. */
size_t bi_bytes_limbs(size_t n);

/* From little-endian two's complement bytes (LONG1/LONG4 payloads). */
void bi_from_le_bytes(const uint8_t *p, size_t n, uint32_t *limbs, bi *out);

/* Minimal little-endian two's complement, as CPython's save_long writes it
 * for LONG1/LONG4 (empty for zero; a 0x00 or 0xff byte is added only when
 * the sign bit needs it). Writes min(needed, cap) bytes; returns needed. */
size_t bi_to_le_bytes(const bi *x, uint8_t *buf, size_t cap);

/* int64 <-> bi. bi_from_i64 needs 2 limbs. bi_to_i64 returns 1 if x fits. */
void bi_from_i64(int64_t v, uint32_t *limbs, bi *out);
int bi_to_i64(const bi *x, int64_t *out);

int bi_cmp(const bi *a, const bi *b); /* -1, 0, 1 */
size_t bi_bit_length(const bi *x);    /* of the magnitude */

/* Exact comparison with a double, as Python's int == float. NaN: never
 * equal; infinities: never equal. Returns 1 when equal. */
int bi_eq_double(const bi *x, double d);

/* For a finite double with no fractional part: its exact value. Needs
 * limbs for 1100 bits (35 limbs). */
void bi_from_integral_double(double d, uint32_t *limbs, bi *out);

/* Decimal text, sign included ("-123"). Fails (returns 0) when the number
 * has more than max_digits digits, as repr(int) does at 4300 (0 means no
 * limit); the check is done before any quadratic work. `out` needs
 * bi_decimal_size(x) bytes, `scratch` x->n limbs. Returns the length. */
size_t bi_decimal_size(const bi *x);
size_t bi_to_decimal(const bi *x, size_t max_digits, char *out, uint32_t *scratch);

/* Lowercase hex digits of the magnitude, no sign, no prefix ("0" for 0).
 * `out` needs x->n * 8 + 1 bytes. Returns the length. */
size_t bi_to_hex(const bi *x, char *out);

/* When bi_parse_py() returns BI_INVALID, CPython builds its "invalid
 * literal" message from the first min(strlen(s), 200) bytes of s decoded as
 * strict UTF-8; if that decoding fails, PyLong_FromString() raises that
 * UnicodeDecodeError instead of the ValueError (seen through LONG, GET and
 * PUT; the INT opcode replaces either with its own ValueError). Returns 1
 * when s[0..len) is such a string. */
int bi_invalid_literal_is_unicode_error(const char *s, size_t len);

/* Notes on the functions above: bi_to_decimal() and bi_to_hex() write no
 * terminating NUL; bi_parse_py() sets *consumed only when it returns BI_OK
 * (consumed may be NULL) and *out is meaningful only then; bi_to_le_bytes()
 * accepts a NULL buf when cap is 0, to ask for the size. */

#endif
