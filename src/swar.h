/*
 * swar.h - tests on the eight bytes of a word at once, shared by the
 * decoder's text opcodes, the text codecs and the float parser, so that
 * each trick is written (and checked) once.
 *
 * A word holds eight input bytes as loaded by memcpy; which flag is the
 * first byte depends on the host's byte order, which the callers check.
 * Flags are the top bit of each byte unless said otherwise.
 */
#ifndef BRINE_SWAR_H
#define BRINE_SWAR_H

#include <stdint.h>

#define SWAR_ONES  0x0101010101010101u
#define SWAR_HIGHS 0x8080808080808080u

/* Flags on the bytes of w equal to c. The lowest flag (in the byte order
 * of the value) is exact; flags above a true one may be false, as the
 * borrow of the subtraction runs on, so whether there is one is exact. */
static inline uint64_t swar_bytes_equal(uint64_t w, uint8_t c) {
    uint64_t x = w ^ (SWAR_ONES * c);
    return (x - SWAR_ONES) & ~x & SWAR_HIGHS;
}

/* The number of flags in a word of top-bit flags (a multiply sums them
 * into the top byte; no popcount instruction is assumed). */
static inline unsigned swar_count_flags(uint64_t flags) {
    return (unsigned)(((flags >> 7) * SWAR_ONES) >> 56);
}

/* Non-zero bits in the byte of each byte of w that is not an ASCII digit
 * (a digit's high nibble is 3 and stays 3 when 6 is added; a carry out of
 * a non-digit byte only disturbs the bytes above it, so the lowest
 * non-zero byte is exact, and the result is 0 exactly when all eight are
 * digits). */
static inline uint64_t swar_nondigits(uint64_t w) {
    return ((w & 0xF0F0F0F0F0F0F0F0u) ^ 0x3030303030303030u) |
           (((w + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) ^ 0x3030303030303030u);
}

/* The number the eight digit values (0..9, one a byte) of d spell, the
 * most significant in the lowest byte: pairs, then fours, then the eight,
 * each a multiply and a shift (no lane overflows into the next). */
static inline uint64_t swar_digits_value(uint64_t d) {
    d = ((d * (1 + (10 << 8))) >> 8) & 0x00FF00FF00FF00FFu;
    d = ((d * (1 + (100 << 16))) >> 16) & 0x0000FFFF0000FFFFu;
    return (d * (1 + ((uint64_t)10000 << 32))) >> 32;
}

#endif
