/*
 * decode_scalar.c - opcodes that push numbers, strings, bytes and buffers.
 *
 * Text arguments (INT, LONG, FLOAT, STRING, UNICODE) reach CPython as a
 * NUL-terminated copy of the line, so a NUL byte ends the text the number
 * parsers see; the helpers in bigint.c and pyfloat_parse.c take that into account.
 */
#include <string.h>

#include "bigint.h"
#include "decode.h"
#include "pyfloat.h"
#include "pytext.h"

/* INT: strtol(s, &end, 0) first; on overflow or trailing junk, Python's
 * int(s, 0). A three-byte line that strtol reads as 0 or 1 is a bool. */
int op_int(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    int64_t x;
    int is_bool;
    /* What the pickler writes first (the line ends at its newline). */
    if (int_line_pickler(line, len, &x, &is_bool) == len)
        return dec_push(d, is_bool ? (x ? &d->doc->t : &d->doc->f) : val_int64(d->doc, x));
    size_t consumed;
    int erange = bi_strtol0((const char *)line, len, &x, &consumed);
    uint8_t end = consumed < len ? line[consumed] : 0;
    if (!erange && (end == '\n' || end == 0)) {
        if (len == 3 && (x == 0 || x == 1)) return dec_push(d, x ? &d->doc->t : &d->doc->f);
        return dec_push(d, val_int64(d->doc, x));
    }
    uint32_t *limbs = arena_alloc(&d->doc->arena, bi_text_limbs(len) * sizeof *limbs);
    if (!limbs) return dec_nomem(d);
    bi v;
    if (bi_parse_py((const char *)line, len, 0, limbs, &v, &consumed) != BI_OK)
        return dec_fail(d, BRINE_E_INT_PARSE);
    return dec_push(d, val_int_limbs(d->doc, v.limbs, v.n, v.neg));
}

/* LONG: Python's int(s, 0) after dropping one trailing 'L'. */
int op_long(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    size_t text_len = line[len - 2] == 'L' ? len - 2 : len;
    uint32_t *limbs = arena_alloc(&d->doc->arena, bi_text_limbs(len) * sizeof *limbs);
    if (!limbs) return dec_nomem(d);
    bi v;
    size_t consumed;
    switch (bi_parse_py((const char *)line, text_len, 0, limbs, &v, &consumed)) {
    case BI_OK: return dec_push(d, val_int_limbs(d->doc, v.limbs, v.n, v.neg));
    case BI_TOO_MANY_DIGITS: return dec_fail(d, BRINE_E_INT_DIGITS);
    default:
        /* CPython decodes the text for its message, which can fail first. */
        if (bi_invalid_literal_is_unicode_error((const char *)line, text_len))
            return dec_fail(d, BRINE_E_UNICODE_DECODE);
        return dec_fail_msg(d, BRINE_E_LONG_PARSE, "invalid literal for int() with base 0");
    }
}

/* LONG1, LONG4: little-endian two's complement with a byte count. */
int op_counted_long(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    if (!p) return -1;
    int64_t size = nbytes == 1 ? p[0] : (int32_t)(uint32_t)load_le(p, 4);
    if (size < 0) return dec_fail(d, BRINE_E_LONG_NEGATIVE);
    if (size == 0) return dec_push(d, val_int64(d->doc, 0));
    const uint8_t *data = dec_read(d, (size_t)size);
    if (!data) return -1;
    uint32_t *limbs = arena_alloc(&d->doc->arena, bi_bytes_limbs((size_t)size) * sizeof *limbs);
    if (!limbs) return dec_nomem(d);
    bi v;
    bi_from_le_bytes(data, (size_t)size, limbs, &v);
    return dec_push(d, val_int_limbs(d->doc, v.limbs, v.n, v.neg));
}

/* FLOAT: PyOS_string_to_double, then only '\n' or the end may follow. */
int op_float(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    double x;
    switch (float_line(line, len, &x)) {
    case PYF_OK: break;
    case PYF_OVERFLOW: return dec_fail(d, BRINE_E_FLOAT_OVERFLOW);
    default: return dec_fail(d, BRINE_E_FLOAT_PARSE);
    }
    return dec_push(d, val_float_bits(d->doc, pyfloat_bits(x)));
}

int op_binfloat(decoder *d) {
    const uint8_t *p = dec_read(d, 8);
    if (!p) return -1;
    return dec_push(d, val_float_bits(d->doc, load_be64(p)));
}

/* A Python 2 str: bytes under encoding="bytes", else decoded text. The
 * bytes come from a copying constructor, so short ones are shared. */
static int push_py2_string(decoder *d, const uint8_t *p, size_t n) {
    if (d->encoding_is_bytes) return dec_push(d, val_bytes_copy(d->doc, p, n));
    if (n > (SIZE_MAX - 16) / 4) return dec_fail(d, BRINE_E_NOMEM);
    uint8_t *out = arena_alloc(&d->doc->arena, 4 * n + 1);
    if (!out) return dec_nomem(d);
    size_t outlen, pos;
    const char *encoding = d->opts->encoding ? d->opts->encoding : "ASCII";
    const char *errors = d->opts->errors ? d->opts->errors : "strict";
    brine_code code = pt_decode(p, n, encoding, errors, out, &outlen, &pos);
    if (code != BRINE_OK) return dec_fail(d, code);
    return dec_push(d, val_str_owned(d->doc, (const char *)out, outlen,
                                     wtf8_count((const char *)out, outlen), 0));
}

/* STRING: a quoted, backslash-escaped Python 2 literal on one line. */
int op_string(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    len--; /* the newline */
    if (!(len >= 2 && line[0] == line[len - 1] && (line[0] == '\'' || line[0] == '"')))
        return dec_fail(d, BRINE_E_STRING_QUOTES);
    uint8_t *raw = arena_alloc(&d->doc->arena, len);
    if (!raw) return dec_nomem(d);
    size_t rawlen, pos;
    brine_code code = pt_bytes_decode_escape(line + 1, len - 2, raw, &rawlen, &pos);
    if (code != BRINE_OK) return dec_fail(d, code);
    return push_py2_string(d, raw, rawlen);
}

int op_counted_binstring(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    if (!p) return -1;
    size_t size = (size_t)load_le(p, nbytes);
    const uint8_t *data = dec_read(d, size);
    return data ? push_py2_string(d, data, size) : -1;
}

/* UNICODE: raw-unicode-escape text up to the newline. A short line is
 * decoded on the stack and copied, so that the arena holds only the
 * text's bytes rather than the 2n bound. */
int op_unicode(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    size_t n = len - 1, outlen, ncp, pos;
    uint8_t small[2 * 128];
    int on_stack = n <= sizeof small / 2;
    uint8_t *out = on_stack ? small : arena_alloc(&d->doc->arena, 2 * n + 1);
    if (!out) return dec_nomem(d);
    brine_code code = pt_raw_unicode_escape_decode(line, n, out, &outlen, &ncp, &pos);
    if (code != BRINE_OK) return dec_fail(d, code);
    if (on_stack) return dec_push(d, val_str_copy(d->doc, (const char *)out, outlen, ncp));
    return dec_push(d, val_str_owned(d->doc, (const char *)out, outlen, ncp, 0));
}

/* A length argument of BINUNICODE8, BINBYTES8, BYTEARRAY8: must fit ssize_t. */
DEC_HOT int counted_size(decoder *d, int nbytes, size_t *size, const char *overflow_msg) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    if (!p) return -1;
    uint64_t x = load_le(p, nbytes);
    if (x > (uint64_t)INT64_MAX) return dec_fail_msg(d, BRINE_E_SIZE_OVERFLOW, overflow_msg);
    *size = (size_t)x;
    return 0;
}

/* SHORT_BINUNICODE, BINUNICODE, BINUNICODE8: UTF-8 with surrogates allowed. */
DEC_HOT int counted_binunicode(decoder *d, int nbytes) {
    size_t size = 0;
    if (counted_size(d, nbytes, &size, "BINUNICODE exceeds system's maximum size") < 0) return -1;
    const uint8_t *data = dec_read(d, size);
    if (!data) return -1;
    size_t ncp, pos;
    brine_code code = pt_utf8_check(data, size, &ncp, &pos);
    if (code != BRINE_OK) return dec_fail(d, code);
    if (d->opts->zero_copy)
        return dec_push(d, val_str_owned(d->doc, (const char *)data, size, ncp, 1));
    return dec_push(d, val_str_copy(d->doc, (const char *)data, size, ncp));
}

/* SHORT_BINBYTES, BINBYTES, BINBYTES8: fresh bytes objects in CPython. */
DEC_HOT int counted_binbytes(decoder *d, int nbytes) {
    size_t size = 0;
    if (counted_size(d, nbytes, &size, "BINBYTES exceeds system's maximum size") < 0) return -1;
    /* CPython allocates the bytes object first, and refuses sizes whose
     * object would not fit in Py_ssize_t (its header is 33 bytes). */
    if (size > (size_t)INT64_MAX - 33)
        return dec_fail_msg(d, BRINE_E_SIZE_OVERFLOW, "byte string is too large");
    const uint8_t *data = dec_readinto(d, size);
    if (!data) return -1;
    return dec_push(d, val_bytes_fresh(d->doc, data, size, d->opts->zero_copy));
}

/* One inlined copy per width: reading the length is then a plain load. */
int op_counted_binunicode(decoder *d, int nbytes) {
    switch (nbytes) {
    case 1: return counted_binunicode(d, 1);
    case 4: return counted_binunicode(d, 4);
    default: return counted_binunicode(d, 8);
    }
}

int op_counted_binbytes(decoder *d, int nbytes) {
    switch (nbytes) {
    case 1: return counted_binbytes(d, 1);
    case 4: return counted_binbytes(d, 4);
    default: return counted_binbytes(d, 8);
    }
}

int op_bytearray8(decoder *d) {
    size_t size = 0;
    if (counted_size(d, 8, &size, "BYTEARRAY8 exceeds system's maximum size") < 0) return -1;
    const uint8_t *data = dec_readinto(d, size);
    if (!data) return -1;
    return dec_push(d, val_bytearray(d->doc, data, size));
}

int op_next_buffer(decoder *d) {
    if (!d->opts->has_buffers) return dec_fail(d, BRINE_E_NO_BUFFERS);
    if (d->next_buffer >= d->opts->nbuffers) return dec_fail(d, BRINE_E_FEW_BUFFERS);
    const brine_buffer *b = &d->opts->buffers[d->next_buffer];
    brine_value *v = val_new(d->doc, BRINE_PICKLEBUFFER);
    if (!v) return dec_nomem(d);
    v->u.pb.p = b->data;
    v->u.pb.n = b->len;
    v->u.pb.index = d->next_buffer++;
    if (b->readonly) v->flags |= VF_READONLY;
    return dec_push(d, v);
}

/* READONLY_BUFFER: a read-only memoryview replaces a writable buffer; read-
 * only buffers stay as they are; anything else is not a buffer. */
int op_readonly_buffer(decoder *d) {
    if (d->sp <= d->fence) return dec_underflow(d);
    brine_value *obj = d->stack[d->sp - 1];
    switch (obj->kind) {
    case BRINE_BYTES:
    case BRINE_READONLY_VIEW: return 0;
    case BRINE_PICKLEBUFFER:
        if (obj->flags & VF_READONLY) return 0;
        break;
    case BRINE_BYTEARRAY: obj->flags |= VF_EXPORTED; break;
    default: return dec_fail(d, BRINE_E_NOT_BUFFER);
    }
    brine_value *view = val_new(d->doc, BRINE_READONLY_VIEW);
    if (!view) return dec_nomem(d);
    view->u.view.target = obj;
    d->stack[d->sp - 1] = view;
    return 0;
}
