/*
 * byteorder.h - integers read from pickle bytes in a fixed byte order, and
 * bit lengths: the decoder, the disassembler and the bigint and float code
 * share these, so that each is written (and made fast) once.
 */
#ifndef BRINE_BYTEORDER_H
#define BRINE_BYTEORDER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The n <= 8 bytes at p as a little-endian number. For the constant sizes
 * of the opcodes' arguments on a little-endian host, one load (GCC unrolls
 * the loop but does not merge its byte loads). */
static inline uint64_t load_le(const uint8_t *p, size_t n) {
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) &&                        \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (__builtin_constant_p(n)) {
        uint16_t x2;
        uint32_t x4;
        uint64_t x8;
        switch (n) {
        case 1: return p[0];
        case 2: memcpy(&x2, p, 2); return x2;
        case 4: memcpy(&x4, p, 4); return x4;
        case 8: memcpy(&x8, p, 8); return x8;
        default: break;
        }
    }
#endif
    uint64_t x = 0;
    for (size_t i = n; i-- > 0;)
        x = (x << 8) | p[i];
    return x;
}

/* The 8 bytes at p as a little-endian number, written so that compilers
 * make it one load on any host (the loop above they do not merge). */
static inline uint64_t load_le64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* The 8 bytes at p as a big-endian number (BINFLOAT's argument). */
static inline uint64_t load_be64(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, p, 8);
    return __builtin_bswap64(x);
#else
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = (x << 8) | p[i];
    return x;
#endif
}

/* The number of bits of x (0 for 0). */
static inline unsigned bit_length64(uint64_t x) {
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

#endif
