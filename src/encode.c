/*
 * encode.c - brine_encode(): the driver loop, the output buffer with
 * CPython's framing, and the memo.
 *
 * Output follows _Pickler_Write, _Pickler_OpcodeBoundary,
 * _Pickler_CommitFrame and _Pickler_write_bytes of CPython 3.11: a frame
 * opens at the first write after PROTO (protocol >= 4), is closed only where
 * a save() starts and the frame holds 64 KiB or more, loses its header when
 * it is shorter than 4 bytes, and payloads of 64 KiB and more are written
 * outside frames. Closed frames and unframed output are handed to the write
 * callback as soon as they are complete, so memory holds at most one frame
 * (plus, for protocol 0 and ints, one opcode's argument); large bytes and
 * str payloads go to the callback straight from the document.
 *
 * After a failure the callback may already have received a prefix of the
 * stream (as a file given to pickle.dump would); brine_encode() then
 * returns -1 and that prefix must be discarded.
 */
#include <string.h>

#include "encode.h"
#include "encode_memo.h"
#include "errors.h"
#include "graph.h"

#define NO_FRAME SIZE_MAX

void brine_encode_options_init(brine_encode_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->protocol = BRINE_DEFAULT_PROTOCOL;
    opts->fix_imports = 1;
}

int enc_fail(encoder *e, brine_code code, const char *msg) {
    if (e->code == BRINE_OK) {
        e->code = code;
        e->msg = msg;
    }
    return -1;
}

int enc_write_decimal_line(encoder *e, uint8_t op, int neg, uint64_t x) {
    /* Two digits per division, from the end of a line on the stack, which
     * then goes out in one small copy: protocol 0 writes every int and
     * memo index in decimal. */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    uint8_t line[24]; /* op, '-', 20 digits, '\n' */
    uint8_t *q = line + sizeof line;
    *--q = '\n';
    while (x >= 100) {
        size_t d = (size_t)(x % 100) * 2;
        x /= 100;
        *--q = (uint8_t)pairs[d + 1];
        *--q = (uint8_t)pairs[d];
    }
    if (x >= 10) {
        *--q = (uint8_t)pairs[2 * x + 1];
        *--q = (uint8_t)pairs[2 * x];
    } else {
        *--q = (uint8_t)('0' + x);
    }
    if (neg) *--q = '-';
    *--q = op;
    size_t n = (size_t)(line + sizeof line - q);
    uint8_t *out = out_reserve(e, n);
    if (!out) return -1;
    copy_short(out, q, n);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

static int out_flush(encoder *e) {
    if (!e->len) return 0;
    if (e->write(e->ctx, e->buf, e->len) != 0) return enc_fail(e, BRINE_E_IO, NULL);
    e->written += e->len;
    e->len = 0;
    return 0;
}

static int out_grow(encoder *e, size_t need) {
    if (need <= e->cap - e->len) return 0;
    if (need > SIZE_MAX / 2 - e->len) return enc_fail(e, BRINE_E_NOMEM, NULL);
    size_t ncap = e->cap ? e->cap : 4096;
    while (ncap < e->len + need)
        ncap *= 2;
    uint8_t *p = e->buf ? e->alloc.realloc(e->alloc.ctx, e->buf, e->cap, ncap)
                        : e->alloc.malloc(e->alloc.ctx, ncap);
    if (!p) return enc_fail(e, BRINE_E_NOMEM, NULL);
    e->buf = p;
    e->cap = ncap;
    return 0;
}

uint8_t *out_reserve_slow(encoder *e, size_t n) {
    int new_frame = e->framing && e->frame_start == NO_FRAME;
    /* Outside frames nothing will be patched later: hand it on. */
    if (e->frame_start == NO_FRAME && e->len >= ENC_FLUSH_AT && out_flush(e) < 0) return NULL;
    if (out_grow(e, n + (new_frame ? ENC_FRAME_HEADER : 0)) < 0) return NULL;
    if (new_frame) {
        e->frame_start = e->len;
        e->frame_full = e->len + ENC_FRAME_HEADER + ENC_FRAME_TARGET;
        e->len += ENC_FRAME_HEADER; /* filled in by commit_frame() */
    }
    uint8_t *p = e->buf + e->len;
    e->len += n;
    /* The next writes take the fast path while this holds: a frame is open
     * (or none is needed) and, unframed, the output is short of the flush. */
    if (e->frame_start != NO_FRAME)
        e->lim = e->cap;
    else if (e->framing || e->len >= ENC_FLUSH_AT)
        e->lim = 0;
    else
        e->lim = e->cap < ENC_FLUSH_AT ? e->cap : ENC_FLUSH_AT;
    return p;
}

/* _Pickler_CommitFrame: writes the open frame's header, or removes it when
 * the frame is too short to be worth one. */
static void commit_frame(encoder *e) {
    if (!e->framing || e->frame_start == NO_FRAME) return;
    e->lim = 0; /* the next write opens a frame */
    size_t flen = e->len - e->frame_start - ENC_FRAME_HEADER;
    uint8_t *q = e->buf + e->frame_start;
    if (flen >= ENC_FRAME_MIN) {
        q[0] = OP_FRAME;
        for (int i = 0; i < 8; i++)
            q[1 + i] = (uint8_t)((uint64_t)flen >> (8 * i));
    } else {
        memmove(q, q + ENC_FRAME_HEADER, flen);
        e->len -= ENC_FRAME_HEADER;
    }
    e->frame_start = e->frame_full = NO_FRAME;
}

int out_end_frame(encoder *e) {
    commit_frame(e);
    return out_flush(e);
}

int out_write_bytes(encoder *e, const uint8_t *header, size_t hlen, const void *data, size_t dlen) {
    if (dlen < ENC_FRAME_TARGET) {
        /* One reservation: the header and a small payload share a frame
         * either way (only unframed output could be handed on between). */
        uint8_t *p = out_reserve(e, hlen + dlen);
        if (!p) return -1;
        memcpy(p, header, hlen);
        if (dlen) memcpy(p + hlen, data, dlen);
        return 0;
    }
    /* Large payloads end the frame and go out unframed, header included. */
    commit_frame(e);
    int framing = e->framing;
    e->framing = 0;
    int rc = out_write(e, header, hlen);
    e->framing = framing;
    if (framing) e->lim = 0; /* no frame is open */
    if (rc < 0 || out_flush(e) < 0) return -1;
    if (e->write(e->ctx, data, dlen) != 0) return enc_fail(e, BRINE_E_IO, NULL);
    e->written += dlen;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Memo                                                                      */
/* ------------------------------------------------------------------------ */

int enc_note_recursed(encoder *e, const brine_value *node) {
    if (!e->record_popped || !node) return 0;
    uint64_t where = 0;
    if (e->writing_before) {
        /* The discarded node being written, d, is made before its state
         * and operations are written (and memoized then) but after its
         * arguments (a persistent id: after its pid). The outer copy's
         * items were made at this point: before d if d is not made yet,
         * else after it (cover_popped_items reads which). For a popped
         * copy written as its object (D_SUBST), d is the copy, made by
         * the outer write's REDUCE: after everything in its write. */
        size_t k = e->writing_before - 1;
        const brine_value *d = e->doc->discarded.items[e->before_index[k]];
        int made = d == e->before_root[k] && enc_memo_index(e, d) >= 0;
        where = 2 * ((uint64_t)e->before_index[k] + 1) + (uint64_t)made;
    }
    epopvec *v = e->popped;
    for (size_t i = 0, n = graph_nslots(node); i < n; i++) {
        const brine_value *item = graph_slot(node, i);
        if (item->kind != BRINE_PERSID) continue;
        if (v->n == v->cap) {
            epopped *t = enc_grow(e, v->items, &v->cap, sizeof *t, 16);
            if (!t) return -1;
            v->items = t;
        }
        v->items[v->n++] = (epopped){item, where};
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

eframe *enc_push(encoder *e, eframe_kind kind, const brine_value *node) {
    if (e->sp == e->stack_cap) {
        size_t ncap = e->stack_cap ? e->stack_cap * 2 : 64;
        eframe *s = e->stack ? e->alloc.realloc(e->alloc.ctx, e->stack, e->stack_cap * sizeof *s,
                                                ncap * sizeof *s)
                             : e->alloc.malloc(e->alloc.ctx, ncap * sizeof *s);
        if (!s) {
            enc_fail(e, BRINE_E_NOMEM, NULL);
            return NULL;
        }
        e->stack = s;
        e->stack_cap = ncap;
    }
    eframe *f = &e->stack[e->sp++];
    memset(f, 0, sizeof *f);
    f->kind = (uint8_t)kind;
    f->node = node;
    return f;
}

int enc_enter(encoder *e, eframe *f) {
    /* CPython memoizes tuples, frozensets and reduced objects after their
     * items, so a node met again while it is being saved is saved once
     * more. What save() does depends only on which objects the memo holds
     * (fresh ones are never fetched again), so when none was added since
     * the save in progress started (the node is recent), the new one
     * repeats it step for step and meets the node again: CPython recurses
     * until RecursionError. Otherwise it goes differently and may end (in
     * the memo). Recent saves are few (a memo_put ends them all): a short
     * array, and a map past it for long runs of nested tuples. */
    const brine_value *node = f->node;
    size_t n = e->nrecent < ENC_RECENT ? e->nrecent : ENC_RECENT;
    int again = 0;
    for (size_t i = 0; i < n; i++)
        again |= e->recent[i] == node;
    if (!again && e->nrecent > ENC_RECENT) again = ptrmap_get(&e->recent_more, node) != NULL;
    if (again)
        return enc_fail(e, BRINE_E_PICKLING,
                        "maximum recursion depth exceeded while pickling an object "
                        "(it contains itself through tuples or reduce arguments only)");
    if (e->nrecent < ENC_RECENT)
        e->recent[e->nrecent] = node;
    else if (!ptrmap_put(&e->recent_more, node, NULL))
        return enc_fail(e, BRINE_E_NOMEM, NULL);
    e->nrecent++;
    f->gen = e->memo_gen + 1;
    f->counted = 1;
    return 0;
}

void enc_leave(encoder *e, eframe *f) {
    if (!f->counted) return;
    f->counted = 0;
    /* Saves end in the reverse order they started: a recent one is the
     * newest recent one. */
    if (f->gen != e->memo_gen + 1) return;
    if (--e->nrecent >= ENC_RECENT) ptrmap_remove(&e->recent_more, f->node);
}

void enc_forget_recent(encoder *e) {
    /* Freed rather than emptied: it only grows for long runs of tuples. */
    ptrmap_free(&e->recent_more);
}

static void enc_pop(encoder *e) {
    enc_leave(e, &e->stack[--e->sp]);
}

void *enc_grow(encoder *e, void *items, size_t *cap, size_t size, size_t first) {
    size_t n = *cap ? *cap : first;
    if (*cap && n > SIZE_MAX / 2 / size) {
        enc_fail(e, BRINE_E_NOMEM, NULL);
        return NULL;
    }
    if (*cap) n *= 2;
    void *t = items ? e->alloc.realloc(e->alloc.ctx, items, *cap * size, n * size)
                    : e->alloc.malloc(e->alloc.ctx, n * size);
    if (!t) {
        enc_fail(e, BRINE_E_NOMEM, NULL);
        return NULL;
    }
    *cap = n;
    return t;
}

int enc_stack_push(encoder *e, enode_stack *s, const brine_value *v) {
    if (s->n == s->cap) {
        const brine_value **t = enc_grow(e, s->items, &s->cap, sizeof *t, 64);
        if (!t) return -1;
        s->items = t;
    }
    s->items[s->n++] = v;
    return 0;
}

void enc_stack_free(encoder *e, enode_stack *s) {
    if (s->items) e->alloc.free(e->alloc.ctx, s->items, s->cap * sizeof *s->items);
    *s = (enode_stack){0};
}

/* enc_mark_reachable, and enc_mark_written when `written`: then every node
 * is visited, since a set with no items, say, reaches builtins.set. A node
 * new to seen gets the value seen->n: its place in the order of the walk,
 * which depends on the graph alone, never on where the nodes are. */
static int mark(encoder *e, ptrmap *seen, const brine_value *root, int written) {
    enode_stack st = {0};
    int inserted, rc;
    uint64_t *slot = ptrmap_put(seen, root, &inserted);
    if (!slot) return enc_fail(e, BRINE_E_NOMEM, NULL);
    if (inserted) *slot = seen->n;
    rc = enc_stack_push(e, &st, root);
    while (rc == 0 && st.n) {
        const brine_value *v = st.items[--st.n], *globals[3];
        size_t slots = graph_nslots(v);
        int nglobals = written ? enc_reduce_globals(e, v, globals) : 0;
        if (nglobals < 0) rc = -1;
        for (size_t i = 0; rc == 0 && i < slots + (size_t)nglobals; i++) {
            const brine_value *c = i < slots ? graph_slot(v, i) : globals[i - slots];
            if (!c) continue;
            slot = ptrmap_put(seen, c, &inserted);
            if (!slot) {
                rc = enc_fail(e, BRINE_E_NOMEM, NULL);
                break;
            }
            if (inserted) *slot = seen->n;
            if (!inserted || (!written && !graph_nslots(c))) continue;
            rc = enc_stack_push(e, &st, c);
        }
    }
    enc_stack_free(e, &st);
    return rc;
}

int enc_mark_reachable(encoder *e, ptrmap *seen, const brine_value *root) {
    return mark(e, seen, root, 0);
}

int enc_mark_written(encoder *e, ptrmap *seen, const brine_value *root) {
    return mark(e, seen, root, 1);
}

/* ------------------------------------------------------------------------ */
/* save()                                                                    */
/* ------------------------------------------------------------------------ */

/* save() past the atoms: a GET when the memo holds v, else its save. Out
 * of enc_save, whose atoms then need no registers saved. */
static int save_memoizable(encoder *e, const brine_value *v) {
    int64_t idx = enc_memo_index(e, v);
    if (idx >= 0) return enc_write_get(e, (uint64_t)idx);
    switch (v->kind) {
    case BRINE_STR: return enc_save_str(e, v);
    case BRINE_BYTES:
        if (e->proto >= 3) return enc_save_bytes_data(e, v, (const uint8_t *)v->u.s.p, v->u.s.n);
        return enc_save_bytes_reduce(e, v);
    case BRINE_BYTEARRAY:
        if (e->proto >= 5) return enc_save_bytearray_data(e, v, v->u.ba.p, v->u.ba.n);
        return enc_save_bytearray_reduce(e, v);
    case BRINE_COMPLEX: return enc_save_complex(e, v);
    case BRINE_TUPLE:
        if (v->u.tup.n == 0) return e->proto ? out_byte(e, OP_EMPTY_TUPLE) : out_write(e, "(t", 2);
        return enc_push_tuple(e, v, v->u.tup.items, v->u.tup.n);
    case BRINE_LIST: return enc_push_list(e, v);
    case BRINE_DICT: return enc_push_dict(e, v);
    case BRINE_SET:
    case BRINE_FROZENSET:
        if (e->proto >= 4) return enc_push_set(e, v);
        return enc_save_set_reduce(e, v);
    case BRINE_GLOBAL: return enc_save_global(e, v);
    case BRINE_OBJECT: return enc_save_object(e, v);
    case BRINE_PICKLEBUFFER: return enc_save_picklebuffer(e, v);
    case BRINE_READONLY_VIEW:
        /* CPython cannot pickle a memoryview; READONLY_BUFFER after the
         * target is the stream brine decodes this node from. */
        if (e->proto < 5)
            return enc_fail(e, BRINE_E_PICKLING,
                            "a read-only buffer view can only be pickled with protocol >= 5");
        return enc_push(e, EF_VIEW, v) ? 1 : -1;
    default: return enc_fail(e, BRINE_E_USAGE, "unknown node kind");
    }
}

int enc_save(encoder *e, const brine_value *v) {
    if (out_boundary(e) < 0) return -1;
    /* Atoms are never memoized; persistent ids are written before the memo
     * is consulted, as save_pers runs first in CPython. */
    switch (v->kind) {
    case BRINE_NONE: return out_byte(e, OP_NONE);
    case BRINE_BOOL: return enc_save_bool(e, v);
    case BRINE_INT: return enc_save_int(e, v);
    case BRINE_FLOAT: return enc_save_float_bits(e, v->u.fbits);
    case BRINE_PERSID:
        if (e->proto == 0) return enc_save_persid0(e, v->u.pid);
        return enc_push(e, EF_PERSID, v) ? 1 : -1;
    default: return save_memoizable(e, v);
    }
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                    */
/* ------------------------------------------------------------------------ */

/* dump(): the discarded nodes that go before the root, the root, STOP. */
static int step_root(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    if (f->state == 0) {
        if (f->k < e->nbefore) {
            const brine_value *d = e->before_root[f->k++];
            e->writing_before = f->k;
            return enc_push(e, EF_POP, d) ? 1 : -1;
        }
        e->writing_before = 0;
        f->state = 1;
        int r = enc_save(e, e->doc->root);
        if (r) return r;
    }
    return out_byte(e, OP_STOP);
}

/* A one-child frame: save(child), then write `after`. */
static int step_then(encoder *e, size_t fi, const brine_value *child, uint8_t after) {
    eframe *f = &e->stack[fi];
    if (f->state == 0) {
        f->state = 1;
        int r = enc_save(e, child);
        if (r) return r;
    }
    return out_byte(e, after);
}

static int run(encoder *e) {
    while (e->sp) {
        size_t fi = e->sp - 1;
        const eframe *f = &e->stack[fi];
        int r;
        switch ((eframe_kind)f->kind) {
        case EF_ROOT: r = step_root(e, fi); break;
        case EF_POP: r = step_then(e, fi, f->node, OP_POP); break;
        case EF_TUPLE: r = enc_step_tuple(e, fi); break;
        case EF_LIST: r = enc_step_list(e, fi); break;
        case EF_DICT: r = enc_step_dict(e, fi); break;
        case EF_SET: r = enc_step_set(e, fi); break;
        case EF_FROZENSET: r = enc_step_frozenset(e, fi); break;
        case EF_REDUCE: r = enc_step_reduce(e, fi); break;
        case EF_OPS: r = enc_step_ops(e, fi); break;
        case EF_GLOBAL4: r = enc_step_global4(e, fi); break;
        case EF_SETTER: r = enc_step_setter(e, fi); break;
        case EF_PERSID: r = step_then(e, fi, f->node->u.pid, OP_BINPERSID); break;
        case EF_VIEW: r = step_then(e, fi, f->node->u.view.target, OP_READONLY_BUFFER); break;
        default: r = enc_fail(e, BRINE_E_USAGE, "corrupt encoder frame"); break;
        }
        if (r < 0) return -1;
        if (r == 0) enc_pop(e);
    }
    return 0;
}

/* One pass of the encoder over the document, writing to write/ctx. */
static int encode_pass(const brine_doc *doc, const brine_encode_options *opts, int proto,
                       brine_write_fn write, void *ctx, epopvec *popped, ptrmap *copies, int record,
                       brine_error *err) {
    encoder e;
    memset(&e, 0, sizeof e);
    e.doc = doc;
    e.opts = opts;
    e.proto = proto;
    e.alloc = doc->arena.alloc;
    e.write = write;
    e.ctx = ctx;
    e.frame_start = e.frame_full = NO_FRAME;
    e.popped = popped;
    e.copies = copies;
    e.record_popped = record;
    ptrmap_init(&e.recent_more, &e.alloc);
    ptrmap_init(&e.setter_of, &e.alloc);
    ptrmap_init(&e.twin_of, &e.alloc);
    arena_init(&e.arena, &e.alloc, 0);

    int rc = 0;
    if (proto >= 2) {
        uint8_t header[2] = {OP_PROTO, (uint8_t)proto};
        rc = out_write(&e, header, 2);
    }
    e.framing = proto >= 4;
    e.lim = 0; /* the PROTO header was written unframed */
    if (rc == 0) rc = enc_memo_init(&e);
    if (rc == 0) rc = enc_plan_discarded(&e);
    if (rc == 0) rc = enc_push(&e, EF_ROOT, NULL) ? run(&e) : -1;
    if (rc == 0) {
        commit_frame(&e);
        rc = out_flush(&e);
    }

    size_t where = (size_t)e.written + e.len;
    if (e.buf) e.alloc.free(e.alloc.ctx, e.buf, e.cap);
    if (e.stack) e.alloc.free(e.alloc.ctx, e.stack, e.stack_cap * sizeof *e.stack);
    enc_memo_free(&e);
    ptrmap_free(&e.recent_more);
    ptrmap_free(&e.setter_of);
    ptrmap_free(&e.twin_of);
    enc_reduce_free(&e);
    arena_free_all(&e.arena);
    if (rc < 0) {
        brine_set_error(err, e.code ? e.code : BRINE_E_NOMEM, e.msg, where);
        return -1;
    }
    return 0;
}

static int write_nothing(void *ctx, const void *data, size_t len) {
    (void)ctx;
    (void)data;
    (void)len;
    return 0;
}

int brine_encode(const brine_doc *doc, const brine_encode_options *opts, brine_write_fn write,
                 void *ctx, brine_error *err) {
    brine_encode_options defaults;
    if (!opts) {
        brine_encode_options_init(&defaults);
        opts = &defaults;
    }
    brine_clear_error(err);
    if (!doc || !write) {
        brine_set_error(err, BRINE_E_USAGE, "document and write callback are required", 0);
        return -1;
    }
    if (!doc->root) {
        brine_set_error(err, BRINE_E_USAGE, "the document has no root", 0);
        return -1;
    }
    int proto = opts->protocol < 0 ? BRINE_HIGHEST_PROTOCOL : opts->protocol;
    if (proto > BRINE_HIGHEST_PROTOCOL) {
        brine_set_error(err, BRINE_E_ENCODE_VALUE, "pickle protocol must be <= 5", 0);
        return -1;
    }
    /* Which containers the encoder writes twice (with the persistent ids
     * among their items, popped with the outer copy) and which objects it
     * writes more than once (their popped copies) depends on the order of
     * the whole save; a first pass that writes nothing finds out, and the
     * second one plans with what it saw (cover_popped_items, match_twins).
     * Only documents with discarded nodes pay for it. */
    if (!doc->discarded.n) return encode_pass(doc, opts, proto, write, ctx, NULL, NULL, 0, err);
    epopvec popped = {0};
    ptrmap copies;
    ptrmap_init(&copies, &doc->arena.alloc);
    int rc = encode_pass(doc, opts, proto, write_nothing, NULL, &popped, &copies, 1, err);
    if (rc == 0) rc = encode_pass(doc, opts, proto, write, ctx, &popped, &copies, 0, err);
    if (popped.items)
        doc->arena.alloc.free(doc->arena.alloc.ctx, popped.items,
                              popped.cap * sizeof *popped.items);
    ptrmap_free(&copies);
    return rc;
}
