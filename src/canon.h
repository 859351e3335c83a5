/*
 * canon.h - what the canonical text printer and reader must agree on
 * (docs/canonical.md) beyond the grammar itself.
 */
#ifndef BRINE_CANON_H
#define BRINE_CANON_H

/* Ints below 2**4096 in magnitude print in decimal, larger ones in hex, so
 * that printing stays linear. 2**4096 has 1234 decimal digits. */
#define CANON_DECIMAL_BITS       4096
#define CANON_DECIMAL_MAX_DIGITS 1234

#endif
