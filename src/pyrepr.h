/*
 * pyrepr.h - Python 3.11's repr() of str and bytes, for `brine dis`.
 *
 * pickletools prints opcode arguments with repr(), so brine dis must
 * reproduce it exactly: the quote choice, the escapes, and for str which
 * code points Python considers printable (str.isprintable(), Unicode 14.0
 * as shipped with CPython 3.11; the table in pyrepr.c is generated from
 * CPython by tools/gen_printable.py).
 */
#ifndef BRINE_PYREPR_H
#define BRINE_PYREPR_H

#include <stddef.h>
#include <stdint.h>

/* 1 when Python's str.isprintable() is true for the single character cp
 * (0 for anything above U+10FFFF). */
int pyrepr_isprintable(uint32_t cp);

/* repr(s) for a str given as valid WTF-8 (quotes included). The result is
 * UTF-8 (lone surrogates are always escaped) and is not NUL-terminated.
 * Output bound: 10 * n + 2 bytes (the exact worst case is 4 * n + 2).
 * Returns the length. */
size_t pyrepr_str(const uint8_t *wtf8, size_t n, char *out);

/* repr(b) for bytes (b'...' or b"..."). Output bound: 4 * n + 3. */
size_t pyrepr_bytes(const uint8_t *p, size_t n, char *out);

#endif
