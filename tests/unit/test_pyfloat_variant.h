/*
 * test_pyfloat_variant.h - compares a second build of src/pyfloat.c with
 * the library's.
 *
 * test_pyfloat_exact.c and test_pyfloat_slack.c include src/pyfloat.c with
 * its functions renamed to *_v and a test knob changed, so that the paths
 * ordinary inputs rarely or never take (the exact big-integer code, the
 * fallback from the 128-bit approximations) run on every kind of input;
 * then this driver checks that both builds agree bit for bit. The library
 * itself is compared with CPython by tests/py/test_pyfloat_vectors.py.
 */
#ifndef BRINE_TEST_PYFLOAT_VARIANT_H
#define BRINE_TEST_PYFLOAT_VARIANT_H

#include "tcheck.h"

#include <stdlib.h>

/* The library's functions (pyfloat.h was included under the *_v names). */
size_t pyfloat_repr(double x, char *buf);
pyfloat_status pyfloat_parse(const char *s, size_t len, double *out, size_t *consumed);
pyfloat_status pyfloat_from_bytes(const char *s, size_t len, double *out);
uint64_t pyfloat_bits(double x);
double pyfloat_from_bits(uint64_t bits);

static uint64_t variant_rng(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void variant_repr(uint64_t bits) {
    char a[PYFLOAT_REPR_MAX], b[PYFLOAT_REPR_MAX];
    pyfloat_repr(pyfloat_from_bits(bits), a);
    pyfloat_repr_v(pyfloat_from_bits(bits), b);
    tcheck_checks++;
    if (strcmp(a, b) != 0) TFAIL_("repr(0x%016" PRIx64 "): %s here, %s in the variant", bits, a, b);
}

static void variant_parse(const char *s, size_t n) {
    double x = 0, y = 0;
    size_t ux = 0, uy = 0;
    pyfloat_status sx = pyfloat_parse(s, n, &x, &ux);
    pyfloat_status sy = pyfloat_parse_v(s, n, &y, &uy);
    tcheck_checks++;
    if (sx != sy || (sx != PYF_INVALID && (pyfloat_bits(x) != pyfloat_bits(y) || ux != uy)))
        TFAIL_("parse(\"%.*s\"): %d 0x%016" PRIx64 " %zu here, %d 0x%016" PRIx64
               " %zu in the variant",
               (int)n, s, (int)sx, pyfloat_bits(x), ux, (int)sy, pyfloat_bits(y), uy);
}

static void test_variant_repr(void) {
    uint64_t st = UINT64_C(0x243f6a8885a308d3);
    for (uint64_t e = 0; e < 2047; e++)
        for (uint64_t d = 0; d < 4; d++) {
            variant_repr((e << 52) + d);
            if (e) variant_repr((e << 52) - d - 1);
        }
    for (int i = 0; i < 200000; i++) {
        uint64_t r = variant_rng(&st);
        switch (i % 4) {
        case 0: break;
        case 1: r &= UINT64_C(0x000fffffffffffff) >> (r % 52); break; /* subnormal */
        case 2: r = (r & UINT64_C(0x801fffffffffffff)) | (UINT64_C(0x3f0) << 52); break;
        default: r &= ~(UINT64_C(0xffffffff) >> (r % 32)); break; /* short mantissas */
        }
        variant_repr(r);
    }
}

static void test_variant_parse(void) {
    uint64_t st = UINT64_C(0x13198a2e03707344);
    char s[96];
    for (int i = 0; i < 150000; i++) {
        uint64_t r = variant_rng(&st);
        size_t n;
        if (i % 3 == 0) {
            /* repr of a random double, with its last digit nudged. */
            n = pyfloat_repr(pyfloat_from_bits(r), s);
            if (i % 2 && n > 4 && s[n - 1] >= '0' && s[n - 1] <= '9')
                s[n - 1] = (char)('0' + (r >> 60) % 10);
        } else {
            /* 1 to 40 random digits, maybe a point, an exponent in
             * [-420, 420]. */
            size_t nd = 1 + (size_t)(r % 40);
            n = 0;
            uint64_t t = variant_rng(&st);
            for (size_t j = 0; j < nd; j++) {
                s[n++] = (char)('0' + t % 10);
                t = t / 10 ? t / 10 : variant_rng(&st);
            }
            if (r & 0x100) {
                size_t p = (size_t)(r >> 20) % (n + 1);
                memmove(s + p + 1, s + p, n - p);
                s[p] = '.';
                n++;
            }
            n += (size_t)snprintf(s + n, sizeof s - n, "e%d", (int)((r >> 32) % 841) - 420);
        }
        variant_parse(s, n);
    }
}

static void variant_run(void) {
    TRUN(test_variant_repr);
    TRUN(test_variant_parse);
}

#endif
