/*
 * encode_objects.c - save_global, save_reduce over object nodes, the
 * operations recorded on globals and objects (listitems, dictitems, state),
 * state setters, and the placement of the document's discarded nodes.
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
            return enc_push(e, EF_SETTER, s->call) ? 1 : -1;
        }
    }
}

/* save_reduce's state_setter: setter, obj, state, TUPLE2 REDUCE POP. The
 * pair is built on the stack, not saved as a tuple, so it takes no memo. */
int enc_step_setter(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    const bobject *o = f->node->u.o;
    while (f->state < 3) {
        const brine_value *child = f->state == 0 ? o->callable : o->args[f->state - 1];
        f->state++;
        int r = enc_save(e, child);
        if (r) return r;
    }
    static const uint8_t tail[3] = {OP_TUPLE2, OP_REDUCE, OP_POP};
    return out_write(e, tail, 3);
}

/* ------------------------------------------------------------------------ */
/* Discarded nodes                                                           */
/* ------------------------------------------------------------------------ */

/* Whether x is reachable from d's callable, arguments or keyword arguments
 * (through no more than *budget nodes, which it uses up): 1, 0, or -1 on
 * allocation failure. The budget keeps the checks of all discarded nodes
 * together linear in the size of the document. */
static int reaches(encoder *e, const brine_value *d, const brine_value *x, size_t *budget) {
    ptrmap seen;
    ptrmap_init(&seen, &e->alloc);
    size_t n = 0, cap = 64;
    int found = 0;
    const brine_value **stack = e->alloc.malloc(e->alloc.ctx, cap * sizeof *stack);
    if (!stack) goto nomem;
    stack[n++] = d;
    while (n && !found && *budget) {
        const brine_value *v = stack[--n];
        size_t slots = graph_nslots(v);
        for (size_t i = 0; i < slots && !found; i++) {
            const brine_value *c = graph_slot(v, i);
            int inserted;
            if (!c) continue;
            if (c == x) found = 1;
            if (!ptrmap_put(&seen, c, &inserted)) goto nomem;
            if (!inserted || !graph_nslots(c)) continue;
            if (*budget) --*budget;
            if (n == cap) {
                const brine_value **t =
                    e->alloc.realloc(e->alloc.ctx, stack, cap * sizeof *t, 2 * cap * sizeof *t);
                if (!t) goto nomem;
                stack = t;
                cap *= 2;
            }
            stack[n++] = c;
        }
    }
    e->alloc.free(e->alloc.ctx, stack, cap * sizeof *stack);
    ptrmap_free(&seen);
    return found;
nomem:
    if (stack) e->alloc.free(e->alloc.ctx, stack, cap * sizeof *stack);
    ptrmap_free(&seen);
    return enc_fail(e, BRINE_E_NOMEM, NULL);
}

/* call(setter, (X, state)) with X written from the root by save_reduce:
 * CPython's state setter call, `setter X state TUPLE2 REDUCE POP` right
 * after X is memoized. */
static int is_setter(const encoder *e, const brine_value *d, const ptrmap *seen) {
    if (d->kind != BRINE_OBJECT) return 0;
    const bobject *o = d->u.o;
    return o->make == BRINE_MAKE_CALL && o->nargs == 2 && o->nkw == 0 && o->log.n == 0 &&
           o->callable != o->args[0] && enc_written_by_reduce(e, o->args[0]) &&
           ptrmap_get(seen, o->args[0]) != NULL;
}

/* Whether a and b are the same object to CPython's pickler as far as a
 * stream can tell: numbers, None and bools are never memoized, so each of
 * their occurrences is a node of its own, equal by value. */
static int same_atom(const brine_value *a, const brine_value *b) {
    if (a == b) return 1;
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case BRINE_FLOAT: return a->u.fbits == b->u.fbits;
    case BRINE_INT:
        if ((a->flags ^ b->flags) & (VF_BIG | VF_NEG)) return 0;
        if (!(a->flags & VF_BIG)) return a->u.i == b->u.i;
        return a->u.big.n == b->u.big.n &&
               memcmp(a->u.big.limbs, b->u.big.limbs, a->u.big.n * sizeof *a->u.big.limbs) == 0;
    default: return 0;
    }
}

static uint64_t atom_hash(const brine_value *v) {
    switch (v->kind) {
    case BRINE_FLOAT: return v->u.fbits * 0x9E3779B97F4A7C15u + 1;
    case BRINE_INT:
        if (!(v->flags & VF_BIG)) return (uint64_t)v->u.i * 0x9E3779B97F4A7C15u + 2;
        return v->u.big.limbs[0] * 0x9E3779B97F4A7C15u + v->u.big.n + (v->flags & VF_NEG);
    default: return (uintptr_t)v;
    }
}

/* Whether a and b can be the same argument of a reduce and of its popped
 * copy: the same object, or containers the __reduce__ made afresh for each
 * call (the list of set(list) below protocol 4, for one) with the same
 * items. */
static int same_arg(const brine_value *a, const brine_value *b) {
    if (same_atom(a, b)) return 1;
    if (a->kind != b->kind) return 0;
    size_t n = graph_nslots(a);
    if ((a->kind != BRINE_LIST && a->kind != BRINE_TUPLE && a->kind != BRINE_DICT) ||
        n != graph_nslots(b))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!same_atom(graph_slot(a, i), graph_slot(b, i))) return 0;
    return 1;
}

static uint64_t arg_hash(const brine_value *v) {
    if (v->kind != BRINE_LIST && v->kind != BRINE_TUPLE && v->kind != BRINE_DICT)
        return atom_hash(v);
    uint64_t h = v->kind * 0x100000001B3u + graph_nslots(v);
    for (size_t i = 0; i < graph_nslots(v); i++)
        h = (h ^ atom_hash(graph_slot(v, i))) * 0x100000001B3u;
    return h;
}

/* Made like x (same callable, arguments and keyword arguments). */
static int same_making(const brine_value *d, const brine_value *x) {
    const bobject *a = d->u.o, *b = x->u.o;
    if (a->make != b->make || a->callable != b->callable || a->nargs != b->nargs ||
        a->nkw != b->nkw)
        return 0;
    for (uint32_t i = 0; i < a->nargs; i++)
        if (!same_arg(a->args[i], b->args[i])) return 0;
    for (uint32_t i = 0; i < a->nkw; i++)
        if (a->kwkeys[i] != b->kwkeys[i] || !same_arg(a->kwvals[i], b->kwvals[i])) return 0;
    return 1;
}

/* A hash of how an object node was made, never 0 (it is a ptrmap key). */
static uintptr_t making_hash(const brine_value *v) {
    const bobject *o = v->u.o;
    uint64_t h =
        0x9E3779B97F4A7C15u ^ o->make ^ ((uint64_t)o->nargs << 8) ^ ((uint64_t)o->nkw << 40);
    h = (h ^ (uintptr_t)o->callable) * 0xff51afd7ed558ccdu;
    for (uint32_t i = 0; i < o->nargs; i++)
        h = (h ^ arg_hash(o->args[i])) * 0xff51afd7ed558ccdu;
    for (uint32_t i = 0; i < o->nkw; i++)
        h = (h ^ (uintptr_t)o->kwkeys[i] ^ (arg_hash(o->kwvals[i]) << 1)) * 0xff51afd7ed558ccdu;
    return (uintptr_t)(h ^ (h >> 31)) | 1;
}

/* What becomes of each discarded node. */
enum {
    D_BEFORE,  /* written before the root: save(node) POP */
    D_SETTER,  /* a state setter call, written after its object */
    D_TWIN,    /* a recursive reduce's popped copy: the recursion writes it */
    D_SUBST,   /* the popped copy of a discarded object: write that object */
    D_COVERED, /* written where the root or another discarded node reaches it */
    D_ROOT,    /* the root reaches it: not discarded at all */
};

/* Sorts out the twins among the D_TWIN candidates: a candidate made like a
 * written object x is x's popped copy (D_TWIN when the root writes x, else
 * D_SUBST with match[i] = x); the others are written on their own. */
static int match_twins(encoder *e, const ptrmap *twins, const size_t *next, uint8_t *cls,
                       const brine_value **match, const ptrmap *from_root) {
    const ptrvec *dv = &e->doc->discarded;
    ptrmap all, index; /* index: discarded node -> position + 1 */
    ptrmap_init(&all, &e->alloc);
    ptrmap_init(&index, &e->alloc);
    int rc = enc_mark_reachable(e, &all, e->doc->root);
    for (size_t i = 0; rc == 0 && i < dv->n; i++) {
        uint64_t *slot = ptrmap_put(&index, dv->items[i], NULL);
        if (!slot)
            rc = enc_fail(e, BRINE_E_NOMEM, NULL);
        else if (!*slot)
            *slot = i + 1;
        if (rc == 0) rc = enc_mark_reachable(e, &all, dv->items[i]);
    }
    for (size_t s = 0; rc == 0 && all.slots && s <= all.mask; s++) {
        const brine_value *x = all.slots[s].key;
        if (!x || x->kind != BRINE_OBJECT) continue;
        const uint64_t *head = ptrmap_get(twins, (const void *)making_hash(x));
        const uint64_t *at = ptrmap_get(&index, x);
        for (size_t i = head ? (size_t)*head : 0; i; i = next[i - 1]) {
            /* The written object is made before its popped copy. */
            if (dv->items[i - 1] == x || (at && *at >= i) || !same_making(dv->items[i - 1], x))
                continue;
            if (!match[i - 1] || ptrmap_get(from_root, x)) match[i - 1] = x;
        }
    }
    /* A popped copy exists only when the arguments reach the object. */
    size_t budget = 4 * all.n + 4096;
    for (size_t i = 0; rc == 0 && i < dv->n; i++) {
        if (cls[i] != D_TWIN) continue;
        if (match[i]) {
            int r = reaches(e, dv->items[i], match[i], &budget);
            if (r < 0) rc = -1;
            if (r <= 0) match[i] = NULL;
        }
        cls[i] = !match[i] ? D_BEFORE : ptrmap_get(from_root, match[i]) ? D_TWIN : D_SUBST;
        uint64_t *slot = match[i] ? ptrmap_put(&e->twin_of, match[i], NULL) : NULL;
        if (match[i] && !slot) {
            rc = enc_fail(e, BRINE_E_NOMEM, NULL);
        } else if (slot) {
            /* Later copies are outer ones: written first. */
            e->twin_next[i] = (size_t)*slot;
            *slot = i + 1;
        }
    }
    ptrmap_free(&all);
    ptrmap_free(&index);
    return rc;
}

int enc_plan_discarded(encoder *e) {
    const ptrvec *dv = &e->doc->discarded;
    if (!dv->n) return 0;
    ptrmap seen, twins;
    ptrmap_init(&seen, &e->alloc);
    ptrmap_init(&twins, &e->alloc); /* making hash -> first candidate + 1 */
    uint8_t *cls = arena_zalloc(&e->arena, dv->n);
    size_t *next = arena_zalloc(&e->arena, dv->n * sizeof *next);
    const brine_value **match = arena_zalloc(&e->arena, dv->n * sizeof *match);
    e->twin_next = arena_zalloc(&e->arena, dv->n * sizeof *e->twin_next);
    e->setters = arena_alloc(&e->arena, dv->n * sizeof *e->setters);
    e->before_root = arena_alloc(&e->arena, dv->n * sizeof *e->before_root);
    int rc = cls && next && match && e->twin_next && e->setters && e->before_root
                 ? enc_mark_reachable(e, &seen, e->doc->root)
                 : enc_fail(e, BRINE_E_NOMEM, NULL);
    int any_twin = 0;
    for (size_t i = dv->n; rc == 0 && i-- > 0;) {
        const brine_value *d = dv->items[i];
        if (ptrmap_get(&seen, d)) {
            cls[i] = D_ROOT;
        } else if (is_setter(e, d, &seen)) {
            /* Walking backwards and prepending keeps the setters of one
             * object in the order they were made. */
            uint64_t *head = ptrmap_put(&e->setter_of, d->u.o->args[0], NULL);
            if (!head) {
                rc = enc_fail(e, BRINE_E_NOMEM, NULL);
                break;
            }
            e->setters[e->nsetters].call = d;
            e->setters[e->nsetters].next = (size_t)*head;
            *head = ++e->nsetters;
            cls[i] = D_SETTER;
        } else if (d->kind == BRINE_OBJECT && d->u.o->log.n == 0) {
            /* A reduce whose object was written while saving its own
             * arguments leaves CPython's outer copy popped: the twin of
             * the written object, made from the same callable and args. */
            uint64_t *head = ptrmap_put(&twins, (const void *)making_hash(d), NULL);
            if (!head) {
                rc = enc_fail(e, BRINE_E_NOMEM, NULL);
                break;
            }
            next[i] = (size_t)*head;
            *head = i + 1;
            any_twin = 1;
            cls[i] = D_TWIN;
        }
    }
    if (rc == 0 && any_twin) rc = match_twins(e, &twins, next, cls, match, &seen);
    /* The decoder lists a discarded node ahead of later ones that reach it
     * (a call inside a persistent id's pid, an object in a setter's
     * state), as it was made first. Walking backwards, a node the root or
     * a later discarded node reaches is written there, not on its own. */
    for (size_t i = dv->n; rc == 0 && i-- > 0;) {
        const brine_value *d = cls[i] == D_SUBST ? match[i] : dv->items[i];
        if (cls[i] == D_ROOT) continue;
        if ((cls[i] == D_BEFORE || cls[i] == D_SUBST) && ptrmap_get(&seen, d)) {
            cls[i] = D_COVERED;
            continue;
        }
        rc = enc_mark_reachable(e, &seen, d);
    }
    /* The others go before the root, save(node) POP, in their order; one
     * that an earlier one reaches is written inside it. */
    ptrmap written;
    ptrmap_init(&written, &e->alloc);
    for (size_t i = 0; rc == 0 && i < dv->n; i++) {
        const brine_value *d = cls[i] == D_SUBST ? match[i] : dv->items[i];
        if ((cls[i] != D_BEFORE && cls[i] != D_SUBST) || ptrmap_get(&written, d)) continue;
        e->before_root[e->nbefore++] = d;
        rc = enc_mark_reachable(e, &written, d);
    }
    ptrmap_free(&written);
    ptrmap_free(&seen);
    ptrmap_free(&twins);
    return rc;
}
