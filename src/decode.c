/*
 * decode.c - the unpickling machine: dispatch, stack, marks, memo and the
 * container opcodes. Scalars are in decode_scalar.c, globals and objects in
 * decode_object.c.
 *
 * Every check happens in the order CPython 3.11 makes it, because the first
 * failing check decides the exception class.
 */
#include <string.h>

#include "bigint.h"
#include "decode.h"
#include "errors.h"
#include "pyops.h"
#include "pytext.h"

/* ------------------------------------------------------------------------ */
/* Errors, stack, marks                                                      */
/* ------------------------------------------------------------------------ */

int dec_fail(decoder *d, brine_code code) {
    if (d->code == BRINE_OK) {
        d->code = code;
        d->msg = NULL;
    }
    return -1;
}

int dec_fail_msg(decoder *d, brine_code code, const char *msg) {
    if (d->code == BRINE_OK) {
        d->code = code;
        d->msg = msg;
    }
    return -1;
}

int dec_nomem(decoder *d) {
    return dec_fail(d, arena_error(&d->doc->arena));
}

/* Scratch memory (stack, marks) counts against max_memory too. */
static void *scratch_grow(decoder *d, void *p, size_t old_size, size_t new_size) {
    size_t cap = d->opts->max_memory;
    size_t used = d->scratch_bytes + d->memo.bytes + d->doc->arena.bytes;
    if (cap && new_size > old_size && new_size - old_size > cap - (used < cap ? used : cap)) {
        dec_fail(d, BRINE_E_LIMIT_MEMORY);
        return NULL;
    }
    brine_alloc *al = &d->doc->arena.alloc;
    void *q = p ? al->realloc(al->ctx, p, old_size, new_size) : al->malloc(al->ctx, new_size);
    if (!q) {
        dec_fail(d, BRINE_E_NOMEM);
        return NULL;
    }
    d->scratch_bytes = d->scratch_bytes - old_size + new_size;
    return q;
}

int dec_push_slow(decoder *d, brine_value *v) {
    if (!v) return dec_nomem(d);
    if (d->sp == d->stack_cap) {
        size_t ncap = d->stack_cap ? d->stack_cap * 2 : 64;
        brine_value **s = scratch_grow(d, d->stack, d->stack_cap * sizeof *s, ncap * sizeof *s);
        if (!s) return -1;
        d->stack = s;
        d->stack_cap = ncap;
    }
    d->stack[d->sp++] = v;
    return 0;
}

int dec_underflow(decoder *d) {
    return dec_fail(d, d->nmarks ? BRINE_E_UNEXPECTED_MARK : BRINE_E_STACK_UNDERFLOW);
}

int dec_pop(decoder *d, brine_value **out) {
    if (d->sp <= d->fence) return dec_underflow(d);
    *out = d->stack[--d->sp];
    return 0;
}

int dec_marker(decoder *d, size_t *out) {
    if (d->nmarks < 1) return dec_fail(d, BRINE_E_NO_MARK);
    *out = d->marks[--d->nmarks];
    d->fence = d->nmarks ? d->marks[d->nmarks - 1] : 0;
    return 0;
}

DEC_HOT int op_mark(decoder *d) {
    if (d->opts->max_marks && d->nmarks >= d->opts->max_marks)
        return dec_fail(d, BRINE_E_LIMIT_MARKS);
    if (d->nmarks == d->marks_cap) {
        size_t ncap = d->marks_cap * 2 + 20;
        size_t *m = scratch_grow(d, d->marks, d->marks_cap * sizeof *m, ncap * sizeof *m);
        if (!m) return -1;
        d->marks = m;
        d->marks_cap = ncap;
    }
    d->marks[d->nmarks++] = d->sp;
    d->fence = d->sp;
    return 0;
}

const uint8_t *dec_read_slow(decoder *d, size_t n) {
    brine_code code;
    const uint8_t *p = reader_read(&d->r, n, &code);
    if (!p) dec_fail(d, code);
    return p;
}

const uint8_t *dec_readline_slow(decoder *d, size_t *len) {
    brine_code code;
    const uint8_t *p = reader_readline(&d->r, len, &code);
    if (!p) dec_fail(d, code);
    return p;
}

const uint8_t *dec_readinto(decoder *d, size_t n) {
    brine_code code;
    const uint8_t *p = reader_readinto(&d->r, n, &code);
    if (!p) dec_fail(d, code);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Stack and memo opcodes                                                    */
/* ------------------------------------------------------------------------ */

static int op_pop(decoder *d) {
    /* POP removes a MARK when the mark sits at the top of the stack. */
    if (d->nmarks > 0 && d->marks[d->nmarks - 1] == d->sp) {
        d->nmarks--;
        d->fence = d->nmarks ? d->marks[d->nmarks - 1] : 0;
        return 0;
    }
    if (d->sp <= d->fence) return dec_underflow(d);
    d->sp--;
    return 0;
}

static int op_pop_mark(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    d->sp = i;
    return 0;
}

static int op_dup(decoder *d) {
    if (d->sp <= d->fence) return dec_underflow(d);
    return dec_push(d, d->stack[d->sp - 1]);
}

DEC_HOT int memo_fetch(decoder *d, uint64_t idx) {
    brine_value *v = memo_get(&d->memo, idx);
    if (!v) return dec_fail(d, BRINE_E_MEMO_MISSING);
    return dec_push(d, v);
}

DEC_HOT int memo_store(decoder *d, uint64_t idx) {
    brine_code code = memo_put(&d->memo, idx, d->stack[d->sp - 1], d->opts->max_memo);
    if (code == BRINE_OK) {
        size_t cap = d->opts->max_memory;
        if (cap && d->memo.bytes + d->scratch_bytes + d->doc->arena.bytes > cap)
            return dec_fail(d, BRINE_E_LIMIT_MEMORY);
        return 0;
    }
    return dec_fail(d, code);
}

/* memo_index_text for what the fast path leaves: the general parser, out
 * of line so that its 64-limb frame stays out of the fast path. */
static DEC_NOINLINE int memo_index_parse(decoder *d, const uint8_t *line, size_t len,
                                         int64_t *out) {
    uint32_t limbs_local[64];
    size_t nlimbs = bi_text_limbs(len);
    uint32_t *limbs = limbs_local;
    if (nlimbs > 64) {
        limbs = arena_alloc(&d->doc->arena, nlimbs * sizeof *limbs);
        if (!limbs) return dec_nomem(d);
    }
    bi x;
    size_t consumed;
    bi_status st = bi_parse_py((const char *)line, len, 10, limbs, &x, &consumed);
    if (st == BI_TOO_MANY_DIGITS) return dec_fail(d, BRINE_E_INT_DIGITS);
    if (st != BI_OK) {
        /* CPython decodes the text for its message, which can fail first. */
        if (bi_invalid_literal_is_unicode_error((const char *)line, len))
            return dec_fail(d, BRINE_E_UNICODE_DECODE);
        return dec_fail_msg(d, BRINE_E_LONG_PARSE, "invalid literal for int() with base 10");
    }
    if (!bi_to_i64(&x, out)) return dec_fail(d, BRINE_E_INDEX_OVERFLOW);
    return 0;
}

/* The memo index of GET and PUT: PyLong_FromString(s, NULL, 10), then
 * PyLong_AsSsize_t. Returns 0 and *out, or -1 after dec_fail. */
static inline int memo_index_text(decoder *d, const uint8_t *line, size_t len, int64_t *out) {
    /* What the pickler writes, digits and the newline, without the general
     * parser: up to 18 digits cannot overflow. */
    if (len >= 2 && len - 1 <= 18) {
        uint64_t v = 0;
        size_t k = 0;
        for (; k < len - 1 && line[k] >= '0' && line[k] <= '9'; k++)
            v = v * 10 + (uint64_t)(line[k] - '0');
        if (k == len - 1 && line[k] == '\n') {
            *out = (int64_t)v;
            return 0;
        }
    }
    return memo_index_parse(d, line, len, out);
}

static int op_get(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    int64_t idx;
    if (memo_index_text(d, line, len, &idx) < 0) return -1;
    /* A negative index is looked up as a huge size_t: never found. */
    return memo_fetch(d, (uint64_t)idx);
}

DEC_HOT int op_binget(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    return p ? memo_fetch(d, dec_le(p, nbytes)) : -1;
}

static int op_put(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    if (d->sp <= d->fence) return dec_underflow(d);
    int64_t idx;
    if (memo_index_text(d, line, len, &idx) < 0) return -1;
    if (idx < 0) return dec_fail(d, BRINE_E_NEGATIVE_PUT);
    return memo_store(d, (uint64_t)idx);
}

DEC_HOT int op_binput(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    if (!p) return -1;
    if (d->sp <= d->fence) return dec_underflow(d);
    return memo_store(d, dec_le(p, nbytes));
}

DEC_HOT int op_memoize(decoder *d) {
    if (d->sp <= d->fence) return dec_underflow(d);
    return memo_store(d, d->memo.len);
}

/* ------------------------------------------------------------------------ */
/* Containers                                                                */
/* ------------------------------------------------------------------------ */

/* Pops stack[start..sp) into a tuple (CPython's Pdata_poptuple). */
static int pop_tuple(decoder *d, size_t start) {
    if (start < d->fence) return dec_underflow(d);
    size_t n = d->sp - start;
    brine_value **items = NULL;
    if (n) {
        items = arena_dup(&d->doc->arena, d->stack + start, n * sizeof *items);
        if (!items) return dec_nomem(d);
    }
    d->sp = start;
    return dec_push(d, val_tuple_owned(d->doc, items, n));
}

static int op_counted_tuple(decoder *d, size_t n) {
    if (d->sp < n) return dec_underflow(d);
    return pop_tuple(d, d->sp - n);
}

static int op_tuple(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    return pop_tuple(d, i);
}

static int op_list(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    brine_value *list = val_list_copy(d->doc, d->sp > i ? d->stack + i : NULL, d->sp - i);
    d->sp = i;
    return dec_push(d, list);
}

static int op_dict(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    brine_value *dict = val_container(d->doc, BRINE_DICT);
    if (!dict) return dec_nomem(d);
    if ((d->sp - i) % 2 != 0) return dec_fail(d, BRINE_E_ODD_DICT);
    (void)py_reserve(d->doc, dict, (d->sp - i) / 2); /* a hint, as in do_setitems */
    for (size_t k = i + 1; k < d->sp; k += 2) {
        brine_code code = py_dict_set(d->doc, dict, d->stack[k - 1], d->stack[k]);
        if (code != BRINE_OK) return dec_fail(d, code);
    }
    d->sp = i;
    return dec_push(d, dict);
}

static int op_frozenset(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    if (i < d->fence) return dec_underflow(d);
    brine_value *set = val_container(d->doc, BRINE_FROZENSET);
    if (!set) return dec_nomem(d);
    for (size_t k = i; k < d->sp; k++) {
        brine_code code = py_set_add(d->doc, set, d->stack[k]);
        if (code != BRINE_OK) return dec_fail(d, code);
    }
    d->sp = i;
    return dec_push(d, set);
}

static int op_proto(decoder *d) {
    const uint8_t *p = dec_read(d, 1);
    if (!p) return -1;
    if (p[0] > BRINE_HIGHEST_PROTOCOL) return dec_fail(d, BRINE_E_PROTO);
    d->proto = p[0];
    return 0;
}

static int op_frame(decoder *d) {
    const uint8_t *p = dec_read(d, 8);
    if (!p) return -1;
    uint64_t len = dec_le(p, 8);
    if (len > (uint64_t)INT64_MAX)
        return dec_fail_msg(d, BRINE_E_SIZE_OVERFLOW, "FRAME length exceeds system's maximum");
    brine_code code;
    if (!reader_frame(&d->r, (size_t)len, &code)) return dec_fail(d, code);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */
/* ------------------------------------------------------------------------ */

DEC_HOT int push_int_arg(decoder *d, int nbytes) {
    const uint8_t *q = dec_read(d, (size_t)nbytes);
    if (!q) return -1;
    uint64_t x = dec_le(q, nbytes);
    /* BININT is signed 32-bit; BININT1 and BININT2 are unsigned. */
    return dec_push(d, val_int64(d->doc, nbytes == 4 ? (int32_t)(uint32_t)x : (int64_t)x));
}

/* Every opcode but STOP, with the statement that runs it (rc = 0 or -1). */
#define BRINE_OPCODES(X)                                                                           \
    X(0x28, MARK, rc = op_mark(d))                                                                 \
    X(0x30, POP, rc = op_pop(d))                                                                   \
    X(0x31, POP_MARK, rc = op_pop_mark(d))                                                         \
    X(0x32, DUP, rc = op_dup(d))                                                                   \
    X(0x46, FLOAT, rc = op_float(d))                                                               \
    X(0x47, BINFLOAT, rc = op_binfloat(d))                                                         \
    X(0x49, INT, rc = op_int(d))                                                                   \
    X(0x4a, BININT, rc = push_int_arg(d, 4))                                                       \
    X(0x4b, BININT1, rc = push_int_arg(d, 1))                                                      \
    X(0x4d, BININT2, rc = push_int_arg(d, 2))                                                      \
    X(0x4c, LONG, rc = op_long(d))                                                                 \
    X(0x8a, LONG1, rc = op_counted_long(d, 1))                                                     \
    X(0x8b, LONG4, rc = op_counted_long(d, 4))                                                     \
    X(0x4e, NONE, rc = dec_push(d, &d->doc->none))                                                 \
    X(0x88, NEWTRUE, rc = dec_push(d, &d->doc->t))                                                 \
    X(0x89, NEWFALSE, rc = dec_push(d, &d->doc->f))                                                \
    X(0x53, STRING, rc = op_string(d))                                                             \
    X(0x54, BINSTRING, rc = op_counted_binstring(d, 4))                                            \
    X(0x55, SHORT_BINSTRING, rc = op_counted_binstring(d, 1))                                      \
    X(0x56, UNICODE, rc = op_unicode(d))                                                           \
    X(0x58, BINUNICODE, rc = op_counted_binunicode(d, 4))                                          \
    X(0x8c, SHORT_BINUNICODE, rc = op_counted_binunicode(d, 1))                                    \
    X(0x8d, BINUNICODE8, rc = op_counted_binunicode(d, 8))                                         \
    X(0x42, BINBYTES, rc = op_counted_binbytes(d, 4))                                              \
    X(0x43, SHORT_BINBYTES, rc = op_counted_binbytes(d, 1))                                        \
    X(0x8e, BINBYTES8, rc = op_counted_binbytes(d, 8))                                             \
    X(0x96, BYTEARRAY8, rc = op_bytearray8(d))                                                     \
    X(0x97, NEXT_BUFFER, rc = op_next_buffer(d))                                                   \
    X(0x98, READONLY_BUFFER, rc = op_readonly_buffer(d))                                           \
    X(0x29, EMPTY_TUPLE, rc = op_counted_tuple(d, 0))                                              \
    X(0x85, TUPLE1, rc = op_counted_tuple(d, 1))                                                   \
    X(0x86, TUPLE2, rc = op_counted_tuple(d, 2))                                                   \
    X(0x87, TUPLE3, rc = op_counted_tuple(d, 3))                                                   \
    X(0x74, TUPLE, rc = op_tuple(d))                                                               \
    X(0x5d, EMPTY_LIST, rc = dec_push(d, val_list_copy(d->doc, NULL, 0)))                          \
    X(0x6c, LIST, rc = op_list(d))                                                                 \
    X(0x7d, EMPTY_DICT, rc = dec_push(d, val_container(d->doc, BRINE_DICT)))                       \
    X(0x64, DICT, rc = op_dict(d))                                                                 \
    X(0x8f, EMPTY_SET, rc = dec_push(d, val_container(d->doc, BRINE_SET)))                         \
    X(0x90, ADDITEMS, rc = op_additems(d))                                                         \
    X(0x91, FROZENSET, rc = op_frozenset(d))                                                       \
    X(0x61, APPEND, rc = op_append(d))                                                             \
    X(0x65, APPENDS, rc = op_appends(d))                                                           \
    X(0x73, SETITEM, rc = op_setitem(d))                                                           \
    X(0x75, SETITEMS, rc = op_setitems(d))                                                         \
    X(0x62, BUILD, rc = op_build(d))                                                               \
    X(0x63, GLOBAL, rc = op_global(d))                                                             \
    X(0x93, STACK_GLOBAL, rc = op_stack_global(d))                                                 \
    X(0x69, INST, rc = op_inst(d))                                                                 \
    X(0x6f, OBJ, rc = op_obj(d))                                                                   \
    X(0x81, NEWOBJ, rc = op_newobj(d, 0))                                                          \
    X(0x92, NEWOBJ_EX, rc = op_newobj(d, 1))                                                       \
    X(0x52, REDUCE, rc = op_reduce(d))                                                             \
    X(0x50, PERSID, rc = op_persid(d))                                                             \
    X(0x51, BINPERSID, rc = op_binpersid(d))                                                       \
    X(0x82, EXT1, rc = op_extension(d, 1))                                                         \
    X(0x83, EXT2, rc = op_extension(d, 2))                                                         \
    X(0x84, EXT4, rc = op_extension(d, 4))                                                         \
    X(0x67, GET, rc = op_get(d))                                                                   \
    X(0x68, BINGET, rc = op_binget(d, 1))                                                          \
    X(0x6a, LONG_BINGET, rc = op_binget(d, 4))                                                     \
    X(0x70, PUT, rc = op_put(d))                                                                   \
    X(0x71, BINPUT, rc = op_binput(d, 1))                                                          \
    X(0x72, LONG_BINPUT, rc = op_binput(d, 4))                                                     \
    X(0x94, MEMOIZE, rc = op_memoize(d))                                                           \
    X(0x80, PROTO, rc = op_proto(d))                                                               \
    X(0x95, FRAME, rc = op_frame(d))

/* The next opcode byte (recording its offset), or NULL after EOFError. */
static inline const uint8_t *fetch(decoder *d) {
    const uint8_t *p = reader_read_fast(&d->r, 1);
    if (!p) {
        brine_code code;
        p = reader_read(&d->r, 1, &code);
        if (!p) {
            d->op_offset = d->r.len;
            dec_fail(d, BRINE_E_EOF);
            return NULL;
        }
    }
    d->op_offset = (size_t)(p - d->r.data);
    return p;
}

static brine_value *stop(decoder *d) {
    brine_value *v;
    return dec_pop(d, &v) < 0 ? NULL : v;
}

#if defined(__GNUC__) || defined(__clang__)
#define DEC_LIKELY(x) __builtin_expect(!!(x), 1)
/* Opcodes that run() executes itself, on its local copy of the reader and
 * stack state, when nothing unusual happens. Anything unusual (data past
 * the buffer, a full stack, a missing memo entry, a limit) goes to the
 * general handler of the same opcode, which starts again from the opcode
 * and decides as CPython does; so a fast handler changes nothing before it
 * knows it succeeds. */
#define FAST_OPCODES(X)                                                                            \
    X(0x28, MARK)                                                                                  \
    X(0x47, BINFLOAT)                                                                              \
    X(0x4a, BININT)                                                                                \
    X(0x4b, BININT1)                                                                               \
    X(0x4d, BININT2)                                                                               \
    X(0x4e, NONE)                                                                                  \
    X(0x88, NEWTRUE)                                                                               \
    X(0x89, NEWFALSE)                                                                              \
    X(0x68, BINGET)                                                                                \
    X(0x6a, LONG_BINGET)                                                                           \
    X(0x71, BINPUT)                                                                                \
    X(0x72, LONG_BINPUT)                                                                           \
    X(0x94, MEMOIZE)                                                                               \
    X(0x7d, EMPTY_DICT)                                                                            \
    X(0x75, SETITEMS)                                                                              \
    X(0x73, SETITEM)                                                                               \
    X(0x67, GET)                                                                                   \
    X(0x70, PUT)                                                                                   \
    X(0x85, TUPLE1)                                                                                \
    X(0x86, TUPLE2)                                                                                \
    X(0x87, TUPLE3)                                                                                \
    X(0x8c, SHORT_BINUNICODE)                                                                      \
    X(0x58, BINUNICODE)                                                                            \
    X(0x43, SHORT_BINBYTES)                                                                        \
    X(0x42, BINBYTES)
#endif

/* Runs opcodes until STOP. Returns the value STOP pops, or NULL. GCC
 * would merge every handler's dispatch into one shared indirect jump
 * (which the branch predictor cannot learn), unless told not to. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-gcse", "no-crossjumping", "no-code-hoisting", "no-tree-slp-vectorize")))
#endif
static brine_value *
run(decoder *d) {
    int rc = 0;
#if defined(__GNUC__) || defined(__clang__)
    /* The reader's and the stack's state live in locals (registers) while
     * the fast handlers run, and go back to `d` around every general
     * handler (SAVE, LOAD). Each opcode jumps straight to the next one's
     * handler, which lets the branch predictor learn the opcode sequences
     * pickles repeat. */
    const uint8_t *const data = d->r.data, *const end = data + d->r.len;
    /* The reader (reader.h) is in one of two states. In a frame, the
     * buffer holds the rest of the frame, [ip, lim): reads take from it
     * and leave its start alone. Outside (the buffer empty), every read
     * takes the next bytes of the file and makes them the buffer, so the
     * buffer always ends at ip and starts where the last read did: lim is
     * then the end of the input, and SAVE sets the start. */
    const uint8_t *ip, *lim, *op = data;
    int framed;
    brine_value **stack, **sp, **stack_end;
    size_t fence;
    brine_doc *const doc = d->doc;
    memo *const m = &d->memo;
    const size_t max_memory = d->opts->max_memory, max_memo = d->opts->max_memo;
    const int zero_copy = d->opts->zero_copy, memo_capped = max_memory || max_memo;
    /* Before the first push there is no stack: an empty one stands in, so
     * that the fast handlers find it full and the general ones make it. */
    static brine_value *no_stack[1];
#define LOAD()                                                                                     \
    (ip = data + d->r.buf_idx, framed = d->r.buf_idx < d->r.file_pos,                              \
     lim = framed ? data + d->r.file_pos : end, stack = d->stack ? d->stack : no_stack,            \
     sp = stack + d->sp, stack_end = d->stack ? stack + d->stack_cap : no_stack, fence = d->fence)
#define DEPTH() ((size_t)(sp - stack))
    /* Outside frames, the last read was the opcode's: SAVE is only used
     * where that is so (or where the decoding ends with an error). */
#define SAVE()                                                                                     \
    do {                                                                                           \
        d->r.buf_idx = (size_t)(ip - data);                                                        \
        if (!framed) {                                                                             \
            d->r.file_pos = d->r.buf_idx;                                                          \
            d->r.buf_start = (size_t)(op - data);                                                  \
        }                                                                                          \
        d->sp = DEPTH();                                                                           \
        d->op_offset = (size_t)(op - data);                                                        \
    } while (0)
    /* read(n) of reader.h for a constant n <= 8, in two steps so that a
     * handler can look at the argument before it commits to the opcode:
     * PEEK finds the n bytes before lim (else the general handler runs,
     * and decides what a read past a frame's end does); CONSUME reads
     * them. */
#define PEEK(n, q, name)                                                                           \
    do {                                                                                           \
        if (DEC_LIKELY(lim - ip >= (ptrdiff_t)(n)))                                                \
            q = ip;                                                                                \
        else                                                                                       \
            goto S_##name;                                                                         \
    } while (0)
#define CONSUME(n) (ip += (n))
    /* A failed allocation, as the general handler reports it. */
#define NOMEM()                                                                                    \
    do {                                                                                           \
        SAVE();                                                                                    \
        dec_nomem(d);                                                                              \
        return NULL;                                                                               \
    } while (0)
    /* The push of a fast handler: room is checked before anything is made. */
#define NEED_ROOM(name)                                                                            \
    if (sp == stack_end) goto S_##name
#define FAST_LABEL(byte, name)       [byte] = &&F_##name,
#define SLOW_LABEL(byte, name, stmt) [byte] = &&S_##name,
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#if defined(__clang__)
#pragma GCC diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
    static const void *const labels[256] = {
        [0 ... 255] = &&L_BAD, BRINE_OPCODES(SLOW_LABEL) FAST_OPCODES(FAST_LABEL)[0x2e] = &&L_STOP};
#define NEXT()                                                                                     \
    do {                                                                                           \
        if (DEC_LIKELY(ip < lim)) {                                                                \
            op = ip++;                                                                             \
        } else if (framed && ip == lim && ip < end) {                                              \
            /* The frame is used up: from here on the file is read. */                             \
            framed = 0;                                                                            \
            lim = end;                                                                             \
            op = ip++;                                                                             \
        } else {                                                                                   \
            SAVE();                                                                                \
            if (!(op = fetch(d))) return NULL;                                                     \
            LOAD();                                                                                \
        }                                                                                          \
        goto *labels[*op];                                                                         \
    } while (0)
    /* The general handlers: the state goes to `d` and comes back. */
#define HANDLER(byte, name, stmt)                                                                  \
    S_##name : SAVE();                                                                             \
    stmt;                                                                                          \
    if (rc < 0) return NULL;                                                                       \
    LOAD();                                                                                        \
    NEXT();
    LOAD();
    NEXT();
    BRINE_OPCODES(HANDLER)

F_MARK:
    if (d->nmarks == d->marks_cap || (d->opts->max_marks && d->nmarks >= d->opts->max_marks))
        goto S_MARK;
    fence = DEPTH();
    d->marks[d->nmarks++] = fence;
    d->fence = fence;
    NEXT();
F_BINFLOAT : {
    const uint8_t *q;
    NEED_ROOM(BINFLOAT);
    PEEK(8, q, BINFLOAT);
    CONSUME(8);
    uint64_t bits;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&bits, q, 8);
    bits = __builtin_bswap64(bits); /* BINFLOAT is big-endian */
#else
    bits = 0;
    for (int i = 0; i < 8; i++)
        bits = (bits << 8) | q[i];
#endif
    brine_value *v = val_float_bits(doc, bits);
    if (!v) NOMEM();
    *sp++ = v;
    NEXT();
}
#define FAST_INT(name, n, conv)                                                                    \
    F_##name : {                                                                                   \
        const uint8_t *q;                                                                          \
        NEED_ROOM(name);                                                                           \
        PEEK(n, q, name);                                                                          \
        CONSUME(n);                                                                                \
        brine_value *v = val_int64(doc, conv);                                                     \
        if (!v) NOMEM();                                                                           \
        *sp++ = v;                                                                                 \
        NEXT();                                                                                    \
    }
    FAST_INT(BININT, 4, (int32_t)(uint32_t)dec_le(q, 4))
    FAST_INT(BININT1, 1, (int64_t)q[0])
    FAST_INT(BININT2, 2, (int64_t)dec_le(q, 2))
#undef FAST_INT
F_NONE:
    NEED_ROOM(NONE);
    *sp++ = &doc->none;
    NEXT();
F_NEWTRUE:
    NEED_ROOM(NEWTRUE);
    *sp++ = &doc->t;
    NEXT();
F_NEWFALSE:
    NEED_ROOM(NEWFALSE);
    *sp++ = &doc->f;
    NEXT();
#define FAST_GET(name, n)                                                                          \
    F_##name : {                                                                                   \
        const uint8_t *q;                                                                          \
        NEED_ROOM(name);                                                                           \
        PEEK(n, q, name);                                                                          \
        uint64_t idx = dec_le(q, n);                                                               \
        brine_value *v;                                                                            \
        if (idx >= m->dense_cap || !m->pages[idx >> MEMO_PAGE_SHIFT] ||                            \
            !(v = m->pages[idx >> MEMO_PAGE_SHIFT][idx & (MEMO_PAGE - 1)]))                        \
            goto S_##name;                                                                         \
        CONSUME(n);                                                                                \
        *sp++ = v;                                                                                 \
        NEXT();                                                                                    \
    }
    FAST_GET(BINGET, 1)
    FAST_GET(LONG_BINGET, 4)
#undef FAST_GET
    /* memo_put's fast path, and memo_store's memory check made first: the
     * fast path allocates nothing, so the check gives the same answer
     * before the store as after it. */
#define FAST_PUT(name, idx_expr, consume)                                                          \
    do {                                                                                           \
        uint64_t idx = (idx_expr);                                                                 \
        brine_value **page;                                                                        \
        if (DEPTH() <= fence || idx >= m->dense_cap ||                                             \
            (memo_capped &&                                                                        \
             ((max_memo && m->len >= max_memo) ||                                                  \
              (max_memory && m->bytes + d->scratch_bytes + doc->arena.bytes > max_memory))) ||     \
            !(page = m->pages[idx >> MEMO_PAGE_SHIFT]) || page[idx & (MEMO_PAGE - 1)])             \
            goto S_##name;                                                                         \
        consume;                                                                                   \
        page[idx & (MEMO_PAGE - 1)] = sp[-1];                                                      \
        m->len++;                                                                                  \
        NEXT();                                                                                    \
    } while (0)
F_BINPUT : {
    const uint8_t *q;
    PEEK(1, q, BINPUT);
    FAST_PUT(BINPUT, q[0], CONSUME(1));
}
F_LONG_BINPUT : {
    const uint8_t *q;
    PEEK(4, q, LONG_BINPUT);
    FAST_PUT(LONG_BINPUT, dec_le(q, 4), CONSUME(4));
}
F_MEMOIZE:
    FAST_PUT(MEMOIZE, m->len, (void)0);
F_EMPTY_DICT : {
    /* val_container, inline. */
    NEED_ROOM(EMPTY_DICT);
    brine_value *v = val_new(doc, BRINE_DICT);
    if (!v) NOMEM();
    bdict *t = arena_alloc(&doc->arena, sizeof *t);
    if (!t) NOMEM();
    memset(t, 0, sizeof *t);
    v->u.set.d = t;
    *sp++ = v;
    NEXT();
}
#define FAST_TUPLE(name, count)                                                                    \
    F_##name : {                                                                                   \
        /* pop_tuple, inline. */                                                                   \
        if (DEPTH() < (count) || DEPTH() - (count) < fence) goto S_##name;                         \
        brine_value **items = arena_alloc(&doc->arena, (count) * sizeof *items);                   \
        if (!items) NOMEM();                                                                       \
        memcpy(items, sp - (count), (count) * sizeof *items);                                      \
        brine_value *v = val_new(doc, BRINE_TUPLE);                                                \
        if (!v) NOMEM();                                                                           \
        v->u.tup.items = items;                                                                    \
        v->u.tup.n = (count);                                                                      \
        sp -= (count);                                                                             \
        *sp++ = v;                                                                                 \
        NEXT();                                                                                    \
    }
    FAST_TUPLE(TUPLE1, 1)
    FAST_TUPLE(TUPLE2, 2)
    FAST_TUPLE(TUPLE3, 3)
#undef FAST_TUPLE
    /* SETITEMS filling a new dict with keys the key shape predicts
     * (decode.h): what do_setitems does then, without its calls. */
F_SETITEMS : {
    size_t nm = d->nmarks;
    if (!nm) goto S_SETITEMS;
    size_t x = d->marks[nm - 1], depth = DEPTH(), below = nm > 1 ? d->marks[nm - 2] : 0;
    key_shape *ks = &d->shape;
    if (x <= below || x >= depth || (depth - x) % 2 != 0) goto S_SETITEMS;
    size_t k = (depth - x) / 2;
    brine_value *target = stack[x - 1];
    if (target->kind != BRINE_DICT || k > ks->n) goto S_SETITEMS;
    bdict *t = target->u.set.d;
    if (t->n != 0 || t->cap != 0) goto S_SETITEMS;
    brine_value *const *kv = stack + x;
    for (size_t i = 0; i < k; i++)
        if (kv[2 * i] != ks->keys[i]) goto S_SETITEMS;
    bentry *e = arena_alloc(&doc->arena, k * sizeof *e);
    if (!e) goto S_SETITEMS;
    for (size_t i = 0; i < k; i++) {
        e[i].key = kv[2 * i];
        e[i].value = kv[2 * i + 1];
        e[i].hash = ks->hashes[i];
    }
    t->entries = e;
    t->n = t->cap = (uint32_t)k;
    ks->dict = target;
    ks->pos = k;
    d->nmarks = nm - 1;
    d->fence = fence = below;
    sp = stack + x;
    NEXT();
}
F_SETITEM : {
    /* SETITEM of a key the key shape predicts: dict_set_shaped's append. */
    size_t depth = DEPTH();
    if (depth < 3 || depth - 2 <= fence) goto S_SETITEM;
    brine_value *target = sp[-3], *key = sp[-2];
    if (target->kind != BRINE_DICT) goto S_SETITEM;
    bdict *t = target->u.set.d;
    key_shape *ks = &d->shape;
    size_t pos = t->n == 0 ? 0 : ks->pos;
    if ((t->n != 0 && ks->dict != target) || t->n != pos || pos >= ks->n || key != ks->keys[pos])
        goto S_SETITEM;
    if (t->n == t->cap) {
        if (t->cap != 0) goto S_SETITEM;
        bentry *e = arena_alloc(&doc->arena, ks->n * sizeof *e); /* as dict_set_shaped */
        if (!e) goto S_SETITEM;
        t->entries = e;
        t->cap = (uint32_t)ks->n;
    }
    bentry *e = &t->entries[t->n++];
    e->key = key;
    e->value = sp[-1];
    e->hash = ks->hashes[pos];
    ks->dict = target;
    ks->pos = pos + 1;
    sp -= 2;
    NEXT();
}
/* GET and PUT as the pickler writes them, outside frames (where the
 * line read is the file's next line): 1 to 18 digits and a newline,
 * memo_index_text's fast case. */
#define TEXT_INDEX(name, idx, nl)                                                                  \
    do {                                                                                           \
        if (framed) goto S_##name;                                                                 \
        size_t avail_ = (size_t)(end - ip), k_ = 0;                                                \
        idx = 0;                                                                                   \
        while (k_ < avail_ && k_ < 19 && ip[k_] >= '0' && ip[k_] <= '9')                           \
            idx = idx * 10 + (uint64_t)(ip[k_++] - '0');                                           \
        if (k_ == 0 || k_ > 18 || k_ == avail_ || ip[k_] != '\n') goto S_##name;                   \
        nl = ip + k_;                                                                              \
    } while (0)
F_GET : {
    uint64_t idx;
    const uint8_t *nl;
    NEED_ROOM(GET);
    TEXT_INDEX(GET, idx, nl);
    brine_value *v;
    if (idx >= m->dense_cap || !m->pages[idx >> MEMO_PAGE_SHIFT] ||
        !(v = m->pages[idx >> MEMO_PAGE_SHIFT][idx & (MEMO_PAGE - 1)]))
        goto S_GET;
    ip = nl + 1;
    *sp++ = v;
    NEXT();
}
F_PUT : {
    uint64_t idx0;
    const uint8_t *nl;
    TEXT_INDEX(PUT, idx0, nl);
    FAST_PUT(PUT, idx0, ip = nl + 1);
}
#undef TEXT_INDEX
#undef FAST_PUT
/* counted_binunicode and counted_binbytes (decode_scalar.c) when the
 * length and the data are both before lim: the data read then takes
 * them from the buffer or the file as the general handler would. */
#define FAST_COUNTED(name, nlen, make)                                                             \
    F_##name : {                                                                                   \
        const uint8_t *q;                                                                          \
        NEED_ROOM(name);                                                                           \
        PEEK(nlen, q, name);                                                                       \
        size_t size = (size_t)dec_le(q, nlen);                                                     \
        if (lim - (ip + (nlen)) < (ptrdiff_t)size) goto S_##name;                                  \
        const uint8_t *payload = q + (nlen);                                                       \
        brine_value *v;                                                                            \
        make;                                                                                      \
        if (!v) NOMEM();                                                                           \
        CONSUME((nlen) + size);                                                                    \
        *sp++ = v;                                                                                 \
        NEXT();                                                                                    \
    }
/* A payload that is not valid goes to the general handler, which
 * reports it. */
#define MAKE_STR(name)                                                                             \
    size_t ncp, bad_pos;                                                                           \
    if (pt_utf8_check(payload, size, &ncp, &bad_pos) != BRINE_OK) goto S_##name;                   \
    if (ncp >= 2 && !zero_copy) {                                                                  \
        /* val_str_copy's common case (two code points or more are never                           \
         * shared), inline. */                                                                     \
        char *copy = arena_dup(&doc->arena, payload, size);                                        \
        if (!copy || !(v = val_new(doc, BRINE_STR))) NOMEM();                                      \
        v->u.s.p = copy;                                                                           \
        v->u.s.n = size;                                                                           \
    } else {                                                                                       \
        v = zero_copy ? val_str_owned(doc, (const char *)payload, size, ncp, 1)                    \
                      : val_str_copy(doc, (const char *)payload, size, ncp);                       \
    }
/* val_bytes_fresh: only the empty bytes is shared. */
#define MAKE_BYTES                                                                                 \
    if (size && !zero_copy) {                                                                      \
        char *copy; /* bytes_node's order: the node, then the data */                              \
        if (!(v = val_new(doc, BRINE_BYTES)) || !(copy = arena_dup(&doc->arena, payload, size)))   \
            NOMEM();                                                                               \
        v->u.s.p = copy;                                                                           \
        v->u.s.n = size;                                                                           \
    } else {                                                                                       \
        v = val_bytes_fresh(doc, payload, size, zero_copy);                                        \
    }
    FAST_COUNTED(SHORT_BINUNICODE, 1, MAKE_STR(SHORT_BINUNICODE))
    FAST_COUNTED(BINUNICODE, 4, MAKE_STR(BINUNICODE))
    FAST_COUNTED(SHORT_BINBYTES, 1, MAKE_BYTES)
    FAST_COUNTED(BINBYTES, 4, MAKE_BYTES)
#undef MAKE_BYTES
#undef MAKE_STR
#undef FAST_COUNTED
L_STOP:
    SAVE();
    return stop(d);
L_BAD:
    SAVE();
    dec_fail(d, BRINE_E_BAD_OPCODE);
    return NULL;
#pragma GCC diagnostic pop
#undef HANDLER
#undef NEXT
#undef SLOW_LABEL
#undef FAST_LABEL
#undef NEED_ROOM
#undef CONSUME
#undef PEEK
#undef NOMEM
#undef SAVE
#undef LOAD
#undef DEPTH
#else
#define CASE(byte, name, stmt)                                                                     \
    case byte:                                                                                     \
        stmt;                                                                                      \
        break;
    for (;;) {
        const uint8_t *p = fetch(d);
        if (!p) return NULL;
        switch (*p) {
            BRINE_OPCODES(CASE)
        case 0x2e: return stop(d);
        default: rc = dec_fail(d, BRINE_E_BAD_OPCODE); break;
        }
        if (rc < 0) return NULL;
    }
#undef CASE
#endif
}

void brine_decode_options_init(brine_decode_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->policy = BRINE_POLICY_SYMBOLIC;
    opts->fix_imports = 1;
}

/* Decodes into the empty document `doc`. Returns 0, or -1 with *err set
 * (the document then holds what the decoding made so far). */
static int decode_doc(brine_doc *doc, const void *data, size_t len,
                      const brine_decode_options *opts, brine_error *err) {
    decoder d;
    memset(&d, 0, sizeof d);
    d.doc = doc;
    d.opts = opts;
    static const uint8_t no_data[1];
    /* run() makes pointers from data: never NULL, even when len is 0. */
    reader_init(&d.r, len ? data : no_data, len);
    memo_init(&d.memo, &doc->arena.alloc);
    d.encoding_is_bytes = opts->encoding && strcmp(opts->encoding, "bytes") == 0;

    brine_value *root = run(&d);
    if (root) {
        doc->root = root;
        dec_settle_kwargs(doc);
        if (!doc_compute_discarded(doc)) {
            root = NULL;
            dec_nomem(&d);
        }
    }

    brine_alloc *al = &doc->arena.alloc;
    if (d.stack) al->free(al->ctx, d.stack, d.stack_cap * sizeof *d.stack);
    if (d.marks) al->free(al->ctx, d.marks, d.marks_cap * sizeof *d.marks);
    if (d.ext_cache) al->free(al->ctx, d.ext_cache, opts->nextensions * sizeof *d.ext_cache);
    memo_free(&d.memo);
    if (!root) {
        brine_set_error(err, d.code, d.msg, d.op_offset);
        return -1;
    }
    return 0;
}

/* The checks both entry points make first; NULL after *err is set. */
static const brine_decode_options *decode_begin(const void *data, size_t len,
                                                const brine_decode_options *opts,
                                                brine_decode_options *defaults, brine_error *err) {
    if (!opts) {
        brine_decode_options_init(defaults);
        opts = defaults;
    }
    brine_clear_error(err);
    if (!data && len) {
        brine_set_error(err, BRINE_E_USAGE, "data is NULL", 0);
        return NULL;
    }
    return opts;
}

brine_doc *brine_decode(const void *data, size_t len, const brine_decode_options *opts,
                        const brine_alloc *alloc, brine_error *err) {
    brine_decode_options defaults;
    opts = decode_begin(data, len, opts, &defaults, err);
    if (!opts) return NULL;
    brine_doc *doc = doc_new_limited(alloc, opts->max_memory);
    if (!doc) {
        brine_set_error(err, BRINE_E_NOMEM, NULL, 0);
        return NULL;
    }
    if (decode_doc(doc, data, len, opts, err) < 0) {
        brine_doc_free(doc);
        return NULL;
    }
    return doc;
}

int brine_decode_into(brine_doc *doc, const void *data, size_t len,
                      const brine_decode_options *opts, brine_error *err) {
    brine_decode_options defaults;
    if (!doc) {
        brine_clear_error(err);
        brine_set_error(err, BRINE_E_USAGE, "doc is NULL", 0);
        return -1;
    }
    opts = decode_begin(data, len, opts, &defaults, err);
    if (!opts) return -1;
    doc_reset(doc, opts->max_memory);
    int rc = decode_doc(doc, data, len, opts, err);
    /* What this decoding did not use again goes; after a failure, what it
     * used stays for the next call. */
    arena_drop_spare(&doc->arena);
    if (rc < 0) doc_reset(doc, 0);
    return rc;
}
