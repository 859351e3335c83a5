/*
 * pyfloat.h - Python's float <-> text conversions, exactly.
 *
 * These functions are locale independent and correctly rounded in both
 * directions. They reproduce CPython 3.11 byte for byte: the decoder parses
 * FLOAT opcodes with them, the encoder writes protocol 0 FLOATs with them,
 * the canonical text and `brine dis` print floats with them.
 */
#ifndef BRINE_PYFLOAT_H
#define BRINE_PYFLOAT_H

#include <stddef.h>
#include <stdint.h>

/* Enough for any result of pyfloat_repr() plus a NUL. */
#define PYFLOAT_REPR_MAX 32

/* repr(x) of CPython 3.11: the shortest digits that round-trip (the one
 * nearest x when several do), fixed notation when -4 < decimal exponent <= 16
 * with ".0" added to integral values, else d.ddde+XX / d.ddde-XX with at
 * least two exponent digits; "inf", "-inf", and "nan" for every NaN.
 * Writes a NUL-terminated string to buf and returns its length. */
size_t pyfloat_repr(double x, char *buf);

typedef enum pyfloat_status {
    PYF_OK = 0,
    PYF_INVALID, /* ValueError: could not convert string to float */
    PYF_OVERFLOW /* OverflowError: value too large to convert to float */
} pyfloat_status;

/* PyOS_string_to_double(s, &end, PyExc_OverflowError) of CPython 3.11 on the
 * C string made of s[0..len) (a NUL byte ends it): an optional sign, then
 * "inf", "infinity" or "nan" in any case, or digits with an optional point
 * and exponent; no leading whitespace, no underscores, no hex. A finite
 * result that overflows is PYF_OVERFLOW; underflow gives a (signed) zero or
 * subnormal, correctly rounded. "-nan" has its sign bit set. On PYF_OK sets
 * *out and *consumed (bytes parsed; the caller checks what follows). When
 * nothing could be parsed returns PYF_INVALID. */
pyfloat_status pyfloat_parse(const char *s, size_t len, double *out, size_t *consumed);

/* float(b) for a bytes object b, as Python's float() constructor: leading
 * and trailing ASCII whitespace, single underscores between digits, the
 * same literals as pyfloat_parse; the whole input must be used (a NUL byte
 * makes it invalid). Used by `brine dis` for FLOAT arguments. */
pyfloat_status pyfloat_from_bytes(const char *s, size_t len, double *out);

/* Bit-exact conversions. */
uint64_t pyfloat_bits(double x);
double pyfloat_from_bits(uint64_t bits);

#endif
