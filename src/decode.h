/*
 * decode.h - state of the unpickling machine, shared by decode*.c and fold.c.
 *
 * The machine mirrors CPython 3.11's C unpickler (Modules/_pickle.c): one
 * object stack, a separate stack of MARK positions whose top is the
 * "fence" below which pops fail, a memo, and the protocol set by PROTO.
 * Handlers return 0 on success or -1 after dec_fail() recorded the error.
 */
#ifndef BRINE_DECODE_H
#define BRINE_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "byteorder.h"
#include "memo.h"
#include "pyfloat.h"
#include "pyops.h"
#include "reader.h"
#include "swar.h"
#include "value.h"

typedef struct ext_cache_entry {
    int32_t code;
    brine_value *value;
} ext_cache_entry;

/* A key shape (decode_object.c): keys[0..n) are pairwise distinct as
 * Python keys (each hashed, as a dict's key), and the tracked dict holds exactly
 * keys[0..pos) as its entries' keys, in order. A stream of records repeats
 * the same memoized key nodes in the same order, so each dict after the
 * first fills without a lookup. */
typedef struct key_shape {
    brine_value *keys[PY_SMALL_TABLE];
    size_t n;
    brine_value *dict; /* the tracked dict, or NULL */
    size_t pos;
} key_shape;

/* 1 when the keys of the k (key, value) pairs at kv are the shape's
 * first k keys. */
static inline int shape_predicts(const key_shape *s, brine_value *const *kv, size_t k) {
    if (k > s->n) return 0;
    for (size_t i = 0; i < k; i++)
        if (kv[2 * i] != s->keys[i]) return 0;
    return 1;
}

typedef struct decoder {
    brine_doc *doc;
    const brine_decode_options *opts;
    reader r;
    size_t op_offset; /* offset of the opcode being executed */

    brine_value **stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t nmarks, marks_cap;
    size_t fence; /* position of the top MARK, or 0 */

    memo memo;
    int proto;
    size_t next_buffer;
    int encoding_is_bytes;

    ext_cache_entry *ext_cache;
    size_t next_cache;

    key_shape shape;
    /* fold_call's last callable and its row in the fold table: records
     * call the same interned global over and over. */
    const brine_value *fold_callable;
    size_t fold_row;

    size_t scratch_bytes; /* stack, marks and memo memory, for max_memory */
    brine_code code;
    const char *msg;
} decoder;

/* The hottest handlers are forced inline where their argument width is a
 * constant (dec_run() is too big for the compiler to choose that itself), and
 * rare slow paths are kept out of line. */
#if defined(__GNUC__) || defined(__clang__)
#define DEC_HOT      static inline __attribute__((always_inline))
#define DEC_NOINLINE __attribute__((noinline))
#else
#define DEC_HOT static inline
#define DEC_NOINLINE
#endif

/* Records the failure of the current opcode; always returns -1. */
int dec_fail(decoder *d, brine_code code);
int dec_fail_msg(decoder *d, brine_code code, const char *msg);
/* A failed allocation in the document's arena. */
int dec_nomem(decoder *d);

/* Stack primitives with CPython's checks. */
int dec_push_slow(decoder *d, brine_value *v);
static inline int dec_push(decoder *d, brine_value *v) {
    if (v && d->sp < d->stack_cap) {
        d->stack[d->sp++] = v;
        return 0;
    }
    return dec_push_slow(d, v);
}
int dec_pop(decoder *d, brine_value **out);
int dec_underflow(decoder *d);
int dec_marker(decoder *d, size_t *out);

/* Reading with the opcode's error reporting. NULL after dec_fail. */
const uint8_t *dec_read_slow(decoder *d, size_t n);
static inline const uint8_t *dec_read(decoder *d, size_t n) {
    const uint8_t *p = reader_read_fast(&d->r, n);
    return p ? p : dec_read_slow(d, n);
}
/* readline(): the line with its newline, and its length. The slow path
 * is out of line so that the inline one saves no registers. */
const uint8_t *dec_readline_slow(decoder *d, size_t *len);
static inline const uint8_t *dec_readline(decoder *d, size_t *len) {
    const uint8_t *p = reader_readline_fast(&d->r, len);
    return p ? p : dec_readline_slow(d, len);
}
const uint8_t *dec_readinto(decoder *d, size_t n);

/* A decimal line as the pickler writes GET's and PUT's memo index and
 * INT's number: 1 to 18 digits (which cannot overflow) and a newline, at
 * the start of p[0..avail). Returns the number of digits, with their value
 * in *out, or 0 for anything else (left to the general parser). */
static inline size_t line_digits(const uint8_t *p, size_t avail, uint64_t *out) {
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) &&                        \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (avail >= 8) {
        /* Up to 7 digits and the newline in one word (values below ten
         * million): the digits found by a test on every byte at
         * once, then put together in three multiplications. */
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t nondigit = swar_nondigits(w); /* only the first one counts */
        if (nondigit) {
            size_t k = (size_t)__builtin_ctzll(nondigit) / 8;
            if (k == 0 || p[k] != '\n') return 0;
            /* The k digits at the top of the word (leading zeros below),
             * most significant first in memory. */
            *out = swar_digits_value((w & 0x0F0F0F0F0F0F0F0Fu) << (8 * (8 - k)));
            return k;
        }
    }
#endif
    uint64_t v = 0;
    size_t k = 0;
    while (k < avail && k < 19 && p[k] >= '0' && p[k] <= '9')
        v = v * 10 + (uint64_t)(p[k++] - '0');
    if (k == 0 || k > 18 || k == avail || p[k] != '\n') return 0;
    *out = v;
    return k;
}

/* INT's line as the pickler writes it, at the start of p[0..avail): "00"
 * or "01" (False, True: *is_bool is 1 and *x 0 or 1), or an optional '-'
 * and 1 to 18 digits without a leading 0 (octal to strtol), then the
 * newline. Returns the line's length with its newline, or 0 for anything
 * else (left to the general parser). */
static inline size_t int_line_pickler(const uint8_t *p, size_t avail, int64_t *x, int *is_bool) {
    size_t neg = avail && p[0] == '-';
    uint64_t v;
    size_t k = line_digits(p + neg, avail - neg, &v);
    if (!k) return 0;
    if (p[neg] == '0') {
        if (neg || k != 2 || p[1] > '1') return 0;
        *is_bool = 1;
        *x = p[1] - '0';
    } else {
        *is_bool = 0;
        *x = neg ? -(int64_t)v : (int64_t)v;
    }
    return neg + k + 1;
}

/* FLOAT's line (len >= 2 bytes, its newline included): PyOS_string_to_double,
 * then only the newline or the end of the C string (a NUL) may follow.
 * Returns PYF_OK with *x, PYF_OVERFLOW, or PYF_INVALID. */
static inline pyfloat_status float_line(const uint8_t *line, size_t len, double *x) {
    size_t consumed;
    pyfloat_status st = pyfloat_parse((const char *)line, len, x, &consumed);
    if (st != PYF_OK) return st;
    uint8_t next = consumed < len ? line[consumed] : 0;
    return next == '\n' || next == 0 ? PYF_OK : PYF_INVALID;
}

/* True for nodes CPython would see as a class: stubs from find_class and
 * everything made by calling or instantiating them. */
static inline int is_stub(const brine_value *v) {
    return v->kind == BRINE_GLOBAL || v->kind == BRINE_OBJECT;
}

/* Runs opcodes until STOP (decode_run.c). Returns the value STOP pops, or
 * NULL after dec_fail. */
brine_value *dec_run(decoder *d);

/* --- opcode handlers (decode.c): stack, marks, memo, containers --- */
int op_mark(decoder *d);
int op_pop(decoder *d);
int op_pop_mark(decoder *d);
int op_dup(decoder *d);
int op_get(decoder *d);
int op_binget(decoder *d, int nbytes);
int op_put(decoder *d);
int op_binput(decoder *d, int nbytes);
int op_memoize(decoder *d);
int op_counted_tuple(decoder *d, size_t n);
int op_tuple(decoder *d);
int op_list(decoder *d);
int op_dict(decoder *d);
int op_frozenset(decoder *d);
int op_proto(decoder *d);
int op_frame(decoder *d);

/* --- opcode handlers (decode_scalar.c) --- */
int op_int(decoder *d);
int op_long(decoder *d);
int op_counted_long(decoder *d, int nbytes);
int op_float(decoder *d);
int op_binfloat(decoder *d);
int op_string(decoder *d);
int op_counted_binstring(decoder *d, int nbytes);
int op_unicode(decoder *d);
int op_counted_binunicode(decoder *d, int nbytes);
int op_counted_binbytes(decoder *d, int nbytes);
int op_bytearray8(decoder *d);
int op_next_buffer(decoder *d);
int op_readonly_buffer(decoder *d);

/* --- opcode handlers (decode_object.c) --- */
int op_global(decoder *d);
int op_stack_global(decoder *d);
int op_inst(decoder *d);
int op_obj(decoder *d);
int op_newobj(decoder *d, int with_kwargs);
/* After a successful decode: an object keeps NEWOBJ_EX's keyword dict as
 * a node only while the dict still holds exactly the keys and values the
 * call had (the same nodes, in order). CPython hands __new__ a copy, so a
 * dict the stream changed afterwards is not the object's keyword
 * arguments: those are then printed and written from the call's own
 * record, as the reference's provenance pass does (oracle/provenance.py). */
void dec_settle_kwargs(brine_doc *doc);
int op_reduce(decoder *d);
int op_build(decoder *d);
int op_persid(decoder *d);
int op_binpersid(decoder *d);
int op_extension(decoder *d, int nbytes);
int op_append(decoder *d);
int op_appends(decoder *d);
int op_setitem(decoder *d);
int op_setitems(decoder *d);
int op_additems(decoder *d);

/* The key shape's fast paths, for SETITEM(S)'s general handlers
 * (decode_object.c) and dec_run()'s inline ones (decode_run.c). */

/* dict[key] = value for the key the shape predicts next: key is
 * s->keys[s->pos] and the tracked dict holds s->pos entries. Returns
 * BRINE_OK, or the failure code with the dict and the shape unchanged. */
DEC_HOT brine_code dec_shape_append(decoder *d, brine_value *dict, brine_value *key,
                                    brine_value *value) {
    key_shape *s = &d->shape;
    /* Records repeat the whole shape: room for all of it at once, not 4
     * and then 8 entries (the arena cannot reuse the first block). */
    if (dict->u.set.cap == 0) (void)py_reserve(d->doc, dict, s->n);
    brine_code code = py_append_new(d->doc, dict, key, value);
    if (code == BRINE_OK) s->pos++;
    return code;
}

/* The empty dict filled at once with the k pairs at kv when the shape
 * predicts their keys and the table has room for them (the caller
 * reserved it). Returns 1 when done, 0 (nothing changed) otherwise. */
static inline int dec_fill_shaped(decoder *d, brine_value *dict, brine_value *const *kv, size_t k) {
    key_shape *s = &d->shape;
    const bdict *t = &dict->u.set;
    if (t->n != 0 || t->cap < k || !shape_predicts(s, kv, k)) return 0;
    py_append_new_many(dict, kv, k);
    s->dict = dict;
    s->pos = k;
    return 1;
}

/* --- builtins policy (fold.c) --- */

/* Calls the global `callable` with args under the builtins policy. Returns
 * 1 with *out set when the call folds to a native value, 0 when it stays
 * symbolic, -1 after dec_fail (the builtin raised). */
int fold_call(decoder *d, brine_value *callable, brine_value *const *args, size_t nargs,
              brine_value **out);

#endif
