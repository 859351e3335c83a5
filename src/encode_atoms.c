/*
 * encode_atoms.c - the pickler's leaves: save_none's neighbours save_bool,
 * save_long, save_float, save_unicode, the bytes and bytearray payloads of
 * _save_bytes_data and _save_bytearray_data, save_picklebuffer, and
 * save_pers at protocol 0.
 *
 * Each function writes exactly what CPython 3.11's C pickler writes for the
 * same value, including its choice of the smallest opcode, and fails with
 * the exception class CPython raises.
 */
#include <string.h>

#include "bigint.h"
#include "encode.h"
#include "encode_memo.h"
#include "pyfloat.h"
#include "pytext.h"

static const char int_digits_msg[] =
    "Exceeds the limit (4300 digits) for integer string conversion; use "
    "sys.set_int_max_str_digits() to increase the limit";

static void put_le(uint8_t *p, uint64_t x, int n) {
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

int enc_save_bool(encoder *e, const brine_value *v) {
    if (e->proto >= 2) return out_byte(e, v->u.boolean ? OP_NEWTRUE : OP_NEWFALSE);
    /* Protocols 0 and 1 have no bool opcode: INT with a leading zero. */
    return out_write(e, v->u.boolean ? "I01\n" : "I00\n", 4);
}

/* repr(int) of any size, with CPython's 4300-digit limit. Returns the text
 * in memory from the encoder's allocator (freed by the caller with *cap),
 * or NULL after enc_fail. */
static char *int_decimal(encoder *e, const brine_value *v, size_t *len, size_t *cap) {
    uint32_t tmp[2];
    bi x;
    val_int_view(v, tmp, &x);
    /* One block: the text, then (4-byte aligned) the scratch limbs. */
    size_t text_room = (bi_decimal_size(&x) + 3) & ~(size_t)3;
    size_t size = text_room + (x.n + 1) * sizeof(uint32_t);
    char *buf = e->alloc.malloc(e->alloc.ctx, size);
    if (!buf) {
        enc_fail(e, BRINE_E_NOMEM, NULL);
        return NULL;
    }
    *len = bi_to_decimal(&x, BI_MAX_STR_DIGITS, buf, (uint32_t *)(void *)(buf + text_room));
    *cap = size;
    if (*len == 0) {
        e->alloc.free(e->alloc.ctx, buf, size);
        enc_fail(e, BRINE_E_ENCODE_VALUE, int_digits_msg);
        return NULL;
    }
    return buf;
}

int enc_save_int(encoder *e, const brine_value *v) {
    if (!(v->flags & VF_BIG) && v->u.i >= INT32_MIN && v->u.i <= INT32_MAX) {
        if (e->proto == 0) {
            int64_t x = v->u.i;
            return enc_write_decimal_line(e, OP_INT, x < 0, x < 0 ? 0 - (uint64_t)x : (uint64_t)x);
        }
        /* Five bytes reserved, the unused ones given back: no copy. */
        uint32_t u = (uint32_t)v->u.i;
        uint8_t *p = out_reserve(e, 5);
        if (!p) return -1;
        put_le(p + 1, u, 4);
        if (u >> 16) {
            p[0] = OP_BININT;
        } else if (u >> 8) {
            p[0] = OP_BININT2;
            e->len -= 2;
        } else {
            p[0] = OP_BININT1;
            e->len -= 3;
        }
        return 0;
    }
    if (e->proto >= 2) {
        uint32_t tmp[2];
        bi x;
        val_int_view(v, tmp, &x);
        /* CPython sizes its buffer as bit_length // 8 + 1 before trimming a
         * redundant sign byte, and refuses anything past 2**31 - 1 bytes. */
        if (bi_bit_length(&x) / 8 + 1 > 0x7fffffffu)
            return enc_fail(e, BRINE_E_ENCODE_OVERFLOW, "int too large to pickle");
        size_t nbytes = bi_to_le_bytes(&x, NULL, 0);
        uint8_t h[5];
        if (nbytes < 256) {
            h[0] = OP_LONG1;
            h[1] = (uint8_t)nbytes;
            if (out_write(e, h, 2) < 0) return -1;
        } else {
            h[0] = OP_LONG4;
            put_le(h + 1, nbytes, 4);
            if (out_write(e, h, 5) < 0) return -1;
        }
        uint8_t *p = out_reserve(e, nbytes);
        if (!p) return -1;
        bi_to_le_bytes(&x, p, nbytes);
        return 0;
    }
    /* Protocols 0 and 1: repr() and a Python 2 style 'L'. */
    size_t len, cap;
    char *text = int_decimal(e, v, &len, &cap);
    if (!text) return -1;
    int rc = out_byte(e, OP_LONG);
    if (rc == 0) rc = out_write(e, text, len);
    if (rc == 0) rc = out_write(e, "L\n", 2);
    e->alloc.free(e->alloc.ctx, text, cap);
    return rc;
}

int enc_save_float_bits(encoder *e, uint64_t bits) {
    if (e->proto >= 1) {
        /* PyFloat_Pack8 copies the IEEE bits, NaN payloads included. */
        uint8_t *b = out_reserve(e, 9);
        if (!b) return -1;
        b[0] = OP_BINFLOAT;
        /* Spelled out: compilers merge these into one byte-swapped store. */
        b[1] = (uint8_t)(bits >> 56);
        b[2] = (uint8_t)(bits >> 48);
        b[3] = (uint8_t)(bits >> 40);
        b[4] = (uint8_t)(bits >> 32);
        b[5] = (uint8_t)(bits >> 24);
        b[6] = (uint8_t)(bits >> 16);
        b[7] = (uint8_t)(bits >> 8);
        b[8] = (uint8_t)bits;
        return 0;
    }
    char text[PYFLOAT_REPR_MAX];
    size_t n = pyfloat_repr(pyfloat_from_bits(bits), text);
    if (out_byte(e, OP_FLOAT) < 0 || out_write(e, text, n) < 0) return -1;
    return out_byte(e, '\n');
}

/* A byte raw-unicode-escape (as the pickler uses it) writes as is:
 * printable ASCII but the backslash. Every byte of a longer code point is
 * >= 0x80, so runs of the others never split one. */
static int plain_ascii(uint8_t c) {
    return c >= 0x20 && c < 0x80 && c != '\\';
}

/* Protocol 0 UNICODE: raw-unicode-escape, converted in slices that end on
 * code point boundaries so that no buffer grows with the string. */
static int write_raw_unicode_escape(encoder *e, const uint8_t *p, size_t n) {
    enum { SLICE = 4096 };
    size_t i = 0;
    while (i < n) {
        size_t end = n - i > SLICE ? i + SLICE : n, from_slice = i;
        while (end < n && (p[end] & 0xC0) == 0x80)
            end++;
        uint8_t *out = out_reserve(e, 10 * (end - i));
        if (!out) return -1;
        size_t used = 0;
        while (i < end) {
            /* Plain bytes are copied here, the runs between them escaped. */
            while (i < end && plain_ascii(p[i]))
                out[used++] = p[i++];
            size_t from = i;
            while (i < end && !plain_ascii(p[i]))
                i++;
            used += pt_raw_unicode_escape_encode(p + from, i - from, out + used);
        }
        e->len -= 10 * (end - from_slice) - used; /* give back what the slice did not use */
    }
    return 0;
}

int enc_save_str(encoder *e, const brine_value *v) {
    const uint8_t *p = (const uint8_t *)v->u.s.p;
    size_t n = v->u.s.n;
    /* The stored form is the surrogatepass UTF-8 CPython writes. */
    if (n <= 0xff && e->proto >= 4) {
        if (out_write_short(e, OP_SHORT_BINUNICODE, p, n) < 0) return -1;
    } else if (e->proto >= 1) {
        uint8_t h[9];
        size_t hlen;
        if ((uint64_t)n <= 0xffffffffu) {
            h[0] = OP_BINUNICODE;
            put_le(h + 1, n, 4);
            hlen = 5;
        } else if (e->proto >= 4) {
            h[0] = OP_BINUNICODE8;
            put_le(h + 1, n, 8);
            hlen = 9;
        } else {
            return enc_fail(e, BRINE_E_ENCODE_OVERFLOW,
                            "serializing a string larger than 4 GiB requires pickle protocol 4 "
                            "or higher");
        }
        if (out_write_bytes(e, h, hlen, p, n) < 0) return -1;
    } else {
        if (out_byte(e, OP_UNICODE) < 0 || write_raw_unicode_escape(e, p, n) < 0 ||
            out_byte(e, '\n') < 0)
            return -1;
    }
    return enc_memoize(e, v);
}

int enc_save_bytes_data(encoder *e, const brine_value *key, const uint8_t *p, size_t n) {
    if (n <= 0xff) {
        if (out_write_short(e, OP_SHORT_BINBYTES, p, n) < 0) return -1;
        return enc_memoize(e, key);
    }
    uint8_t h[9];
    size_t hlen;
    if ((uint64_t)n <= 0xffffffffu) {
        h[0] = OP_BINBYTES;
        put_le(h + 1, n, 4);
        hlen = 5;
    } else if (e->proto >= 4) {
        h[0] = OP_BINBYTES8;
        put_le(h + 1, n, 8);
        hlen = 9;
    } else {
        return enc_fail(e, BRINE_E_ENCODE_OVERFLOW,
                        "serializing a bytes object larger than 4 GiB requires pickle protocol "
                        "4 or higher");
    }
    if (out_write_bytes(e, h, hlen, p, n) < 0) return -1;
    return enc_memoize(e, key);
}

int enc_save_bytearray_data(encoder *e, const brine_value *key, const uint8_t *p, size_t n) {
    uint8_t h[9];
    h[0] = OP_BYTEARRAY8;
    put_le(h + 1, n, 8);
    if (out_write_bytes(e, h, 9, p, n) < 0) return -1;
    return enc_memoize(e, key);
}

int enc_save_picklebuffer(encoder *e, const brine_value *v) {
    if (e->proto < 5)
        return enc_fail(e, BRINE_E_PICKLING, "PickleBuffer can only pickled with protocol >= 5");
    const brine_encode_options *o = e->opts;
    int in_band = 0; /* brine's buffer nodes are out-of-band unless the callback says not */
    if (o->buffer_callback) {
        in_band = o->buffer_callback(o->buffer_ctx, v);
        if (in_band < 0) return enc_fail(e, BRINE_E_PICKLING, "buffer_callback failed");
    }
    int readonly = (v->flags & VF_READONLY) != 0;
    if (!in_band) {
        uint8_t b[2] = {OP_NEXT_BUFFER, OP_READONLY_BUFFER};
        return out_write(e, b, readonly ? 2 : 1);
    }
    const uint8_t *p = v->u.pb.p;
    size_t n = v->u.pb.n;
    if (o->buffers && v->u.pb.index < o->nbuffers) {
        p = o->buffers[v->u.pb.index].data;
        n = o->buffers[v->u.pb.index].len;
    }
    if (!p && n) return enc_fail(e, BRINE_E_USAGE, "no data for an in-band buffer");
    return readonly ? enc_save_bytes_data(e, v, p, n) : enc_save_bytearray_data(e, v, p, n);
}

/* PERSID + str(pid) + '\n', for the pids whose str() brine can compute. */
int enc_save_persid0(encoder *e, const brine_value *pid) {
    static const char ascii_msg[] = "persistent IDs in protocol 0 must be ASCII strings";
    const char *text = NULL;
    size_t len = 0, cap = 0;
    char *owned = NULL;
    char local[PYFLOAT_REPR_MAX];
    switch (pid->kind) {
    case BRINE_STR:
        text = pid->u.s.p;
        len = pid->u.s.n;
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)text[i] >= 0x80) return enc_fail(e, BRINE_E_PICKLING, ascii_msg);
            /* Deliberately stricter than CPython, which writes the newline
             * and so a stream that does not read back. */
            if (text[i] == '\n')
                return enc_fail(e, BRINE_E_PICKLING,
                                "a protocol 0 persistent id cannot contain a newline");
        }
        break;
    case BRINE_BOOL:
        text = pid->u.boolean ? "True" : "False";
        len = strlen(text);
        break;
    case BRINE_INT:
        owned = int_decimal(e, pid, &len, &cap);
        if (!owned) return -1;
        text = owned;
        break;
    case BRINE_FLOAT:
        len = pyfloat_repr(pyfloat_from_bits(pid->u.fbits), local);
        text = local;
        break;
    default:
        return enc_fail(e, BRINE_E_PICKLING,
                        "protocol 0 persistent ids are written as str(pid); brine computes it "
                        "only for str, int, bool and float pids");
    }
    int rc = out_byte(e, OP_PERSID);
    if (rc == 0) rc = out_write(e, text, len);
    if (rc == 0) rc = out_byte(e, '\n');
    if (owned) e->alloc.free(e->alloc.ctx, owned, cap);
    return rc;
}
