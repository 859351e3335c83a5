/*
 * decode_run.c - the dispatch loop of the unpickling machine.
 *
 * The general handler of each opcode (decode.c, decode_scalar.c,
 * decode_object.c) works on the decoder struct. The loop keeps the
 * reader's and the stack's state in locals and runs the opcodes of common
 * pickles itself, handing anything unusual to the general handler, which
 * then decides exactly as CPython 3.11 does.
 */
#include <string.h>

#include "decode.h"
#include "errors.h"
#include "pyfloat.h"
#include "pyops.h"
#include "pytext.h"
#include "swar.h"

static int push_int_arg(decoder *d, int nbytes) {
    const uint8_t *q = dec_read(d, (size_t)nbytes);
    if (!q) return -1;
    uint64_t x = load_le(q, nbytes);
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
/* Opcodes that dec_run() executes itself, on its local copy of the reader and
 * stack state, when nothing unusual happens. Anything unusual (data past
 * the buffer, a full stack, a missing memo entry, a limit) goes to the
 * general handler of the same opcode, which starts again from the opcode
 * and decides as CPython does. So a fast handler hands over only in a
 * state the general handler would reach the same way: it changes nothing
 * before it knows it succeeds, or only what the general handler's own
 * first step changes identically (SETITEM, SETITEMS). */
#define FAST_OPCODES(X)                                                                            \
    X(0x28, MARK)                                                                                  \
    X(0x47, BINFLOAT)                                                                              \
    X(0x4a, BININT)                                                                                \
    X(0x4b, BININT1)                                                                               \
    X(0x4d, BININT2)                                                                               \
    X(0x49, INT)                                                                                   \
    X(0x56, UNICODE)                                                                               \
    X(0x46, FLOAT)                                                                                 \
    X(0x64, DICT)                                                                                  \
    X(0x4e, NONE)                                                                                  \
    X(0x88, NEWTRUE)                                                                               \
    X(0x89, NEWFALSE)                                                                              \
    X(0x68, BINGET)                                                                                \
    X(0x6a, LONG_BINGET)                                                                           \
    X(0x71, BINPUT)                                                                                \
    X(0x72, LONG_BINPUT)                                                                           \
    X(0x94, MEMOIZE)                                                                               \
    X(0x7d, EMPTY_DICT)                                                                            \
    X(0x5d, EMPTY_LIST)                                                                            \
    X(0x61, APPEND)                                                                                \
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

/* GCC would merge every handler's dispatch into one shared indirect jump
 * (which the branch predictor cannot learn), unless told not to. */
#if defined(__GNUC__) && !defined(__clang__)
#define DEC_THREADED                                                                               \
    __attribute__((                                                                                \
        optimize("no-gcse", "no-crossjumping", "no-code-hoisting", "no-tree-slp-vectorize")))
#else
#define DEC_THREADED
#endif
DEC_THREADED brine_value *dec_run(decoder *d) {
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
    brine_value *v = val_float_bits(doc, load_be64(q));
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
    FAST_INT(BININT, 4, (int32_t)(uint32_t)load_le(q, 4))
    FAST_INT(BININT1, 1, (int64_t)q[0])
    FAST_INT(BININT2, 2, (int64_t)load_le(q, 2))
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
        brine_value **slot = memo_dense_slot(m, load_le(q, n)), *v;                                \
        if (!slot || !(v = *slot)) goto S_##name;                                                  \
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
        brine_value **slot = memo_dense_slot(m, idx_expr);                                         \
        if (DEPTH() <= fence || !slot || *slot ||                                                  \
            (memo_capped &&                                                                        \
             ((max_memo && m->len >= max_memo) ||                                                  \
              (max_memory && m->bytes + d->scratch_bytes + doc->arena.bytes > max_memory))))       \
            goto S_##name;                                                                         \
        consume;                                                                                   \
        *slot = sp[-1];                                                                            \
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
    FAST_PUT(LONG_BINPUT, load_le(q, 4), CONSUME(4));
}
F_MEMOIZE:
    FAST_PUT(MEMOIZE, m->len, (void)0);
F_EMPTY_DICT : {
    NEED_ROOM(EMPTY_DICT);
    brine_value *v = val_container(doc, BRINE_DICT);
    if (!v) NOMEM();
    *sp++ = v;
    NEXT();
}
F_EMPTY_LIST : {
    NEED_ROOM(EMPTY_LIST);
    brine_value *v = val_new(doc, BRINE_LIST); /* val_list_copy of nothing */
    if (!v) NOMEM();
    *sp++ = v;
    NEXT();
}
F_APPEND : {
    /* op_append onto a list: the item goes in, or list_extend grows the
     * list; a failed growth leaves the list as it was, and the general
     * handler then fails the same way. */
    if (DEPTH() <= fence + 1) goto S_APPEND;
    brine_value *target = sp[-2];
    if (target->kind != BRINE_LIST) goto S_APPEND;
    if (target->u.list.n < target->u.list.cap)
        target->u.list.items[target->u.list.n++] = sp[-1];
    else if (list_extend(doc, target, sp - 1, 1) != BRINE_OK)
        goto S_APPEND;
    sp--;
    NEXT();
}
#define FAST_TUPLE(name, count)                                                                    \
    F_##name : {                                                                                   \
        /* pop_tuple, inline. */                                                                   \
        if (DEPTH() < (count) || DEPTH() - (count) < fence) goto S_##name;                         \
        brine_value **items = arena_dup(&doc->arena, sp - (count), (count) * sizeof *items);       \
        if (!items) NOMEM();                                                                       \
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
    /* do_setitems on a dict (decode_object.c) when the key shape predicts
     * every key. Its first step, the table's reservation, is made here
     * too: when the fill then refuses, the general handler makes it again
     * as a no-op, so handing over leaves the same state. */
    size_t nm = d->nmarks;
    if (!nm) goto S_SETITEMS;
    size_t x = d->marks[nm - 1], depth = DEPTH(), below = nm > 1 ? d->marks[nm - 2] : 0;
    if (x <= below || x >= depth || (depth - x) % 2 != 0) goto S_SETITEMS;
    size_t k = (depth - x) / 2;
    brine_value *target = stack[x - 1];
    if (target->kind != BRINE_DICT) goto S_SETITEMS;
    (void)py_reserve(doc, target, k); /* a hint, as in do_setitems */
    if (!dec_fill_shaped(d, target, stack + x, k)) goto S_SETITEMS;
    d->nmarks = nm - 1;
    d->fence = fence = below;
    sp = stack + x;
    NEXT();
}
F_SETITEM : {
    /* SETITEM of the key the key shape predicts: dict_set_shaped's
     * append (which sets the shape's dict and position first, too). */
    size_t depth = DEPTH();
    if (depth < 3 || depth - 2 <= fence) goto S_SETITEM;
    brine_value *target = sp[-3], *key = sp[-2];
    if (target->kind != BRINE_DICT) goto S_SETITEM;
    bdict *t = &target->u.set;
    key_shape *ks = &d->shape;
    size_t pos = t->n == 0 ? 0 : ks->pos;
    if ((t->n != 0 && ks->dict != target) || t->n != pos || pos >= ks->n || key != ks->keys[pos])
        goto S_SETITEM;
    ks->dict = target;
    ks->pos = pos;
    if (dec_shape_append(d, target, key, sp[-1]) != BRINE_OK) goto S_SETITEM;
    sp -= 2;
    NEXT();
}
/* GET and PUT as the pickler writes them (line_digits), outside
 * frames, where the line read is the file's next line. */
#define TEXT_INDEX(name, idx, nl)                                                                  \
    do {                                                                                           \
        size_t k_;                                                                                 \
        if (framed || !(k_ = line_digits(ip, (size_t)(end - ip), &idx))) goto S_##name;            \
        nl = ip + k_;                                                                              \
    } while (0)
F_GET : {
    uint64_t idx;
    const uint8_t *nl;
    NEED_ROOM(GET);
    TEXT_INDEX(GET, idx, nl);
    brine_value **slot = memo_dense_slot(m, idx), *v;
    if (!slot || !(v = *slot)) goto S_GET;
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
F_INT : {
    /* op_int on the lines the pickler writes: "00" and "01" (False and
     * True) and 1 to 18 digits without a leading zero, after an optional
     * minus; anything else (and a line inside a frame) is the general
     * handler's. */
    int64_t x;
    int is_bool;
    NEED_ROOM(INT);
    if (framed) goto S_INT;
    size_t n = int_line_pickler(ip, (size_t)(end - ip), &x, &is_bool);
    if (!n) goto S_INT;
    brine_value *v = is_bool ? (x ? &doc->t : &doc->f) : val_int64(doc, x);
    if (!v) NOMEM();
    ip += n;
    *sp++ = v;
    NEXT();
}
F_UNICODE : {
    /* op_unicode on a line without a backslash, which raw-unicode-escape
     * decodes byte for code point (Latin-1), outside frames and at least
     * 8 bytes before the end of the input (read a word at a time);
     * anything else is the general handler's. */
    NEED_ROOM(UNICODE);
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    goto S_UNICODE; /* the lowest flag is the first byte on little-endian hosts */
#endif
    if (framed) goto S_UNICODE;
    const uint8_t *q = ip;
    size_t high = 0; /* bytes of 0x80 and more: two bytes of UTF-8 each */
    for (;;) {
        uint64_t w;
        if (end - q < 8) goto S_UNICODE;
        memcpy(&w, q, 8);
        uint64_t nl = swar_bytes_equal(w, '\n'), bs = swar_bytes_equal(w, '\\');
        uint64_t hi = w & SWAR_HIGHS;
        if (nl) {
            /* The lowest flag of each is exact, and all that is compared. */
            unsigned at = (unsigned)__builtin_ctzll(nl);
            if (bs && (unsigned)__builtin_ctzll(bs) < at) goto S_UNICODE;
            high += swar_count_flags(hi & ((1ull << at) - 1));
            q += at / 8;
            break;
        }
        if (bs) goto S_UNICODE;
        high += swar_count_flags(hi);
        q += 8;
    }
    size_t n = (size_t)(q - ip);
    brine_value *v;
    if (!high)
        v = val_str_copy(doc, (const char *)ip, n, n);
    else if (n >= 2)
        v = val_str_latin1(doc, ip, n, n + high);
    else
        goto S_UNICODE; /* one Latin-1 character: a shared str */
    if (!v) NOMEM();
    ip = q + 1;
    *sp++ = v;
    NEXT();
}
F_FLOAT : {
    /* op_float on a line outside frames that it accepts; errors are the
     * general handler's to report. */
    NEED_ROOM(FLOAT);
    if (framed) goto S_FLOAT;
    const uint8_t *nl = memchr(ip, '\n', (size_t)(end - ip));
    if (!nl || nl - ip < 1) goto S_FLOAT;
    double x;
    if (float_line(ip, (size_t)(nl - ip) + 1, &x) != PYF_OK) goto S_FLOAT;
    brine_value *v = val_float_bits(doc, pyfloat_bits(x));
    if (!v) NOMEM();
    ip = nl + 1;
    *sp++ = v;
    NEXT();
}
F_DICT : {
    /* op_dict of no pairs, "(d": protocol 0's empty dict. */
    size_t nm = d->nmarks;
    NEED_ROOM(DICT);
    if (!nm || d->marks[nm - 1] != DEPTH()) goto S_DICT;
    brine_value *v = val_container(doc, BRINE_DICT);
    if (!v) NOMEM();
    d->nmarks = nm - 1;
    d->fence = fence = nm > 1 ? d->marks[nm - 2] : 0;
    *sp++ = v;
    NEXT();
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
        size_t size = (size_t)load_le(q, nlen);                                                    \
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
    v = zero_copy ? val_str_owned(doc, (const char *)payload, size, ncp, 1)                        \
                  : val_str_copy(doc, (const char *)payload, size, ncp)
#define MAKE_BYTES v = val_bytes_fresh(doc, payload, size, zero_copy)
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
