/*
 * test_pyfloat_exact.c - src/pyfloat.c and src/pyfloat_parse.c with every
 * shortcut turned off (the integer and 128-bit repr paths, the 128-bit
 * approximations, Clinger's fast path, the 19-digit one) must agree with the library everywhere:
 * see test_pyfloat_variant.h.
 */
#define PYFLOAT_FAST_PATHS 0
#define pyfloat_repr       pyfloat_repr_v
#define pyfloat_parse      pyfloat_parse_v
#define pyfloat_from_bytes pyfloat_from_bytes_v
#define pyfloat_bits       pyfloat_bits_v
#define pyfloat_from_bits  pyfloat_from_bits_v
#include "pyfloat.c"
#include "pyfloat_parse.c"
#undef pyfloat_repr
#undef pyfloat_parse
#undef pyfloat_from_bytes
#undef pyfloat_bits
#undef pyfloat_from_bits

#include "test_pyfloat_variant.h"

int main(void) {
    variant_run();
    return TDONE();
}
