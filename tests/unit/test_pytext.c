/*
 * test_pytext.c - explicit expectations for src/pytext*.c edge cases.
 *
 * Every expected value here is what CPython 3.11 gives for the same input
 * (see the comments); tests/py/test_pytext_diff.py covers the same
 * functions on large generated inputs against python3 itself.
 */
#include <stdint.h>
#include <string.h>

#include "pytext.h"
#include "tcheck.h"
#include "value.h"

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)
#define NOPOS  ((size_t)-1)

static const char *code_name(brine_code c) {
    switch (c) {
    case BRINE_OK: return "OK";
    case BRINE_E_UNICODE_DECODE: return "UNICODE_DECODE";
    case BRINE_E_UNICODE_ENCODE: return "UNICODE_ENCODE";
    case BRINE_E_ESCAPE: return "ESCAPE";
    case BRINE_E_UNKNOWN_ENCODING: return "UNKNOWN_ENCODING";
    case BRINE_E_UNKNOWN_ERRORS: return "UNKNOWN_ERRORS";
    case BRINE_E_HANDLER_TYPE: return "HANDLER_TYPE";
    default: return "other";
    }
}

/* Compares a decoder's result with the expectation; prints both when they
 * differ. want_pos is only compared on failure codes (NOPOS: not at all). */
static int same_result(const char *what, const uint8_t *in, size_t n, brine_code rc,
                       brine_code want_rc, const uint8_t *out, size_t outlen, const char *want,
                       size_t wantlen, size_t pos, size_t want_pos) {
    int ok = rc == want_rc;
    if (ok && rc == BRINE_OK) ok = outlen == wantlen && memcmp(out, want, wantlen) == 0;
    if (ok && rc != BRINE_OK && want_pos != NOPOS) ok = pos == want_pos;
    if (!ok) {
        fprintf(stderr, "  %s: got %s pos %zu, want %s pos %zu\n", what, code_name(rc), pos,
                code_name(want_rc), want_pos);
        tcheck_dump_("  input", in, n);
        if (rc == BRINE_OK) tcheck_dump_("  got", out, outlen);
        if (want_rc == BRINE_OK) tcheck_dump_("  want", want, wantlen);
    }
    return ok;
}

static uint8_t obuf[4096];

static int rue(const char *in, size_t n, brine_code want_rc, const char *want, size_t wantlen,
               size_t want_pos) {
    size_t len = 0, pos = NOPOS, ncp = NOPOS;
    brine_code rc = pt_raw_unicode_escape_decode((const uint8_t *)in, n, obuf, &len, &ncp, &pos);
    /* On success, ncp counts the code points of the output. */
    if (rc == BRINE_OK && ncp != wtf8_count((const char *)obuf, len)) {
        TFAIL_("raw_unicode_escape_decode: ncp %zu for %zu code points", ncp,
               wtf8_count((const char *)obuf, len));
        return 0;
    }
    return same_result("raw_unicode_escape_decode", (const uint8_t *)in, n, rc, want_rc, obuf, len,
                       want, wantlen, pos, want_pos);
}
#define RUE_OK(in, want) CHECK(rue(in, sizeof(in) - 1, BRINE_OK, want, sizeof(want) - 1, NOPOS))
#define RUE_ERR(in, pos) CHECK(rue(in, sizeof(in) - 1, BRINE_E_UNICODE_DECODE, "", 0, pos))

static int bde(const char *in, size_t n, brine_code want_rc, const char *want, size_t wantlen,
               size_t want_pos) {
    size_t len = 0, pos = NOPOS;
    brine_code rc = pt_bytes_decode_escape((const uint8_t *)in, n, obuf, &len, &pos);
    return same_result("bytes_decode_escape", (const uint8_t *)in, n, rc, want_rc, obuf, len, want,
                       wantlen, pos, want_pos);
}
#define BDE_OK(in, want) CHECK(bde(in, sizeof(in) - 1, BRINE_OK, want, sizeof(want) - 1, NOPOS))
#define BDE_ERR(in, pos) CHECK(bde(in, sizeof(in) - 1, BRINE_E_ESCAPE, "", 0, pos))

static int dec(const char *enc, const char *errs, const char *in, size_t n, brine_code want_rc,
               const char *want, size_t wantlen, size_t want_pos) {
    size_t len = 0, pos = NOPOS;
    brine_code rc = pt_decode((const uint8_t *)in, n, enc, errs, obuf, &len, &pos);
    if (len > 4 * n) return 0;
    return same_result("decode", (const uint8_t *)in, n, rc, want_rc, obuf, len, want, wantlen, pos,
                       want_pos);
}
#define DEC_OK(enc, errs, in, want)                                                                \
    CHECK(dec(enc, errs, in, sizeof(in) - 1, BRINE_OK, want, sizeof(want) - 1, NOPOS))
#define DEC_ERR(enc, errs, in, rc, pos) CHECK(dec(enc, errs, in, sizeof(in) - 1, rc, "", 0, pos))

/* --- WTF-8 --- */

static void test_utf8_check(void) {
    size_t ncp = 99, pos = 99;
    CHECK_EQ_INT(pt_utf8_check(S(""), &ncp, &pos), BRINE_OK);
    CHECK_EQ_INT(ncp, 0);
    CHECK_EQ_INT(pt_utf8_check(S("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), &ncp, &pos), BRINE_OK);
    CHECK_EQ_INT(ncp, 6);
    /* surrogatepass: encoded surrogates are accepted, alone or paired */
    CHECK_EQ_INT(pt_utf8_check(S("\xed\xa0\x80\xed\xb0\x80"), &ncp, &pos), BRINE_OK);
    CHECK_EQ_INT(ncp, 2);
    CHECK_EQ_INT(pt_utf8_check(S("\xf4\x8f\xbf\xbf"), &ncp, &pos), BRINE_OK);
    CHECK_EQ_INT(ncp, 1);
    /* the error position is the start of the invalid sequence */
    static const struct {
        const char *in;
        size_t n, pos;
    } bad[] = {
        {"\xf4\x90\x80\x80", 4, 0}, /* above U+10FFFF */
        {"a\xc0\x80", 3, 1},        /* overlong NUL */
        {"ab\xe0\x9f\xbf", 5, 2},   /* overlong 3-byte */
        {"\xf0\x8f\xbf\xbf", 4, 0}, /* overlong 4-byte */
        {"\xe1\x41", 2, 0},         /* bad continuation: the lead is reported */
        {"xy\xf0\x9f\x98", 5, 2},   /* truncated at the end */
        {"\x80", 1, 0},             /* stray continuation */
        {"\xff", 1, 0},
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xed\xa0", 2, 0}, /* truncated surrogate */
        {"\xed\xa0\x41", 3, 0},
        {"ok\xc3\xa9\xc3", 5, 4},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        pos = 99;
        CHECK_EQ_INT(pt_utf8_check((const uint8_t *)bad[k].in, bad[k].n, &ncp, &pos),
                     BRINE_E_UNICODE_DECODE);
        CHECK_EQ_INT(pos, bad[k].pos);
        pos = 99;
        CHECK_EQ_INT(pt_utf8_check_strict((const uint8_t *)bad[k].in, bad[k].n, &pos),
                     BRINE_E_UNICODE_DECODE);
        CHECK_EQ_INT(pos, bad[k].pos);
    }
    /* NULL out-pointers are allowed */
    CHECK_EQ_INT(pt_utf8_check(S("\xff"), NULL, NULL), BRINE_E_UNICODE_DECODE);
}

/* A byte-at-a-time WTF-8 check, the reference for the word-at-a-time one:
 * 0 and the code points, or 1 and the start of the bad sequence. */
static int ref_wtf8(const uint8_t *p, size_t n, size_t *ncp, size_t *pos) {
    size_t i = 0, count = 0;
    while (i < n) {
        uint8_t b = p[i];
        size_t need = b < 0x80                 ? 0
                      : b >= 0xC2 && b <= 0xDF ? 1
                      : b >= 0xE0 && b <= 0xEF ? 2
                      : b >= 0xF0 && b <= 0xF4 ? 3
                                               : 9;
        uint8_t lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        int ok = need != 9;
        for (size_t k = 1; ok && k <= need; k++) {
            if (i + k >= n)
                ok = 0;
            else if (k == 1 ? (p[i + 1] < lo || p[i + 1] > hi) : (p[i + k] & 0xC0) != 0x80)
                ok = 0;
        }
        if (!ok) {
            *pos = i;
            return 1;
        }
        i += need + 1;
        count++;
    }
    *ncp = count;
    return 0;
}

/* Mixed ASCII and 2-, 3- and 4-byte sequences, cut and corrupted, at
 * every length and alignment around the 8-byte words. */
static void test_utf8_check_words(void) {
    uint64_t s = 999;
    uint8_t buf[96];
    for (long t = 0; t < 200000; t++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t n = 0, k = s % 24;
        uint64_t r = s;
        for (size_t i = 0; i < k; i++) {
            r = r * 6364136223846793005u + 1442695040888963407u;
            uint32_t sel = (uint32_t)(r >> 61), cp;
            if (sel < 3)
                cp = (uint32_t)(r >> 20) % 0x80;
            else if (sel < 6)
                cp = 0x80 + (uint32_t)(r >> 20) % 0x780;
            else if (sel < 7)
                cp = (uint32_t)(r >> 20) % 0x10000;
            else
                cp = 0x10000 + (uint32_t)(r >> 20) % 0x100000;
            n += pt_put_cp(buf + n, cp);
        }
        if ((s >> 40) % 4 == 0 && n) n--;                        /* cut */
        if ((s >> 42) % 4 == 0 && n) buf[(s >> 20) % n] ^= 0x40; /* corrupt */
        size_t want_ncp = 0, want_pos = 0, ncp = 99, pos = 99;
        int bad = ref_wtf8(buf, n, &want_ncp, &want_pos);
        brine_code c = pt_utf8_check(buf, n, &ncp, &pos);
        if (c != (bad ? BRINE_E_UNICODE_DECODE : BRINE_OK) ||
            (bad ? pos != want_pos : ncp != want_ncp)) {
            TFAIL_("input %ld (%zu bytes): got %d ncp %zu pos %zu, want bad %d ncp %zu pos %zu", t,
                   n, (int)c, ncp, pos, bad, want_ncp, want_pos);
            break;
        }
        tcheck_checks++;
    }
}

static void test_utf8_check_strict(void) {
    size_t pos = 99;
    CHECK_EQ_INT(pt_utf8_check_strict(S("a\xed\x9f\xbf\xee\x80\x80"), &pos), BRINE_OK);
    CHECK_EQ_INT(pt_utf8_check_strict(S("ab\xed\xa0\x80"), &pos), BRINE_E_UNICODE_DECODE);
    CHECK_EQ_INT(pos, 2);
    CHECK_EQ_INT(pt_utf8_check_strict(S("\xed\xbf\xbf"), &pos), BRINE_E_UNICODE_DECODE);
    CHECK_EQ_INT(pos, 0);
}

static void test_put_next_cp(void) {
    static const struct {
        uint32_t cp;
        const char *enc;
        size_t n;
    } cases[] = {
        {0x00, "\x00", 1},
        {0x7F, "\x7f", 1},
        {0x80, "\xc2\x80", 2},
        {0x7FF, "\xdf\xbf", 2},
        {0x800, "\xe0\xa0\x80", 3},
        {0xD800, "\xed\xa0\x80", 3},
        {0xDFFF, "\xed\xbf\xbf", 3},
        {0xFFFF, "\xef\xbf\xbf", 3},
        {0x10000, "\xf0\x90\x80\x80", 4},
        {0x10FFFF, "\xf4\x8f\xbf\xbf", 4},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint8_t b[4];
        size_t n = pt_put_cp(b, cases[k].cp), i = 0;
        CHECK_EQ_MEM(b, n, cases[k].enc, cases[k].n);
        CHECK_EQ_U64(pt_next_cp((const uint8_t *)cases[k].enc, &i), cases[k].cp);
        CHECK_EQ_INT(i, cases[k].n);
    }
}

/* --- escape decoders --- */

static void test_raw_unicode_escape_decode(void) {
    RUE_OK("", "");
    RUE_OK("a\xe9\xff", "a\xc3\xa9\xc3\xbf"); /* bytes are Latin-1 */
    RUE_OK("\\u00e9\\u20AC", "\xc3\xa9\xe2\x82\xac");
    RUE_OK("\\U0001F600\\U0010ffff", "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
    RUE_OK("\\ud800\\udc00", "\xed\xa0\x80\xed\xb0\x80"); /* not joined into a pair */
    RUE_OK("\\\\u1234", "\\\\u1234");                     /* an even run is not an escape */
    RUE_OK("\\\\\\u1234", "\\\\\xe1\x88\xb4");
    RUE_OK("\\", "\\"); /* a final backslash is kept */
    RUE_OK("a\\", "a\\");
    RUE_OK("\\x41\\n\\N{DASH}", "\\x41\\n\\N{DASH}");
    RUE_OK("\\\xff", "\\\xc3\xbf");
    RUE_ERR("\\u", 0);
    RUE_ERR("\\u12", 0);
    RUE_ERR("ab\\u12g4", 2);
    RUE_ERR("\\U0010fff", 0);
    RUE_ERR("x\\U00110000", 1);
    RUE_ERR("\\Uffffffff", 0);
    RUE_ERR("\\u00e9\\U", 6);
}

static void test_bytes_decode_escape(void) {
    BDE_OK("", "");
    BDE_OK("\\n\\t\\r\\a\\b\\f\\v\\\\\\'\\\"", "\n\t\r\a\b\f\v\\'\"");
    BDE_OK("\\0", "\0");
    BDE_OK("\\08", "\0"
                   "8");
    BDE_OK("\\101\\1234", "A\x53"
                          "4");
    BDE_OK("\\777\\400\\377", "\xff\x00\xff"); /* 3.11 keeps the low 8 bits */
    BDE_OK("\\x41\\xfF\\x00", "A\xff\x00");
    BDE_OK("\\q\\u1234\\N\\\xff\\8", "\\q\\u1234\\N\\\xff\\8"); /* unknown: kept */
    BDE_OK("a\\\nb", "ab");                                     /* line continuation */
    BDE_OK("\\\\x41", "\\x41");
    BDE_ERR("\\x", 0);
    BDE_ERR("\\x4", 0);
    BDE_ERR("ab\\x4g", 2); /* "invalid \x escape at position 2" */
    BDE_ERR("\\xg1", 0);
    BDE_ERR("\\", 0); /* "Trailing \ in string" */
    BDE_ERR("abc\\", 3);
    BDE_ERR("\\x41\\", 4);
    BDE_ERR("\\\\\\", 2);
}

/* --- PyUnicode_Decode --- */

static void test_decode_codecs(void) {
    /* NULL encoding and errors: the unpickler defaults, ASCII and strict */
    DEC_OK(NULL, NULL, "abc", "abc");
    DEC_ERR(NULL, NULL, "ab\xe9", BRINE_E_UNICODE_DECODE, 2);
    DEC_ERR("ascii", "strict", "\x80", BRINE_E_UNICODE_DECODE, 0);
    DEC_OK("latin-1", "strict", "\xe9\xff\x00", "\xc3\xa9\xc3\xbf\x00");
    DEC_OK("utf-8", "strict", "\xc3\xa9\xf0\x9f\x98\x80", "\xc3\xa9\xf0\x9f\x98\x80");
    DEC_ERR("utf-8", "strict", "ab\xed\xa0\x80", BRINE_E_UNICODE_DECODE, 2);
    DEC_ERR("utf-8", "strict", "ab\xe1\x80", BRINE_E_UNICODE_DECODE, 2);
}

static void test_decode_handlers(void) {
    /* replace: one U+FFFD per maximal invalid subpart */
    DEC_OK("utf-8", "replace", "a\xed\xa0\x80z", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
    DEC_OK("utf-8", "replace", "\xe1\x80", "\xef\xbf\xbd");
    DEC_OK("utf-8", "replace", "\xf0\x9f\x98", "\xef\xbf\xbd");
    DEC_OK("utf-8", "replace", "\xed\xa0", "\xef\xbf\xbd\xef\xbf\xbd");
    DEC_OK("utf-8", "replace", "\xf4\x90\x80\x80",
           "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    DEC_OK("utf-8", "replace", "\xe1\x80\x41", "\xef\xbf\xbd\x41");
    DEC_OK("ascii", "replace", "\x80\xff", "\xef\xbf\xbd\xef\xbf\xbd");
    /* surrogateescape: U+DC00 + byte for each byte of the subpart */
    DEC_OK("utf-8", "surrogateescape", "\xe1\x80z", "\xed\xb3\xa1\xed\xb2\x80z");
    DEC_OK("ascii", "surrogateescape", "\x80", "\xed\xb2\x80");
    /* backslashreplace: \xhh per byte, lowercase */
    DEC_OK("utf-8", "backslashreplace", "\xe1\x80", "\\xe1\\x80");
    DEC_OK("ascii", "backslashreplace", "a\xFF", "a\\xff");
    DEC_OK("utf-8", "ignore",
           "a\xff"
           "b\xc3",
           "ab");
    DEC_OK("ascii", "ignore",
           "\x80"
           "a\x81",
           "a");
    /* surrogatepass: utf-8 decodes encoded surrogates, nothing else */
    DEC_OK("utf-8", "surrogatepass", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xa0\x80\xed\xbf\xbf");
    DEC_ERR("utf-8", "surrogatepass", "\xed\xa0", BRINE_E_UNICODE_DECODE, 0);
    DEC_ERR("utf-8", "surrogatepass", "x\xc0\x80", BRINE_E_UNICODE_DECODE, 1);
    DEC_ERR("utf-8", "surrogatepass", "\xe0\x80\x80", BRINE_E_UNICODE_DECODE, 0);
    /* ... and with ascii it re-raises the UnicodeDecodeError */
    DEC_ERR("ascii", "surrogatepass", "a\x80", BRINE_E_UNICODE_DECODE, 1);
    DEC_ERR("ascii", "surrogatepass", "a\xed\xa0\x80", BRINE_E_UNICODE_DECODE, 1);
    /* handlers are looked up at the first error only, by exact name */
    DEC_OK("ascii", "bogus", "abc", "abc");
    DEC_ERR("ascii", "bogus", "ab\x80", BRINE_E_UNKNOWN_ERRORS, NOPOS);
    DEC_ERR("utf-8", "Strict", "\xff", BRINE_E_UNKNOWN_ERRORS, NOPOS);
    DEC_ERR("utf-8", "", "\xff", BRINE_E_UNKNOWN_ERRORS, NOPOS);
    DEC_OK("latin-1", "bogus", "\xff", "\xc3\xbf"); /* latin-1 never fails */
    /* CPython: TypeError "don't know how to handle UnicodeDecodeError" */
    DEC_OK("ascii", "xmlcharrefreplace", "abc", "abc");
    DEC_ERR("ascii", "xmlcharrefreplace", "\x80", BRINE_E_HANDLER_TYPE, NOPOS);
    DEC_ERR("utf-8", "namereplace", "\x80", BRINE_E_HANDLER_TYPE, NOPOS);
}

static void test_decode_names(void) {
    static const char *const yes[] = {
        "ascii",
        "ASCII",
        "us-ascii",
        "US_ASCII",
        "646",
        "us",
        "csASCII",
        "us.ascii",
        "ANSI_X3.4-1968",
        "ansi x3.4 1986",
        "iso_646.irv:1991",
        "latin-1",
        "latin_1",
        "Latin-1",
        "latin1",
        "LATIN",
        "iso8859-1",
        "ISO-8859-1",
        "iso_8859_1_1987",
        "ISO_8859-1:1987",
        "L1",
        "cp819",
        "IBM819",
        "8859",
        "iso8859.1",
        "utf-8",
        "UTF8",
        "utf_8",
        " utf-8 ",
        "u8",
        "U8",
        "utf",
        "cp65001",
        "utf8_ucs4",
        "UTF-8\xc3\xa9",
        "\xc3\xa9utf--8",
        "utf 8",
        "_utf_8_",
        "                                        utf-8                          ",
    };
    static const char *const no[] = {
        "",
        " ",
        "-",
        "utf.8",
        "latin.1",
        "ascii.",
        ".ascii",
        "ansi_x3_4_1986",
        "utf-8-sig",
        "utf-16",
        "utf_32",
        "cp1252",
        "hex",
        "base64",
        "bytes",
        "Bytes",
        "aliases",
        "mbcs",
        "utf8x",
        "u 8x",
        "asciiasciiasciiasciiasciiasciiasciiascii",
        "ut f8",
        "lat in1",
    };
    for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++) {
        if (!pt_encoding_supported(yes[k])) TFAIL_("expected supported: \"%s\"", yes[k]);
        tcheck_checks++;
    }
    for (size_t k = 0; k < sizeof no / sizeof no[0]; k++) {
        if (pt_encoding_supported(no[k])) TFAIL_("expected unsupported: \"%s\"", no[k]);
        tcheck_checks++;
    }
    CHECK_EQ_INT(pt_encoding_supported(NULL), 1);
    DEC_OK("L1", "strict", "\xe9", "\xc3\xa9");
    DEC_ERR("ANSI_X3.4-1968", "strict", "\xe9", BRINE_E_UNICODE_DECODE, 0);
    DEC_ERR("u8", "strict", "a\xe9", BRINE_E_UNICODE_DECODE, 1);
    /* unknown encodings fail, except on empty input, where CPython returns
     * '' before looking the name up */
    DEC_ERR("bogus", "strict", "a", BRINE_E_UNKNOWN_ENCODING, NOPOS);
    DEC_ERR("cp1252", "bogus", "a", BRINE_E_UNKNOWN_ENCODING, NOPOS);
    DEC_OK("bogus", "bogus", "", "");
    DEC_OK("utf-8-sig", "strict", "", "");
}

static void test_latin1_encode(void) {
    uint8_t out[16];
    size_t len = 0;
    CHECK_EQ_INT(pt_latin1_encode(S("a\xc3\xa9\xc3\xbf\x00"), out, &len), BRINE_OK);
    CHECK_EQ_MEM(out, len, "a\xe9\xff\x00", 4);
    CHECK_EQ_INT(pt_latin1_encode(S(""), out, &len), BRINE_OK);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(pt_latin1_encode(S("a\xc4\x80"), out, &len), BRINE_E_UNICODE_ENCODE);
    CHECK_EQ_INT(pt_latin1_encode(S("\xed\xa0\x80"), out, &len), BRINE_E_UNICODE_ENCODE);
}

static void test_raw_unicode_escape_encode(void) {
    /* pickle.dumps('a\\\0\n\r\x1a\x7f\xe9\u0100\U0001f600\ud800', 0)[1:-5] */
    static const char in[] = "a\\\x00\n\r\x1a\x7f\xc3\xa9\xc4\x80\xf0\x9f\x98\x80\xed\xa0\x80";
    static const char want[] =
        "a\\u005c\\u0000\\u000a\\u000d\\u001a\x7f\xe9\\u0100\\U0001f600\\ud800";
    uint8_t out[200];
    size_t len = pt_raw_unicode_escape_encode((const uint8_t *)in, sizeof in - 1, out);
    CHECK_EQ_MEM(out, len, want, sizeof want - 1);
    CHECK_EQ_INT(pt_raw_unicode_escape_encode(S(""), out), 0);
}

/* --- canonical text --- */

static void test_canon_escape(void) {
    static const char in[] =
        "a'\\\t\n\r\x00\x7f\"~ \xc3\xa9\xc4\x80\xf0\x9f\x98\x80\xed\xa0\x80\xf4\x8f\xbf\xbf";
    static const char want[] = "a\\'\\\\\\t\\n\\r\\x00\\x7f\"~ \\xe9\\u0100\\U0001f600\\ud800"
                               "\\U0010ffff";
    char out[300];
    size_t len = pt_canon_escape_str((const uint8_t *)in, sizeof in - 1, out);
    CHECK_EQ_MEM(out, len, want, sizeof want - 1);

    static const char bin[] = "\x00'\\\"\xff\t\n\r ~\x7f\x80";
    static const char bwant[] = "\\x00\\'\\\\\"\\xff\\t\\n\\r ~\\x7f\\x80";
    len = pt_canon_escape_bytes((const uint8_t *)bin, sizeof bin - 1, out);
    CHECK_EQ_MEM(out, len, bwant, sizeof bwant - 1);
}

static int unesc(int is_str, const char *text, size_t n, size_t want_used, const char *want,
                 size_t wantlen, size_t want_pos) {
    size_t len = 0, pos = NOPOS;
    size_t used = is_str ? pt_canon_unescape_str(text, n, obuf, &len, &pos)
                         : pt_canon_unescape_bytes(text, n, obuf, &len, &pos);
    int ok = used == want_used;
    if (ok && used != (size_t)-1) ok = len == wantlen && memcmp(obuf, want, len) == 0;
    if (ok && used == (size_t)-1) ok = pos == want_pos;
    if (!ok) {
        fprintf(stderr, "  canon_unescape_%s: used %zu pos %zu, want used %zu pos %zu\n",
                is_str ? "str" : "bytes", used, pos, want_used, want_pos);
        tcheck_dump_("  text", text, n);
    }
    return ok;
}
#define UNESC_OK(is_str, text, used, want)                                                         \
    CHECK(unesc(is_str, text, sizeof(text) - 1, used, want, sizeof(want) - 1, NOPOS))
#define UNESC_ERR(is_str, text, pos)                                                               \
    CHECK(unesc(is_str, text, sizeof(text) - 1, (size_t)-1, "", 0, pos))

static void test_canon_unescape(void) {
    UNESC_OK(1, "'", 0, "");
    UNESC_OK(1, "abc'", 3, "abc");
    UNESC_OK(1, "a\\'b'rest'", 4, "a'b");
    UNESC_OK(1, "\"'", 1, "\"");
    UNESC_OK(1, "\\t\\n\\r\\\\'", 8, "\t\n\r\\");
    UNESC_OK(1, "\\xe9\\x00\\x7f'", 12, "\xc3\xa9\x00\x7f");
    UNESC_OK(1, "\\u0100\\ud800'", 12, "\xc4\x80\xed\xa0\x80");
    UNESC_OK(1, "\\U0010ffff'", 10, "\xf4\x8f\xbf\xbf");
    UNESC_ERR(1, "\\x41'", 0);       /* printer writes A */
    UNESC_ERR(1, "ab\\x09'", 2);     /* printer writes \t */
    UNESC_ERR(1, "\\x5c'", 0);       /* printer writes \\ */
    UNESC_ERR(1, "\\xE9'", 0);       /* uppercase hex */
    UNESC_ERR(1, "\\u00e9'", 0);     /* printer writes \xe9 */
    UNESC_ERR(1, "\\U0000ffff'", 0); /* printer writes \uffff */
    UNESC_ERR(1, "\\U00110000'", 0);
    UNESC_ERR(1, "abc", 3); /* no closing quote */
    UNESC_ERR(1, "", 0);
    UNESC_ERR(1, "a\tb'", 1);
    UNESC_ERR(1, "a\xc3\xa9'", 1);
    UNESC_ERR(1, "\\q'", 0);
    UNESC_ERR(1, "\\\"'", 0);
    UNESC_ERR(1, "x\\", 1);
    UNESC_ERR(1, "\\x4'", 0);
    UNESC_ERR(1, "\\u01'", 0);

    UNESC_OK(0, "\\xff\\x00'", 8, "\xff\x00");
    UNESC_OK(0, "\\t\\n\\r\\\\\\''", 10, "\t\n\r\\'");
    UNESC_ERR(0, "\\u0100'", 0);
    UNESC_ERR(0, "\\U00010000'", 0);
    UNESC_ERR(0, "\\x41'", 0);
    UNESC_ERR(0, "\\x0a'", 0);
    UNESC_ERR(0, "a\x80'", 1);
}

int main(void) {
    TRUN(test_utf8_check);
    TRUN(test_utf8_check_words);
    TRUN(test_utf8_check_strict);
    TRUN(test_put_next_cp);
    TRUN(test_raw_unicode_escape_decode);
    TRUN(test_bytes_decode_escape);
    TRUN(test_decode_codecs);
    TRUN(test_decode_handlers);
    TRUN(test_decode_names);
    TRUN(test_latin1_encode);
    TRUN(test_raw_unicode_escape_encode);
    TRUN(test_canon_escape);
    TRUN(test_canon_unescape);
    return TDONE();
}
