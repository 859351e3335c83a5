/*
 * pytext_decode.c - PyUnicode_Decode of CPython 3.11 for ascii, latin-1
 * and utf-8 (Python 2 strs in STRING, BINSTRING, SHORT_BINSTRING), with
 * the same encoding name lookup, error handlers and laziness (see
 * pytext.h; tests/py/test_pytext_diff.py checks it against python3).
 */
#include <string.h>

#include "pytext.h"
#include "pytext_impl.h"

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
