/*
 * encode_objects.c - save_global, save_reduce over object nodes, and the
 * operations recorded on globals and objects (listitems, dictitems, state);
 * state setters and the other discarded nodes are in encode_discarded.c.
 *
 * An object node records what a __reduce__ tuple made: call(f, args) is
 * `f args REDUCE`, new(C, args) is `C args NEWOBJ` (protocol >= 2) and
 * new(C, args, kwargs) is NEWOBJ_EX (protocol >= 4); the forms CPython uses
 * below those protocols are built in encode_reduce.c. After the object is
 * memoized come its operations in their recorded order, consecutive runs of
 * EXTEND and SETITEM batched as batch_list / batch_dict batch an iterator.
 */
#include <string.h>

#include "compat.h"
#include "encode.h"
#include "encode_memo.h"
#include "graph.h"

/* ------------------------------------------------------------------------ */
/* Globals                                                                   */
/* ------------------------------------------------------------------------ */

static int has_ops(encoder *e, const brine_value *v) {
    const oplog *log = val_oplog((brine_value *)v);
    return (log && log->n) || ptrmap_get(&e->setter_of, v) != NULL;
}

/* Turns frame fi into the EF_OPS frame of x. */
static void begin_ops(encoder *e, size_t fi, const brine_value *x) {
    eframe *f = &e->stack[fi];
    /* The object is memoized now; the recursion guard is done with it. */
    enc_leave(e, f);
    memset(f, 0, sizeof *f);
    f->kind = EF_OPS;
    f->node = x;
}

/* get_dotted_path() refuses names with a "<locals>" component. */
static int has_locals(const char *name, size_t n) {
    static const char comp[] = "<locals>";
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || name[i] == '.') {
            if (i - start == sizeof comp - 1 && memcmp(name + start, comp, i - start) == 0)
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

/* The text of a GLOBAL line: ASCII below protocol 3, strict UTF-8 (no lone
 * surrogates) at 3. Returns 1 when encodable. */
static int global_text_ok(int proto, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x80) continue;
        if (proto < 3) return 0;
        /* WTF-8 surrogates are ED A0..BF xx. */
        if (c == 0xED && i + 1 < n && ((unsigned char)p[i + 1] & 0xE0) == 0xA0) return 0;
    }
    return 1;
}

int enc_save_global(encoder *e, const brine_value *g) {
    const bglobal *gl = g->u.g;
    if (has_locals(gl->name, gl->nlen))
        return enc_fail(e, BRINE_E_NO_ATTRIBUTE, "Can't pickle local object");
    /* save_global imports the module first. PyImport_Import passes an
     * empty fromlist, so __import__ imports the first dotted component
     * too, and an empty one never imports ('', '.x': "Empty module name"),
     * however sys.modules is set up. */
    if (gl->mlen == 0 || gl->module[0] == '.')
        return enc_fail(e, BRINE_E_PICKLING,
                        "Can't pickle a global: import of a module whose name starts with an "
                        "empty component failed");
    if (e->proto >= 4) return enc_push(e, EF_GLOBAL4, g) ? 1 : -1;
    /* Deliberately stricter than CPython, which would write a GLOBAL line
     * that no unpickler reads back as this name: one with a newline, or an
     * empty name line (an empty qualified name, or an empty first component
     * such as '.x', whose getattr() chain starts from GLOBAL 'm\n\n'); its
     * own unpickler rejects that as truncated. */
    if (memchr(gl->module, '\n', gl->mlen) || memchr(gl->name, '\n', gl->nlen))
        return enc_fail(e, BRINE_E_PICKLING,
                        "a global name with a newline cannot be pickled with protocol < 4");
    if (gl->nlen == 0 || gl->name[0] == '.')
        return enc_fail(e, BRINE_E_PICKLING,
                        "a global whose qualified name starts with an empty component cannot be "
                        "pickled with protocol < 4");
    const char *dot = gl->nlen ? memchr(gl->name, '.', gl->nlen) : NULL;
    if (dot) {
        size_t last = gl->nlen;
        while (gl->name[last - 1] != '.')
            last--;
        return enc_save_dotted_global(e, g, last - 1);
    }
    const char *module = gl->module, *name = gl->name;
    size_t mlen = gl->mlen, nlen = gl->nlen;
    if (e->proto < 3 && e->opts->fix_imports)
        compat_map(&compat_3to2, &module, &mlen, &name, &nlen);
    if (!global_text_ok(e->proto, module, mlen))
        return enc_fail(e, BRINE_E_PICKLING,
                        e->proto < 3 ? "can't pickle module identifier using pickle protocol < 3"
                                     : "can't pickle module identifier using pickle protocol 3");
    if (!global_text_ok(e->proto, name, nlen))
        return enc_fail(e, BRINE_E_PICKLING,
                        e->proto < 3 ? "can't pickle global identifier using pickle protocol < 3"
                                     : "can't pickle global identifier using pickle protocol 3");
    if (out_byte(e, OP_GLOBAL) < 0 || out_write(e, module, mlen) < 0 || out_byte(e, '\n') < 0 ||
        out_write(e, name, nlen) < 0 || out_byte(e, '\n') < 0 || enc_memoize(e, g) < 0)
        return -1;
    if (!has_ops(e, g)) return 0;
    return enc_push(e, EF_OPS, g) ? 1 : -1;
}

int enc_step_global4(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    const bglobal *gl = f->node->u.g;
    int r;
    switch (f->state) {
    case 0:
        f->state = 1;
        if ((r = enc_save(e, gl->module_str)) != 0) return r;
        /* fallthrough */
    case 1:
        f->state = 2;
        if ((r = enc_save(e, gl->name_str)) != 0) return r;
        /* fallthrough */
    default:
        f = &e->stack[fi];
        if (out_byte(e, OP_STACK_GLOBAL) < 0 || enc_memoize(e, f->node) < 0) return -1;
        if (!has_ops(e, f->node)) return 0;
        begin_ops(e, fi, f->node);
        return 1;
    }
}

/* ------------------------------------------------------------------------ */
/* Objects and save_reduce                                                   */
/* ------------------------------------------------------------------------ */

eframe *enc_push_reduce(encoder *e, const brine_value *callable, const brine_value *obj,
                        uint8_t op) {
    eframe *f = enc_push(e, EF_REDUCE, obj);
    if (!f) return NULL;
    f->callable = callable;
    f->op = op;
    f->src = SEQ_ARRAY;
    f->width = 1;
    if (obj && enc_enter(e, f) < 0) return NULL;
    return f;
}

int enc_save_object(encoder *e, const brine_value *v) {
    const bobject *o = v->u.o;
    /* An object with a popped copy is written first with the copy's
     * arguments: they reach the object again, which is written there in
     * full, and this outer write ends in POP and a memo fetch. */
    uint64_t *twin = ptrmap_get(&e->twin_of, v);
    if (twin && *twin) {
        size_t i = (size_t)*twin - 1;
        o = e->doc->discarded.items[i]->u.o;
        *twin = e->twin_next[i];
    }
    uint8_t op = OP_REDUCE;
    if (o->make == BRINE_MAKE_NEW) {
        /* NEWOBJ_EX is kept for an empty kwargs dict too when the stream
         * had one (copyreg.__newobj_ex__ from a custom __reduce__). */
        int ex = o->nkw > 0 || v->u.o->opcode == OP_NEWOBJ_EX;
        if (ex ? e->proto < 4 : e->proto < 2) return enc_save_new_reduce(e, v, o, ex);
        op = ex ? OP_NEWOBJ_EX : OP_NEWOBJ;
    }
    eframe *f = enc_push_reduce(e, o->callable, v, op);
    if (!f) return -1;
    f->seq.u.items = o->args;
    f->seq.n = o->nargs;
    f->args_node = o->args_tuple;
    f->kwargs_node = o->kwargs_dict;
    f->kwkeys = o->kwkeys;
    f->kwvals = o->kwvals;
    f->nkw = o->nkw;
    return 1;
}

int enc_step_reduce(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    int r;
    switch (f->state) {
    case 0:
        f->state = 1;
        if ((r = enc_save(e, f->callable)) != 0) return r;
        f = &e->stack[fi];
        /* fallthrough */
    case 1:
        f->state = 2;
        /* The args tuple is a fresh object CPython memoizes like any tuple. */
        r = f->args_node ? enc_save(e, f->args_node)
                         : enc_save_fresh_tuple(e, f->seq.u.items, f->seq.n);
        if (r) return r;
        f = &e->stack[fi];
        /* fallthrough */
    case 2:
        f->state = 3;
        if (f->op == OP_NEWOBJ_EX &&
            (r = f->kwargs_node ? enc_save(e, f->kwargs_node)
                                : enc_save_fresh_dict(e, f->kwkeys, f->kwvals, f->nkw)))
            return r;
        f = &e->stack[fi];
        /* fallthrough */
    default: break;
    }
    if (out_byte(e, f->op) < 0) return -1;
    const brine_value *obj = f->node;
    if (obj) {
        int64_t idx = enc_memo_index(e, obj);
        if (idx >= 0) {
            /* Recursive reduce: the object was written while saving its
             * arguments. CPython pops this copy, fetches that one, and
             * writes no state for it again. */
            if (e->record_popped && e->copies) {
                uint64_t *n = ptrmap_put(e->copies, obj, NULL);
                if (!n) return enc_fail(e, BRINE_E_NOMEM, NULL);
                ++*n;
            }
            if (out_byte(e, OP_POP) < 0) return -1;
            return enc_write_get(e, (uint64_t)idx);
        }
        if (enc_memoize(e, obj) < 0) return -1;
    }
    /* Values reduced because the protocol has no opcode for them take
     * state setters like objects (see enc_written_by_reduce). */
    const brine_value *x = obj;
    if (f->post_memo) {
        if (enc_memoize(e, f->post_memo) < 0) return -1;
        x = f->post_memo;
    }
    if (!x || !has_ops(e, x)) return 0;
    begin_ops(e, fi, x);
    return 1;
}

/* The operations of f->node in order, then its state setters. */
int enc_step_ops(encoder *e, size_t fi) {
    for (;;) {
        eframe *f = &e->stack[fi];
        const oplog *log = val_oplog((brine_value *)f->node);
        size_t nops = log ? log->n : 0; /* reduced values have setters only */
        int r;
        switch (f->state) {
        case 0: { /* next operation */
            if (f->k >= nops) {
                const uint64_t *head = ptrmap_get(&e->setter_of, f->node);
                f->k = head ? (size_t)*head : 0;
                f->state = 3;
                break;
            }
            const oprec *op = &log->ops[f->k];
            if (op->kind == BRINE_OP_SETSTATE) {
                f->state = 1;
                if ((r = enc_save(e, op->a)) != 0) return r;
                break;
            }
            size_t end = f->k + 1;
            while (end < nops && log->ops[end].kind == op->kind)
                end++;
            f->src = op->kind == BRINE_OP_SETITEM ? SEQ_OPS2 : SEQ_OPS1;
            f->width = op->kind == BRINE_OP_SETITEM ? 2 : 1;
            f->seq.u.ops = op;
            f->seq.n = end - f->k;
            if (op->kind == BRINE_OP_ADD)
                enc_batch_init(f, BM_ADD, OP_ADDITEMS, OP_ADDITEMS);
            else if (op->kind == BRINE_OP_SETITEM)
                enc_batch_init(f, e->proto ? BM_ITER : BM_SINGLE, OP_SETITEM, OP_SETITEMS);
            else
                enc_batch_init(f, e->proto ? BM_ITER : BM_SINGLE, OP_APPEND, OP_APPENDS);
            f->state = 2;
            break;
        }
        case 1: /* state saved */
            if (out_byte(e, OP_BUILD) < 0) return -1;
            f->k++;
            f->state = 0;
            break;
        case 2: /* a run of items */
            if ((r = enc_batch_step(e, fi)) != 0) return r;
            f = &e->stack[fi];
            f->k += f->seq.n;
            f->state = 0;
            break;
        default: /* setters: f->k is the next one's index + 1 */
            if (!f->k) return 0;
            const esetter *s = &e->setters[f->k - 1];
            f->k = s->next;
            if (!s->call) break; /* found to be a popped copy instead */
            return enc_push(e, EF_SETTER, s->call) ? 1 : -1;
        }
    }
}
