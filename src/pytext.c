/*
 * pytext.c - CPython 3.11's text codecs as pickle uses them, over WTF-8.
 *
 * Every decoder reproduces what the CPython function named in pytext.h
 * does: the same output, the same exception class, the same error position,
 * and the same laziness (an encoding or error handler name is looked at
 * only when CPython would look at it). tests/py/test_pytext_diff.py checks
 * all of it against python3.
 */
#include "pytext.h"

#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

/* Value of an ASCII hex digit of either case, or -1. */
static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Value of a lowercase hex digit, or -1: the canonical text has no others. */
static int lowerhexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Writes '\\', letter and `digits` lowercase hex digits of v; returns the length. */
static size_t put_hex_escape(uint8_t *out, char letter, uint32_t v, int digits) {
    out[0] = '\\';
    out[1] = (uint8_t)letter;
    for (int k = 0; k < digits; k++)
        out[2 + k] = (uint8_t)hexdigits[(v >> (4 * (digits - 1 - k))) & 0xF];
    return 2 + (size_t)digits;
}

/* ------------------------------------------------------------------------ */
/* UTF-8 scanning                                                            */
/* ------------------------------------------------------------------------ */

/* One step of CPython's UTF-8 decoder at p[i]. When len > 0 the bytes
 * p[i..i+len) are a valid sequence for cp. When len == 0 they are not, and
 * `bad` is how many bytes CPython reports as one error (its start..end):
 * 1 for a byte that cannot start a sequence, k when the k-th byte after the
 * lead is wrong, and all remaining bytes when the input ends inside an
 * otherwise valid sequence. This is the Unicode "maximal subpart" rule;
 * it decides how many U+FFFD "replace" writes and which bytes
 * "surrogateescape" and "backslashreplace" see. */
typedef struct {
    size_t len;
    size_t bad;
    uint32_t cp;
} utf8_step;

static utf8_step utf8_scan(const uint8_t *p, size_t n, size_t i, int surrogates) {
    utf8_step r = {0, 1, 0};
    uint8_t b = p[i];
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the byte after the lead */
    size_t need;
    uint32_t cp;

    if (b < 0x80) {
        r.len = 1;
        r.cp = b;
        return r;
    }
    if (b < 0xC2) return r; /* stray continuation byte, or overlong C0/C1 */
    if (b < 0xE0) {
        need = 2;
        cp = b & 0x1Fu;
    } else if (b < 0xF0) {
        need = 3;
        cp = b & 0x0Fu;
        if (b == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (b == 0xED && !surrogates)
            hi = 0x9F; /* U+D800..U+DFFF */
    } else if (b < 0xF5) {
        need = 4;
        cp = b & 0x07u;
        if (b == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (b == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return r; /* F5..FF never start a sequence */
    }
    for (size_t k = 1; k < need; k++) {
        if (i + k >= n) {
            r.bad = k; /* truncated: the valid prefix p[i..n) is one error */
            return r;
        }
        uint8_t c = p[i + k];
        if (k == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80) {
            r.bad = k;
            return r;
        }
        cp = (cp << 6) | (c & 0x3Fu);
    }
    r.len = need;
    r.cp = cp;
    return r;
}

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
    return 8 - (int)(((cont >> 7) * 0x0101010101010101u) >> 56);
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

/* Bytes that are ASCII and no backslash, 8 at a time: the backslash test
 * finds a zero byte in w ^ "\\\\..." (the borrow trick errs only above a
 * true zero, so whether there is one is exact). */
static inline int plain_ascii_word(uint64_t w) {
    uint64_t x = w ^ 0x5c5c5c5c5c5c5c5cu;
    uint64_t backslash = (x - 0x0101010101010101u) & ~x;
    return !((w | backslash) & 0x8080808080808080u);
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
/* PyUnicode_Decode for ascii, latin-1 and utf-8                             */
/* ------------------------------------------------------------------------ */

typedef enum { ENC_NONE, ENC_ASCII, ENC_LATIN1, ENC_UTF8 } pt_encoding;

/* The names encodings/aliases.py maps to the three codecs (Python 3.11),
 * as normalized below. The module names themselves are separate because
 * CPython tries them only for names without a dot. */
static const struct {
    const char *name;
    pt_encoding enc;
} encoding_aliases[] = {
    {"646", ENC_ASCII},
    {"ansi_x3.4_1968", ENC_ASCII},
    {"ansi_x3.4_1986", ENC_ASCII},
    {"ansi_x3_4_1968", ENC_ASCII},
    {"cp367", ENC_ASCII},
    {"csascii", ENC_ASCII},
    {"ibm367", ENC_ASCII},
    {"iso646_us", ENC_ASCII},
    {"iso_646.irv_1991", ENC_ASCII},
    {"iso_ir_6", ENC_ASCII},
    {"us", ENC_ASCII},
    {"us_ascii", ENC_ASCII},
    {"8859", ENC_LATIN1},
    {"cp819", ENC_LATIN1},
    {"csisolatin1", ENC_LATIN1},
    {"ibm819", ENC_LATIN1},
    {"iso8859", ENC_LATIN1},
    {"iso8859_1", ENC_LATIN1},
    {"iso_8859_1", ENC_LATIN1},
    {"iso_8859_1_1987", ENC_LATIN1},
    {"iso_ir_100", ENC_LATIN1},
    {"l1", ENC_LATIN1},
    {"latin", ENC_LATIN1},
    {"latin1", ENC_LATIN1},
    {"cp65001", ENC_UTF8},
    {"u8", ENC_UTF8},
    {"utf", ENC_UTF8},
    {"utf8", ENC_UTF8},
    {"utf8_ucs2", ENC_UTF8},
    {"utf8_ucs4", ENC_UTF8},
};

static const struct {
    const char *name;
    pt_encoding enc;
} encoding_modules[] = {
    {"ascii", ENC_ASCII},
    {"latin_1", ENC_LATIN1},
    {"utf_8", ENC_UTF8},
};

/* Longer normalized names cannot match any entry above. */
#define ENC_NAME_MAX 31

/* CPython's encoding name normalization (the same in PyUnicode_Decode's
 * fast path, the codec registry and encodings.normalize_encoding, as far
 * as the result is concerned): ASCII letters are lowered, ASCII letters,
 * digits and '.' are kept, and every run of other bytes (spaces, '-',
 * ':', non-ASCII UTF-8, ...) becomes one '_', or nothing at either end.
 * Returns 0 when the result would not fit in buf[ENC_NAME_MAX + 1]. */
static int normalize_encoding(const char *name, char *buf) {
    size_t l = 0;
    int punct = 0;
    for (const unsigned char *e = (const unsigned char *)name; *e; e++) {
        unsigned char c = *e;
        int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && c != '.') {
            punct = 1;
            continue;
        }
        if (punct && l > 0) {
            if (l >= ENC_NAME_MAX) return 0;
            buf[l++] = '_';
        }
        punct = 0;
        if (l >= ENC_NAME_MAX) return 0;
        buf[l++] = (char)((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
    }
    buf[l] = '\0';
    return 1;
}

static pt_encoding find_alias(const char *norm) {
    for (size_t k = 0; k < sizeof encoding_aliases / sizeof encoding_aliases[0]; k++)
        if (strcmp(norm, encoding_aliases[k].name) == 0) return encoding_aliases[k].enc;
    return ENC_NONE;
}

/* Which of the three codecs `name` selects, as the codec registry's
 * encodings.search_function decides: the alias of the normalized name,
 * else the alias of that name with '.' replaced by '_', else the module of
 * that name if it has no '.'. No alias of another codec collides with
 * these, so an alias miss here is a miss in Python too. NULL is the
 * unpickler's default, "ASCII". */
static pt_encoding lookup_encoding(const char *name) {
    char norm[ENC_NAME_MAX + 1];
    if (!name) return ENC_ASCII;
    if (!normalize_encoding(name, norm)) return ENC_NONE;
    pt_encoding enc = find_alias(norm);
    if (enc != ENC_NONE) return enc;
    char *dot = strchr(norm, '.');
    if (dot) {
        for (char *q = dot; *q; q++)
            if (*q == '.') *q = '_';
        return find_alias(norm);
    }
    for (size_t k = 0; k < sizeof encoding_modules / sizeof encoding_modules[0]; k++)
        if (strcmp(norm, encoding_modules[k].name) == 0) return encoding_modules[k].enc;
    return ENC_NONE;
}

int pt_encoding_supported(const char *encoding) {
    return lookup_encoding(encoding) != ENC_NONE;
}

typedef enum {
    ERR_UNRESOLVED, /* not looked up yet: CPython resolves it at the first error */
    ERR_STRICT,
    ERR_IGNORE,
    ERR_REPLACE,
    ERR_SURROGATEESCAPE,
    ERR_BACKSLASHREPLACE,
    ERR_SURROGATEPASS,
    ERR_ENCODE_ONLY, /* xmlcharrefreplace, namereplace: TypeError when decoding */
    ERR_UNKNOWN
} pt_errors;

/* Error handler names are compared exactly: "Strict" is unknown. */
static pt_errors lookup_errors(const char *errors) {
    static const struct {
        const char *name;
        pt_errors h;
    } table[] = {
        {"strict", ERR_STRICT},
        {"ignore", ERR_IGNORE},
        {"replace", ERR_REPLACE},
        {"surrogateescape", ERR_SURROGATEESCAPE},
        {"backslashreplace", ERR_BACKSLASHREPLACE},
        {"surrogatepass", ERR_SURROGATEPASS},
        {"xmlcharrefreplace", ERR_ENCODE_ONLY},
        {"namereplace", ERR_ENCODE_ONLY},
    };
    if (!errors) return ERR_STRICT;
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
        if (strcmp(errors, table[k].name) == 0) return table[k].h;
    return ERR_UNKNOWN;
}

brine_code pt_decode(const uint8_t *p, size_t n, const char *encoding, const char *errors,
                     uint8_t *out, size_t *outlen, size_t *err_pos) {
    /* CPython returns '' for empty input before looking at either name. */
    if (n == 0) {
        *outlen = 0;
        return BRINE_OK;
    }
    pt_encoding enc = lookup_encoding(encoding);
    if (enc == ENC_NONE) return BRINE_E_UNKNOWN_ENCODING;

    size_t i = 0, o = 0;
    if (enc == ENC_LATIN1) {
        /* Latin-1 cannot fail, so the handler is never looked up. */
        for (; i < n; i++)
            o += pt_put_cp(out + o, p[i]);
        *outlen = o;
        return BRINE_OK;
    }

    pt_errors handler = ERR_UNRESOLVED;
    while (i < n) {
        size_t bad;
        if (enc == ENC_ASCII) {
            if (p[i] < 0x80) {
                out[o++] = p[i++];
                continue;
            }
            bad = 1;
        } else {
            utf8_step s = utf8_scan(p, n, i, 0);
            if (s.len) {
                o += pt_put_cp(out + o, s.cp);
                i += s.len;
                continue;
            }
            bad = s.bad;
        }

        /* A decoding error at p[i..i+bad). */
        if (handler == ERR_UNRESOLVED) handler = lookup_errors(errors);
        switch (handler) {
        case ERR_IGNORE: break;
        case ERR_REPLACE: o += pt_put_cp(out + o, 0xFFFD); break;
        case ERR_SURROGATEESCAPE:
            for (size_t k = 0; k < bad; k++)
                o += pt_put_cp(out + o, 0xDC00u + p[i + k]);
            break;
        case ERR_BACKSLASHREPLACE:
            for (size_t k = 0; k < bad; k++)
                o += put_hex_escape(out + o, 'x', p[i + k], 2);
            break;
        case ERR_SURROGATEPASS:
            /* The handler decodes one 3-byte surrogate at the error start
             * (utf-8 only; for ascii it re-raises the original error). */
            if (enc == ENC_UTF8 && n - i >= 3 && (p[i] & 0xF0) == 0xE0 &&
                (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
                uint32_t cp =
                    ((p[i] & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    o += pt_put_cp(out + o, cp);
                    bad = 3;
                    break;
                }
            }
            if (err_pos) *err_pos = i;
            return BRINE_E_UNICODE_DECODE;
        case ERR_ENCODE_ONLY:
            /* CPython: TypeError "don't know how to handle
             * UnicodeDecodeError in error callback". */
            if (err_pos) *err_pos = i;
            return BRINE_E_HANDLER_TYPE;
        case ERR_UNKNOWN:
            if (err_pos) *err_pos = i;
            return BRINE_E_UNKNOWN_ERRORS;
        case ERR_UNRESOLVED:
        case ERR_STRICT:
        default:
            if (err_pos) *err_pos = i;
            return BRINE_E_UNICODE_DECODE;
        }
        i += bad;
    }
    *outlen = o;
    return BRINE_OK;
}

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

/* ------------------------------------------------------------------------ */
/* Pickler: protocol 0 UNICODE argument                                      */
/* ------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------ */
/* Canonical text literals                                                   */
/* ------------------------------------------------------------------------ */

/* The named escape letter for c, or 0. */
static char canon_named(uint32_t c) {
    switch (c) {
    case '\\': return '\\';
    case '\'': return '\'';
    case '\t': return 't';
    case '\n': return 'n';
    case '\r': return 'r';
    default: return 0;
    }
}

/* The character a named escape letter stands for, or -1. */
static int canon_unnamed(uint8_t letter) {
    switch (letter) {
    case '\\': return '\\';
    case '\'': return '\'';
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    default: return -1;
    }
}

size_t pt_canon_escape_str(const uint8_t *wtf8, size_t n, char *out) {
    uint8_t *u = (uint8_t *)out;
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp = pt_next_cp(wtf8, &i);
        char named = canon_named(cp);
        if (named) {
            u[o++] = '\\';
            u[o++] = (uint8_t)named;
        } else if (cp >= 0x20 && cp <= 0x7E) {
            u[o++] = (uint8_t)cp;
        } else if (cp < 0x100) {
            o += put_hex_escape(u + o, 'x', cp, 2);
        } else if (cp < 0x10000) {
            o += put_hex_escape(u + o, 'u', cp, 4);
        } else {
            o += put_hex_escape(u + o, 'U', cp, 8);
        }
    }
    return o;
}

size_t pt_canon_escape_bytes(const uint8_t *p, size_t n, char *out) {
    uint8_t *u = (uint8_t *)out;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char named = canon_named(p[i]);
        if (named) {
            u[o++] = '\\';
            u[o++] = (uint8_t)named;
        } else if (p[i] >= 0x20 && p[i] <= 0x7E) {
            u[o++] = p[i];
        } else {
            o += put_hex_escape(u + o, 'x', p[i], 2);
        }
    }
    return o;
}

/* Shared reader of both literal kinds. Each accepted form is the one the
 * printer writes for the value it denotes, so e.g. \x41, \u00e9, \X, \xAB
 * and a raw tab are rejected. */
static size_t canon_unescape(const char *text, size_t n, int is_str, uint8_t *out, size_t *outlen,
                             size_t *err_pos) {
    const uint8_t *t = (const uint8_t *)text;
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t c = t[i];
        if (c == '\'') {
            *outlen = o;
            return i;
        }
        if (c != '\\') {
            if (c < 0x20 || c > 0x7E) break; /* must have been escaped */
            out[o++] = c;
            i++;
            continue;
        }
        if (i + 1 >= n) break;
        int named = canon_unnamed(t[i + 1]);
        if (named >= 0) {
            out[o++] = (uint8_t)named;
            i += 2;
            continue;
        }
        int digits = 0; /* \x, and in a str \u and \U */
        if (t[i + 1] == 'x')
            digits = 2;
        else if (is_str && t[i + 1] == 'u')
            digits = 4;
        else if (is_str && t[i + 1] == 'U')
            digits = 8;
        if (digits == 0 || n - i - 2 < (size_t)digits) break;
        uint32_t cp = 0;
        int ok = 1;
        for (int k = 0; k < digits; k++) {
            int d = lowerhexval(t[i + 2 + (size_t)k]);
            if (d < 0) ok = 0;
            cp = (cp << 4) | (uint32_t)(d & 0xF);
        }
        if (digits == 2)
            ok = ok && !(cp >= 0x20 && cp <= 0x7E) && !canon_named(cp);
        else if (digits == 4)
            ok = ok && cp >= 0x100;
        else
            ok = ok && cp >= 0x10000 && cp <= 0x10FFFF;
        if (!ok) break;
        if (is_str)
            o += pt_put_cp(out + o, cp);
        else
            out[o++] = (uint8_t)cp;
        i += 2 + (size_t)digits;
    }
    /* A bad character or escape at i, or no closing quote (i == n). */
    if (err_pos) *err_pos = i;
    return (size_t)-1;
}

size_t pt_canon_unescape_str(const char *text, size_t n, uint8_t *out, size_t *outlen,
                             size_t *err_pos) {
    return canon_unescape(text, n, 1, out, outlen, err_pos);
}

size_t pt_canon_unescape_bytes(const char *text, size_t n, uint8_t *out, size_t *outlen,
                               size_t *err_pos) {
    return canon_unescape(text, n, 0, out, outlen, err_pos);
}
