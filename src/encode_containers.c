/*
 * encode_containers.c - save_tuple, save_list, save_dict, save_set and
 * save_frozenset (the opcode forms), and the batching shared by them and by
 * the recorded operations of objects.
 *
 * CPython cuts items into groups of BATCHSIZE (1000) in four slightly
 * different ways, and the differences show in the bytes:
 *   batch_list_exact  one item: `x APPEND`; else MARK ... APPENDS per 1000,
 *                     a trailing group of one included (MARK x APPENDS);
 *   batch_dict_exact  one pair: `k v SETITEM`; else MARK ... SETITEMS per
 *                     1000, looping while the last group was full, so a
 *                     multiple of 1000 ends with an empty MARK SETITEMS;
 *   save_set          like batch_dict_exact without the one-item form;
 *   batch_list/_dict  (iterators: listitems, dictitems, protocol-0 lists)
 *                     a trailing group of one is `x APPEND`, never empty;
 *                     protocol 0 writes APPEND / SETITEM after every item.
 */
#include "encode.h"
#include "encode_memo.h"

static const brine_value *unit_node(const eframe *f, size_t i, int half) {
    const eseq *s = &f->seq;
    switch ((eseq_src)f->src) {
    case SEQ_ARRAY: return s->u.items[i];
    case SEQ_PAIRS: return half ? s->vals[i] : s->u.items[i];
    case SEQ_DICT: return half ? s->u.entries[i].value : s->u.entries[i].key;
    case SEQ_SET: return s->u.entries[i].key;
    case SEQ_OPS1: return s->u.ops[i].a;
    case SEQ_OPS2: return half ? s->u.ops[i].b : s->u.ops[i].a;
    }
    return NULL;
}

void enc_batch_init(eframe *f, ebatch_mode mode, uint8_t op1, uint8_t opn) {
    ebatch *b = &f->b;
    b->mode = (uint8_t)mode;
    b->op1 = op1;
    b->opn = opn;
    b->single = b->in_group = b->started = b->lastfull = b->half = 0;
    b->pos = b->gend = 0;
}

/* Opens the next group, or returns 0 when the run is complete. */
static int open_group(encoder *e, eframe *f) {
    ebatch *b = &f->b;
    size_t n = f->seq.n, rest = n - b->pos;
    int exact = b->mode == BM_LIST_EXACT || b->mode == BM_DICT_EXACT;
    if (b->started) {
        int more = (b->mode == BM_DICT_EXACT || b->mode == BM_SET) ? b->lastfull : rest > 0;
        if (!more) return 0;
    } else if (n == 0) {
        return 0;
    }
    b->started = 1;
    size_t g;
    if (b->mode == BM_SINGLE || (exact && n == 1) || (b->mode == BM_ITER && rest == 1)) {
        b->single = 1;
        g = 1;
    } else {
        b->single = 0;
        g = rest < ENC_BATCHSIZE ? rest : ENC_BATCHSIZE;
        if (out_byte(e, OP_MARK) < 0) return -1;
    }
    b->lastfull = g == ENC_BATCHSIZE;
    b->gend = b->pos + g;
    b->half = 0;
    b->in_group = 1;
    return 1;
}

/* Saves the units of the open group of frame fi from where it stands: 0
 * when the group is written, 1 when a child frame was pushed (the frame
 * then records where to resume), -1 on failure. Lists and dicts have
 * loops of their own: they are most of what is ever written. */
static int save_group(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    size_t pos = f->b.pos, gend = f->b.gend;
    int half = f->b.half, r = 0;
    switch ((eseq_src)f->src) {
    case SEQ_ARRAY: {
        brine_value *const *items = f->seq.u.items;
        while (pos < gend)
            if ((r = enc_save(e, items[pos++])) != 0) break;
        break;
    }
    case SEQ_DICT: {
        const bentry *en = f->seq.u.entries;
        if (half) {
            half = 0;
            r = enc_save(e, en[pos++].value);
        }
        while (r == 0 && pos < gend) {
            if ((r = enc_save(e, en[pos].key)) != 0) {
                half = 1;
                break;
            }
            r = enc_save(e, en[pos++].value);
        }
        break;
    }
    default: {
        int pairs = f->width == 2;
        while (pos < gend) {
            const brine_value *node = unit_node(f, pos, half);
            if (pairs && !half) {
                half = 1;
            } else {
                half = 0;
                pos++;
            }
            if ((r = enc_save(e, node)) != 0) break;
        }
        break;
    }
    }
    /* A pushed child may have moved the stack: f is stale. */
    f = &e->stack[fi];
    f->b.pos = pos;
    f->b.half = (uint8_t)half;
    return r;
}

int enc_batch_step(encoder *e, size_t fi) {
    for (;;) {
        eframe *f = &e->stack[fi];
        if (!f->b.in_group) {
            int r = open_group(e, f);
            if (r <= 0) return r;
        }
        int r = save_group(e, fi);
        if (r) return r;
        f = &e->stack[fi];
        f->b.in_group = 0;
        if (out_byte(e, f->b.single ? f->b.op1 : f->b.opn) < 0) return -1;
    }
}

/* ------------------------------------------------------------------------ */
/* Tuples                                                                    */
/* ------------------------------------------------------------------------ */

int enc_push_tuple(encoder *e, const brine_value *v, brine_value *const *items, size_t n) {
    eframe *f = enc_push(e, EF_TUPLE, v);
    if (!f) return -1;
    f->src = SEQ_ARRAY;
    f->width = 1;
    f->seq.u.items = items;
    f->seq.n = n;
    if (v && enc_enter(e, f) < 0) return -1;
    /* TUPLE1-3 need no MARK; every other form starts with one. */
    if (!(n <= 3 && e->proto >= 2) && out_byte(e, OP_MARK) < 0) return -1;
    return 1;
}

int enc_save_fresh_tuple(encoder *e, brine_value *const *items, size_t n) {
    if (out_boundary(e) < 0) return -1;
    if (n == 0) return e->proto ? out_byte(e, OP_EMPTY_TUPLE) : out_write(e, "(t", 2);
    return enc_push_tuple(e, NULL, items, n);
}

int enc_step_tuple(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    while (f->b.pos < f->seq.n) {
        int r = enc_save(e, f->seq.u.items[f->b.pos++]);
        if (r) return r;
    }
    size_t n = f->seq.n;
    int counted = n <= 3 && e->proto >= 2;
    int64_t idx = f->node ? enc_memo_index(e, f->node) : -1;
    if (idx >= 0) {
        /* The tuple reached itself through its items and was written (and
         * memoized) there: drop what is on the stack and fetch that one. */
        if (enc_note_recursed(e, f->node) < 0) return -1;
        if (counted) {
            for (size_t i = 0; i < n; i++)
                if (out_byte(e, OP_POP) < 0) return -1;
        } else if (e->proto >= 1) {
            if (out_byte(e, OP_POP_MARK) < 0) return -1;
        } else {
            for (size_t i = 0; i <= n; i++)
                if (out_byte(e, OP_POP) < 0) return -1;
        }
        return enc_write_get(e, (uint64_t)idx);
    }
    static const uint8_t len2op[4] = {OP_EMPTY_TUPLE, OP_TUPLE1, OP_TUPLE2, OP_TUPLE3};
    if (out_byte(e, counted ? len2op[n] : OP_TUPLE) < 0) return -1;
    return enc_memoize(e, f->node);
}

/* ------------------------------------------------------------------------ */
/* Lists, dicts, sets                                                        */
/* ------------------------------------------------------------------------ */

int enc_push_list(encoder *e, const brine_value *v) {
    if ((e->proto ? out_byte(e, OP_EMPTY_LIST) : out_write(e, "(l", 2)) < 0) return -1;
    if (enc_memoize(e, v) < 0) return -1;
    if (v->u.list.n == 0) return 0;
    eframe *f = enc_push(e, EF_LIST, v);
    if (!f) return -1;
    f->src = SEQ_ARRAY;
    f->width = 1;
    f->seq.u.items = v->u.list.items;
    f->seq.n = v->u.list.n;
    enc_batch_init(f, e->proto ? BM_LIST_EXACT : BM_SINGLE, OP_APPEND, OP_APPENDS);
    return 1;
}

/* save_dict over a bdict or over parallel key and value arrays. */
static int push_dict(encoder *e, const brine_value *v, const bdict *d, brine_value *const *keys,
                     brine_value *const *vals, size_t n) {
    if ((e->proto ? out_byte(e, OP_EMPTY_DICT) : out_write(e, "(d", 2)) < 0) return -1;
    if (enc_memoize(e, v) < 0) return -1;
    if (n == 0) return 0;
    eframe *f = enc_push(e, EF_DICT, v);
    if (!f) return -1;
    if (d) {
        f->src = SEQ_DICT;
        f->seq.u.entries = d->entries;
    } else {
        f->src = SEQ_PAIRS;
        f->seq.u.items = keys;
        f->seq.vals = vals;
    }
    f->width = 2;
    f->seq.n = n;
    enc_batch_init(f, e->proto ? BM_DICT_EXACT : BM_SINGLE, OP_SETITEM, OP_SETITEMS);
    return 1;
}

int enc_push_dict(encoder *e, const brine_value *v) {
    return push_dict(e, v, &v->u.set, NULL, NULL, v->u.set.n);
}

int enc_save_fresh_dict(encoder *e, brine_value *const *keys, brine_value *const *vals, size_t n) {
    if (out_boundary(e) < 0) return -1;
    return push_dict(e, NULL, NULL, keys, vals, n);
}

int enc_push_set(encoder *e, const brine_value *v) {
    const bdict *d = &v->u.set;
    if (v->kind == BRINE_FROZENSET) {
        eframe *f = enc_push(e, EF_FROZENSET, v);
        if (!f) return -1;
        f->src = SEQ_SET;
        f->width = 1;
        f->seq.u.entries = d->entries;
        f->seq.n = d->n;
        if (enc_enter(e, f) < 0) return -1;
        return out_byte(e, OP_MARK) < 0 ? -1 : 1;
    }
    if (out_byte(e, OP_EMPTY_SET) < 0 || enc_memoize(e, v) < 0) return -1;
    if (d->n == 0) return 0;
    eframe *f = enc_push(e, EF_SET, v);
    if (!f) return -1;
    f->src = SEQ_SET;
    f->width = 1;
    f->seq.u.entries = d->entries;
    f->seq.n = d->n;
    enc_batch_init(f, BM_SET, OP_ADDITEMS, OP_ADDITEMS);
    return 1;
}

int enc_step_list(encoder *e, size_t fi) {
    return enc_batch_step(e, fi);
}

int enc_step_dict(encoder *e, size_t fi) {
    return enc_batch_step(e, fi);
}

int enc_step_set(encoder *e, size_t fi) {
    return enc_batch_step(e, fi);
}

int enc_step_frozenset(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    while (f->b.pos < f->seq.n) {
        int r = enc_save(e, f->seq.u.entries[f->b.pos++].key);
        if (r) return r;
    }
    int64_t idx = enc_memo_index(e, f->node);
    if (idx >= 0) {
        /* Recursive: the frozenset was written while saving its items. */
        if (enc_note_recursed(e, f->node) < 0) return -1;
        if (out_byte(e, OP_POP_MARK) < 0) return -1;
        return enc_write_get(e, (uint64_t)idx);
    }
    if (out_byte(e, OP_FROZENSET) < 0) return -1;
    return enc_memoize(e, f->node);
}
