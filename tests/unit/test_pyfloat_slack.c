/*
 * test_pyfloat_slack.c - src/pyfloat.c and src/pyfloat_parse.c with the
 * error bound of their 128-bit approximations widened a billionfold, so
 * that about a quarter of the values near 1e+-28 and beyond fall back to
 * the exact code: both builds must agree everywhere (see
 * test_pyfloat_variant.h).
 */
#define PYFLOAT_APPROX_SLACK (UINT64_C(1) << 61)
#define pyfloat_repr         pyfloat_repr_v
#define pyfloat_parse        pyfloat_parse_v
#define pyfloat_from_bytes   pyfloat_from_bytes_v
#define pyfloat_bits         pyfloat_bits_v
#define pyfloat_from_bits    pyfloat_from_bits_v
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
