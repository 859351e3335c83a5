/*
 * pytext.h - Python's text codecs as the unpickler and pickler use them.
 *
 * Python strs are held as surrogate-permissive UTF-8 ("WTF-8" here): UTF-8
 * in which U+D800..U+DFFF are plain 3-byte sequences, so that every Python
 * str, lone surrogates included, has exactly one encoding and two strs are
 * equal exactly when their encodings are. Each decoder below produces that
 * form. The caller supplies output buffers sized with the documented bound;
 * nothing here allocates or recurses.
 *
 * Failures return a brine_code (from brine.h) and, where CPython reports a
 * position, set *err_pos to the offending byte offset in the input. Every
 * err_pos and ncp pointer may be NULL. On failure the contents of the output
 * buffer and *outlen are unspecified.
 */
#ifndef BRINE_PYTEXT_H
#define BRINE_PYTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "brine.h"

/* --- validation and inspection of WTF-8 --- */

/* pt_utf8_check (below) is Python's UTF-8 decoder with errors="surrogatepass"
 * (BINUNICODE payloads):
 * rejects overlong forms, code points above U+10FFFF, truncated and stray
 * continuation bytes; accepts encoded surrogates. On success returns
 * BRINE_OK and sets *ncp to the number of code points; else
 * BRINE_E_UNICODE_DECODE with *err_pos at the first byte of the first
 * invalid sequence (UnicodeDecodeError.start: for E1 41 that is the E1).
 * The valid input is already WTF-8, so no output buffer is needed. This
 * is the whole check; pt_utf8_check answers short ASCII strings inline. */
brine_code pt_utf8_check_general(const uint8_t *p, size_t n, size_t *ncp, size_t *err_pos);

/* 1 when p[0..n), n <= 16, is all ASCII; reads only p[0..n). GCC may
 * warn, where it inlines this for a short array, about the 8-byte loads
 * on the path it cannot rule out (n >= 8): that path is not taken. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
static inline int pt_short_ascii(const uint8_t *p, size_t n) {
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, p, 8);
        memcpy(&b, p + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        a = x | y;
    } else if (n >= 2) {
        uint16_t x, y;
        memcpy(&x, p, 2);
        memcpy(&y, p + n - 2, 2);
        a = x | y;
    } else if (n) {
        a = p[0];
    }
    return !((a | b) & 0x8080808080808080u);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* See pt_utf8_check_general. Short ASCII strings (most keys and names)
 * are answered inline, without the call. */
static inline brine_code pt_utf8_check(const uint8_t *p, size_t n, size_t *ncp, size_t *err_pos) {
    if (n <= 16 && pt_short_ascii(p, n)) {
        if (ncp) *ncp = n;
        return BRINE_OK;
    }
    return pt_utf8_check_general(p, n, ncp, err_pos);
}

/* Strict UTF-8 (no surrogates), as GLOBAL opcode names are decoded;
 * *err_pos as for pt_utf8_check. */
brine_code pt_utf8_check_strict(const uint8_t *p, size_t n, size_t *err_pos);

/* Decodes the code point at p[*i] of valid WTF-8 and advances *i. The
 * input must be valid (it is not checked and may be read past otherwise). */
uint32_t pt_next_cp(const uint8_t *p, size_t *i);

/* Appends the WTF-8 encoding of cp (<= 0x10FFFF) at out; returns bytes (1-4). */
size_t pt_put_cp(uint8_t *out, uint32_t cp);

/* --- decoders used by the unpickler (output bound given for each) --- */

/* raw-unicode-escape, as PyUnicode_DecodeRawUnicodeEscape (UNICODE opcode):
 * bytes are Latin-1 code points; only \uXXXX and \UXXXXXXXX after an odd
 * run of backslashes are escapes (either hex case; \ud800 gives a lone
 * surrogate); a final backslash is kept. A truncated or non-hex escape or
 * a \U value above U+10FFFF gives BRINE_E_UNICODE_DECODE with *err_pos at
 * its backslash. On success *ncp is the number of code points. Output
 * bound: 2 * n bytes. */
brine_code pt_raw_unicode_escape_decode(const uint8_t *p, size_t n, uint8_t *out, size_t *outlen,
                                        size_t *ncp, size_t *err_pos);

/* PyBytes_DecodeEscape of CPython 3.11 (STRING opcode), which raises
 * ValueError for a truncated or non-hex \x escape and a trailing backslash and keeps
 * unknown escapes as they are. Octal escapes take up to three digits and
 * keep the low 8 bits (\777 is 0xff); backslash-newline is removed.
 * Failures give BRINE_E_ESCAPE with *err_pos at the backslash (CPython
 * reports that position for \x; for the trailing backslash it is n - 1).
 * Output bound: n bytes. */
brine_code pt_bytes_decode_escape(const uint8_t *p, size_t n, uint8_t *out, size_t *outlen,
                                  size_t *err_pos);

/* Decoding a Python 2 str (STRING, BINSTRING, SHORT_BINSTRING) with the
 * unpickler's `encoding` and `errors`, as PyUnicode_Decode does. Supported
 * encodings: ascii, latin-1, utf-8 and their Python aliases (normalized the
 * way Python normalizes names); others give BRINE_E_UNKNOWN_ENCODING.
 * Supported error handlers: strict, ignore, replace, surrogateescape,
 * backslashreplace, surrogatepass (utf-8 only; with ascii it re-raises the
 * UnicodeDecodeError, as CPython does); an unknown handler gives
 * BRINE_E_UNKNOWN_ERRORS when, as in CPython, it is first needed, i.e. at
 * the first decoding error (never for latin-1). Names are as CPython
 * treats them: encodings case- and punctuation-insensitively ("UTF8",
 * " utf-8 ", "Latin-1", "L1", "us.ascii" all work; "utf.8" does not),
 * handlers exactly ("Strict" is unknown). xmlcharrefreplace and
 * namereplace, for which CPython raises TypeError at the first error, also
 * give BRINE_E_UNKNOWN_ERRORS (brine.h has no code for that TypeError).
 * Empty input gives '' whatever the names are: CPython returns before
 * looking either up (outside -X dev mode). NULL encoding means "ASCII" and
 * NULL errors "strict", the unpickler's defaults. UnicodeDecodeError sets
 * *err_pos to the error's start. The "bytes" encoding is handled by the
 * caller (here it is an unknown name). Output bound: 4 * n bytes. */
brine_code pt_decode(const uint8_t *p, size_t n, const char *encoding, const char *errors,
                     uint8_t *out, size_t *outlen, size_t *err_pos);

/* Returns 1 when `encoding` names a codec pt_decode supports (NULL: the
 * default "ASCII"). pt_decode of empty input succeeds even when it is 0. */
int pt_encoding_supported(const char *encoding);

/* str.encode("latin-1") (builtins folds): BRINE_E_UNICODE_ENCODE when a
 * code point is above U+00FF. `wtf8` must be valid. Output bound: n bytes. */
brine_code pt_latin1_encode(const uint8_t *wtf8, size_t n, uint8_t *out, size_t *outlen);

/* --- encoders used by the pickler --- */

/* What CPython's pickler writes after a protocol 0 UNICODE opcode:
 * raw-unicode-escape with \, NUL, \n, \r and \x1a also escaped (\u00XX).
 * Code points below U+0100 are written as single (Latin-1) bytes; hex
 * digits are lowercase. `wtf8` must be valid. Output bound: 10 * number of
 * code points (<= 10 * n; the exact worst case is 6 * n). */
size_t pt_raw_unicode_escape_encode(const uint8_t *wtf8, size_t n, uint8_t *out);

/* --- canonical text (docs/canonical.md) --- */

/* Body of a canonical str literal (without the quotes); always ASCII.
 * `wtf8` must be valid. Output bound: 10 * n (the exact worst case is 4 * n). */
size_t pt_canon_escape_str(const uint8_t *wtf8, size_t n, char *out);
/* Body of a canonical bytes literal (without b and quotes). Output bound: 4 * n. */
size_t pt_canon_escape_bytes(const uint8_t *p, size_t n, char *out);

/* Reverse of the above for the canonical reader: parses a literal body
 * starting at text[0] up to the closing quote, accepting only the escapes
 * the printer writes (strict). Returns the number of text bytes consumed
 * (not counting the closing quote) or (size_t)-1 with *err_pos relative to
 * text: at the backslash of a bad escape, at a character that should have
 * been escaped, or n when there is no closing quote. Output bounds: n bytes
 * (the str output is WTF-8). */
size_t pt_canon_unescape_str(const char *text, size_t n, uint8_t *out, size_t *outlen,
                             size_t *err_pos);
size_t pt_canon_unescape_bytes(const char *text, size_t n, uint8_t *out, size_t *outlen,
                               size_t *err_pos);

#endif
