/*
 * pytext.c - CPython 3.11's text codecs as pickle uses them, over WTF-8:
 * UTF-8 checks, the escape decoders, the encoders (PyUnicode_Decode is in
 * pytext_decode.c, the canonical literals in pytext_canon.c).
 *
 * Every decoder reproduces what the CPython function named in pytext.h
 * does: the same output, the same exception class, the same error position,
 * and the same laziness (an encoding or error handler name is looked at
 * only when CPython would look at it). tests/py/test_pytext_diff.py checks
 * all of it against python3.
 */
#include "pytext.h"

#include <string.h>

#include "pytext_impl.h"
#include "swar.h"

/* ------------------------------------------------------------------------ */
/* UTF-8 scanning                                                            */
/* ------------------------------------------------------------------------ */

/* Checks 8 bytes that hold only ASCII and two-byte sequences (C2..DF and a
 * continuation byte), without a branch per byte: text mixing the two at
 * random (Latin-1, Greek, Cyrillic...) would mispredict at every
 * character. *carry is 1 when the previous word ended with a lead byte and
 * is set for the next one. Returns the number of code points that start
 * in the word, or -1 when it holds anything else (or a sequence broken
 * across the words). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline)) /* small, and in pt_utf8_check_general's loop twice */
#endif
static inline int
utf8_word12(uint64_t w, int *carry) {
    const uint64_t hi = 0x8080808080808080u;
    uint64_t cont = w & ~(w << 1) & hi; /* 10xxxxxx */
    uint64_t lead = w & (w << 1) & hi;  /* 11xxxxxx */
    uint64_t expect = (lead << 8) | (uint64_t)(*carry ? 0x80 : 0);
    uint64_t low = w & 0x1E1E1E1E1E1E1E1Eu; /* lead C0, C1: these bits are 0 */
    uint64_t nonzero = ((low + 0x7F7F7F7F7F7F7F7Fu) | low) & hi;
    if (cont != expect || (w & (lead >> 2)) || (lead & ~nonzero)) return -1;
    *carry = (int)(lead >> 63);
    /* Bytes that are not continuation bytes start a code point. */
    return 8 - (int)swar_count_flags(cont);
}

/* Little-endian loads of k = 2, 4, 8 bytes whatever the machine
 * (utf8_word12 needs byte k at bits 8k..8k+7): one load where the byte
 * order is known. */
static inline uint64_t load_le(const uint8_t *p, size_t k) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (k == 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        return w;
    }
    if (k == 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        return w;
    }
    uint16_t w;
    memcpy(&w, p, 2);
    return w;
#else
    uint64_t w = 0;
    for (size_t b = k; b-- > 0;)
        w = (w << 8) | p[b];
    return w;
#endif
}

/* p[0..k) for k <= 8 as a little-endian word padded with NULs, from two
 * overlapping loads that stay inside p[0..k) (no call to memcpy); the
 * bytes both loads hold land on the same bits. */
static inline uint64_t load_le_partial(const uint8_t *p, size_t k) {
    if (k >= 4) return load_le(p, 4) | (load_le(p + k - 4, 4) << (8 * (k - 4)));
    if (k >= 2) return load_le(p, 2) | (load_le(p + k - 2, 2) << (8 * (k - 2)));
    return k ? p[0] : 0;
}

brine_code pt_utf8_check_general(const uint8_t *p, size_t n, size_t *ncp, size_t *err_pos) {
    /* ASCII first (most text is), 8 bytes at a time: a code point a byte.
     * The first word with a high bit goes to the general loop below. */
    size_t i = 0;
    while (n - i >= 8 && !(load_le(p + i, 8) & 0x8080808080808080u))
        i += 8;
    if (n - i < 8 && !(load_le_partial(p + i, n - i) & 0x8080808080808080u)) {
        if (ncp) *ncp = n;
        return BRINE_OK;
    }
    size_t count = i;
    int carry = 0;
    /* `|| carry`: a word that ends the text in a lead byte must still be
     * checked byte by byte below (the sequence is truncated). */
    while (i < n || carry) {
        if (n - i >= 8) {
            int k = utf8_word12(load_le(p + i, 8), &carry);
            if (k >= 0) {
                i += 8;
                count += (size_t)k;
                continue;
            }
        } else if (!carry && i < n) {
            /* The last 1..7 bytes as one word padded with NULs (ASCII): a
             * sequence cut by the end meets a NUL and fails the check. */
            size_t rest = n - i;
            int tail_carry = 0;
            int k = utf8_word12(load_le_partial(p + i, rest), &tail_carry);
            if (k >= 0) {
                i = n;
                count += (size_t)k - (8 - rest);
                continue;
            }
        }
        if (carry) {
            /* The last word ended in a lead byte: back to it, and check the
             * sequence it starts one byte at a time. */
            i--;
            count--;
            carry = 0;
        }
        if (p[i] < 0x80) {
            i++;
        } else {
            utf8_step s = utf8_scan(p, n, i, 1);
            if (!s.len) {
                if (err_pos) *err_pos = i;
                return BRINE_E_UNICODE_DECODE;
            }
            i += s.len;
        }
        count++;
    }
    if (ncp) *ncp = count;
    return BRINE_OK;
}

brine_code pt_utf8_check_strict(const uint8_t *p, size_t n, size_t *err_pos) {
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        utf8_step s = utf8_scan(p, n, i, 0);
        if (!s.len) {
            if (err_pos) *err_pos = i;
            return BRINE_E_UNICODE_DECODE;
        }
        i += s.len;
    }
    return BRINE_OK;
}

uint32_t pt_next_cp(const uint8_t *p, size_t *i) {
    size_t k = *i;
    uint32_t b = p[k];
    if (b < 0x80) {
        *i = k + 1;
        return b;
    }
    if (b < 0xE0) {
        *i = k + 2;
        return ((b & 0x1Fu) << 6) | (p[k + 1] & 0x3Fu);
    }
    if (b < 0xF0) {
        *i = k + 3;
        return ((b & 0x0Fu) << 12) | ((p[k + 1] & 0x3Fu) << 6) | (p[k + 2] & 0x3Fu);
    }
    *i = k + 4;
    return ((b & 0x07u) << 18) | ((p[k + 1] & 0x3Fu) << 12) | ((p[k + 2] & 0x3Fu) << 6) |
           (p[k + 3] & 0x3Fu);
}

size_t pt_put_cp(uint8_t *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------------ */
/* Escape decoders                                                           */
/* ------------------------------------------------------------------------ */

/* Bytes that are ASCII and no backslash, 8 at a time (whether there is a
 * backslash is exact, swar.h). */
static inline int plain_ascii_word(uint64_t w) {
    return !((w & SWAR_HIGHS) | swar_bytes_equal(w, '\\'));
}

brine_code pt_raw_unicode_escape_decode(const uint8_t *p, size_t n, uint8_t *out, size_t *outlen,
                                        size_t *ncp, size_t *err_pos) {
    size_t i = 0, o = 0, escaped = 0; /* bytes in \u and \U escapes, less one each */
    while (i < n) {
        /* Plain words as they are (o <= 2 * i: within the bound), then the
         * next word, or what is left, a byte at a time. */
        uint64_t w;
        while (n - i >= 8 && (memcpy(&w, p + i, 8), plain_ascii_word(w))) {
            memcpy(out + o, &w, 8);
            i += 8;
            o += 8;
        }
        size_t stop = n - i > 8 ? i + 8 : n;
        for (; i < stop && p[i] != '\\'; i++) {
            /* Bytes are Latin-1 code points: one or two bytes without a
             * branch on which (tags and names mix them at random);
             * out[o + 1] <= out[2 * n - 1] is ours. */
            unsigned c = p[i], two = c >> 7;
            out[o] = two ? (uint8_t)(0xC0 | (c >> 6)) : (uint8_t)c;
            out[o + 1] = (uint8_t)(0x80 | (c & 0x3F));
            o += 1 + two;
        }
        if (i == stop) continue;
        size_t start = i++;
        if (i == n) {
            out[o++] = '\\'; /* a final backslash stays as it is */
            break;
        }
        uint8_t c = p[i++];
        int count;
        if (c == 'u') {
            count = 4;
        } else if (c == 'U') {
            count = 8;
        } else {
            /* Not an escape: both bytes are kept, so "\\\\u" is not one. */
            out[o++] = '\\';
            o += pt_put_cp(out + o, c);
            continue;
        }
        uint32_t cp = 0; /* 8 hex digits fit exactly in 32 bits */
        for (; count > 0; count--, i++) {
            int d = i < n ? hexval(p[i]) : -1;
            if (d < 0) {
                if (err_pos) *err_pos = start; /* truncated \uXXXX / \UXXXXXXXX */
                return BRINE_E_UNICODE_DECODE;
            }
            cp = (cp << 4) | (uint32_t)d;
        }
        if (cp > 0x10FFFF) {
            if (err_pos) *err_pos = start; /* \Uxxxxxxxx out of range */
            return BRINE_E_UNICODE_DECODE;
        }
        o += pt_put_cp(out + o, cp);
        escaped += i - start - 1;
    }
    *outlen = o;
    if (ncp) *ncp = n - escaped;
    return BRINE_OK;
}

brine_code pt_bytes_decode_escape(const uint8_t *p, size_t n, uint8_t *out, size_t *outlen,
                                  size_t *err_pos) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c = p[i++];
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        size_t start = i - 1;
        if (i >= n) {
            if (err_pos) *err_pos = start; /* "Trailing \ in string" */
            return BRINE_E_ESCAPE;
        }
        c = p[i++];
        switch (c) {
        case '\n': break; /* line continuation: both bytes vanish */
        case '\\':
        case '\'':
        case '"': out[o++] = c; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 't': out[o++] = '\t'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 'v': out[o++] = '\v'; break;
        case 'a': out[o++] = '\a'; break;
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7': {
            /* Up to three octal digits; 3.11 keeps only the low 8 bits of
             * values above 0o377 (\777 is 0xff, \400 is 0x00). */
            unsigned v = (unsigned)(c - '0');
            for (int k = 0; k < 2 && i < n && p[i] >= '0' && p[i] <= '7'; k++)
                v = (v << 3) + (unsigned)(p[i++] - '0');
            out[o++] = (uint8_t)(v & 0xFF);
            break;
        }
        case 'x': {
            int d1 = i + 1 < n ? hexval(p[i]) : -1;
            int d2 = i + 1 < n ? hexval(p[i + 1]) : -1;
            if (d1 < 0 || d2 < 0) {
                if (err_pos) *err_pos = start; /* "invalid \x escape at position N" */
                return BRINE_E_ESCAPE;
            }
            out[o++] = (uint8_t)((d1 << 4) | d2);
            i += 2;
            break;
        }
        default:
            /* Unknown escapes (\q, \u, \N, \<non-ASCII>) are kept whole. */
            out[o++] = '\\';
            out[o++] = c;
            break;
        }
    }
    *outlen = o;
    return BRINE_OK;
}

/* ------------------------------------------------------------------------ */
/* Encoders: the builtins fold, the pickler                                  */
/* ------------------------------------------------------------------------ */

brine_code pt_latin1_encode(const uint8_t *wtf8, size_t n, uint8_t *out, size_t *outlen) {
    size_t i = 0, o = 0;
    unsigned leads = 0; /* the OR of the lead bytes */
    while (i < n) {
        /* ASCII a word at a time; U+0080..U+00FF are the two-byte
         * sequences led by C2 and C3; any other lead (C4..F4) is above
         * U+00FF and has a bit of 0x3C set, which C2 and C3 do not. */
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, wtf8 + i, 8);
            if (!(w & 0x8080808080808080u)) {
                memcpy(out + o, &w, 8);
                i += 8;
                o += 8;
                continue;
            }
        }
        /* Mixed runs of both without a branch on which (see utf8_word12):
         * the input is valid WTF-8, so a lead byte has its continuation
         * (wtf8[i + 1] is read only while it exists). */
        for (; i + 1 < n; o++) {
            unsigned b = wtf8[i], two = b >> 7, mask = 0u - two;
            leads |= b & mask;
            unsigned dec = (b << 6) | (wtf8[i + 1] & 0x3Fu); /* C2: 0x80.., C3: 0xC0.. */
            out[o] = (uint8_t)(b ^ ((b ^ dec) & mask)); /* a select compilers keep branchless */
            i += 1 + two;
        }
        if (i + 1 == n) {
            if (wtf8[i] >= 0x80) return BRINE_E_UNICODE_ENCODE;
            out[o++] = wtf8[i++];
        }
    }
    if (leads & 0x3Cu) return BRINE_E_UNICODE_ENCODE;
    *outlen = o;
    return BRINE_OK;
}

/* What CPython's pickler writes after a protocol 0 UNICODE opcode. */
size_t pt_raw_unicode_escape_encode(const uint8_t *wtf8, size_t n, uint8_t *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp = pt_next_cp(wtf8, &i);
        if (cp >= 0x10000) o += put_hex_escape(out + o, 'U', cp, 8);
        /* The pickler also escapes what would break its line-based
         * reader: backslash, NUL, \n, \r and \x1a (Ctrl-Z). */
        else if (cp >= 0x100 || cp == '\\' || cp == 0 || cp == '\n' || cp == '\r' || cp == 0x1A)
            o += put_hex_escape(out + o, 'u', cp, 4);
        else
            out[o++] = (uint8_t)cp; /* Latin-1 byte, not UTF-8 */
    }
    return o;
}
