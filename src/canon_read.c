/*
 * canon_read.c - the canonical text reader (docs/canonical.md).
 *
 * The reader is strict: it accepts exactly the texts brine_canon_write can
 * print, so that printing what it read gives back the same bytes. Every
 * literal, number and separator is checked against the one spelling the
 * printer uses, labels must be numbered in order of first appearance and
 * used, and every node is made the way the printer's walk met it.
 *
 * Parsing is a loop over an explicit stack of frames, one per open
 * container, global, object, persid or readonly view, so that the text may
 * nest as deep as memory allows. Each frame has a small state; a child value
 * is either finished at once (atoms, references) or opens a frame of its
 * own. Nodes with identity are made when their text opens (before their
 * children) so that a child can refer back to them: `&1 [*1]`. Globals and
 * readonly views, whose children can never refer to them, are made when
 * their text closes. Dict, set and frozenset insertions and the check for
 * impossible cycles wait until the document is complete (canon_read_check.c).
 */
#include <string.h>

#include "canon_read.h"
#include "errors.h"
#include "value.h"

enum { R_ERR = 0, R_VALUE = 1, R_FRAME = 2 };

enum ftype {
    FT_TUPLE,
    FT_LIST,
    FT_BRACE, /* `{` whose first item does not yet tell dict from set */
    FT_DICT,
    FT_SET,
    FT_FROZENSET,
    FT_GLOBAL,
    FT_OBJECT,
    FT_PERSID,
    FT_READONLY
};

/* Frame states; those from S_OPS on are a global's or object's operations. */
enum fstate {
    S_ITEM,
    S_KEY,
    S_VALUE,
    S_MODULE,
    S_NAME,
    S_CALLABLE,
    S_ARGS,
    S_KWARGS,
    S_OPS,    /* after the node or an operation */
    S_EXTEND, /* in .extend([...]) */
    S_SETKEY,
    S_SETVAL,
    S_ONE /* the operand of .add() or .setstate() */
};

typedef struct frame {
    uint8_t type, state;
    uint8_t op;          /* S_ONE: BRINE_OP_ADD or BRINE_OP_SETSTATE */
    uint8_t last_extend; /* the previous operation was an extend */
    brine_value *node;   /* NULL for a global or readonly view not made yet */
    size_t label;        /* label to give the node when it is made, or 0 */
    size_t base;         /* its first child on the item stack */
    size_t start;        /* text offset of the node */
    /* 1 + index of the highest frame at or below this one that was entered
     * through an edge added after its parent was made (list item, dict or
     * set entry, operand of an operation); 0 if none. */
    size_t mut_depth;
} frame;

typedef struct label {
    brine_value *node; /* NULL until the node is made */
    size_t off;        /* of the `&` */
    int used;
} label;

typedef struct reader {
    cr_text x; /* the text, the literal buffer, the failure */
    brine_doc *doc;
    const brine_alloc *al;
    frame *fr;
    size_t nfr, capfr;
    cr_pair *items; /* children of open frames (only .key and .off are used) */
    size_t nitems, capitems;
    label *labels;
    size_t nlabels, caplabels;
    /* the value just finished */
    brine_value *val;
    size_t val_off;
    int val_ref;
    cr_post post;
} reader;

int cr_grow(const brine_alloc *al, void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 1;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > ((size_t)-1 / 2) / size) return 0;
        ncap *= 2;
    }
    void *q =
        *p ? al->realloc(al->ctx, *p, *cap * size, ncap * size) : al->malloc(al->ctx, ncap * size);
    if (!q) return 0;
    *p = q;
    *cap = ncap;
    return 1;
}

static int fail(reader *r, size_t off, const char *msg) {
    return cr_fail(&r->x, off, msg);
}

static int nomem(reader *r) {
    return cr_nomem(&r->x);
}

static int scratch_nomem(reader *r) {
    return cr_scratch_nomem(&r->x);
}

static int at(const reader *r, char c) {
    return cr_at(&r->x, c);
}

static int peek(const reader *r, const char *s) {
    return cr_peek(&r->x, s);
}

static int lit(reader *r, const char *s) {
    return cr_lit(&r->x, s);
}

/* --- nodes --- */

/* Nodes that can carry a label, as canon_write.c decides. */
static int labelable(const brine_value *v) {
    switch (v->kind) {
    case BRINE_NONE:
    case BRINE_BOOL:
    case BRINE_INT:
    case BRINE_FLOAT: return 0;
    case BRINE_STR: return !(v->flags & VF_SINGLETON);
    case BRINE_BYTES: return v->u.s.n != 0;
    case BRINE_TUPLE: return v->u.tup.n != 0;
    default: return 1;
    }
}

/* Kinds with edges fixed when the node is made that can lead to a node with
 * identity: the only kinds a creation cycle can pass through. */
static int has_creation_edges(const brine_value *v) {
    return v->kind == BRINE_TUPLE || v->kind == BRINE_FROZENSET || v->kind == BRINE_OBJECT ||
           v->kind == BRINE_PERSID;
}

static void bind_label(reader *r, size_t lab, brine_value *v) {
    if (lab) r->labels[lab - 1].node = v;
}

static int push_item(reader *r, brine_value *v, size_t off) {
    if (!cr_grow(r->al, (void **)&r->items, &r->capitems, r->nitems + 1, sizeof *r->items))
        return scratch_nomem(r);
    r->items[r->nitems++] = (cr_pair){v, NULL, off};
    return 1;
}

/* A finished atom (or empty container) at `start`, labelled `lab`. */
static int leaf(reader *r, brine_value *v, size_t lab, size_t start) {
    if (!v) return nomem(r);
    if (lab) {
        if (!labelable(v))
            return fail(r, r->labels[lab - 1].off, "this value cannot carry a label");
        bind_label(r, lab, v);
    }
    r->val = v;
    r->val_off = start;
    r->val_ref = 0;
    return R_VALUE;
}

/* Opens a frame whose first child comes next; `node` may be NULL (made
 * when the frame's text closes). mut: how the parent reaches the node. */
static int open_frame(reader *r, int type, int state, brine_value *node, size_t lab, size_t start,
                      int mut) {
    if (r->nfr >= CR_INDEX) return fail(r, start, "nesting too deep");
    if (!cr_grow(r->al, (void **)&r->fr, &r->capfr, r->nfr + 1, sizeof *r->fr))
        return scratch_nomem(r);
    frame *f = &r->fr[r->nfr];
    memset(f, 0, sizeof *f);
    f->type = (uint8_t)type;
    f->state = (uint8_t)state;
    f->node = node;
    f->base = r->nitems;
    f->start = start;
    f->mut_depth = mut ? r->nfr + 1 : r->nfr ? r->fr[r->nfr - 1].mut_depth : 0;
    if (node) {
        node->mark = CR_OPEN | (uint32_t)r->nfr;
        bind_label(r, lab, node);
    } else {
        f->label = lab;
    }
    r->nfr++;
    return R_FRAME;
}

/* Pops the top frame; its node is the value just finished. */
static int close_frame(reader *r) {
    frame *f = &r->fr[--r->nfr];
    f->node->mark = 0;
    r->nitems = f->base;
    r->val = f->node;
    r->val_off = f->start;
    r->val_ref = 0;
    return R_VALUE;
}

static int bytes_literal(reader *r, size_t *len) {
    if (!peek(r, "b'")) return fail(r, r->x.pos, "expected a bytes literal");
    r->x.pos++;
    return cr_literal(&r->x, 0, len);
}

/* --- values --- */

static int number_value(reader *r, size_t lab) {
    size_t p = r->x.pos;
    brine_value *v = cr_number(&r->x);
    return v ? leaf(r, v, lab, p) : R_ERR;
}

/* A reference `*N` in a slot of the top frame (mut as for begin_value). */
static int reference(reader *r, int mut) {
    size_t start = r->x.pos++, num;
    if (!cr_decimal_size(&r->x, &num, 0)) return fail(r, r->x.pos, "expected a label number");
    if (num > r->nlabels || !r->labels[num - 1].node)
        return fail(r, start, "label used before definition");
    label *l = &r->labels[num - 1];
    brine_value *v = l->node;
    l->used = 1;
    if ((v->mark & CR_OPEN) && !mut) {
        /* v encloses this slot, which was fixed when its owner was made:
         * only a mutation on the way down from v makes that possible
         * (`&1 ([*1],)` is a graph, `&1 (*1,)` is not). */
        size_t fi = v->mark & CR_INDEX;
        const frame *top = &r->fr[r->nfr - 1];
        if (top->mut_depth <= fi + 1)
            return fail(r, start,
                        "a node cannot contain itself through items fixed when it was made");
        if (has_creation_edges(v) && top->node) {
            cr_post *p = &r->post;
            if (!cr_grow(r->al, (void **)&p->susp, &p->capsusp, p->nsusp + 1, sizeof *p->susp))
                return scratch_nomem(r);
            p->susp[p->nsusp++] = (cr_susp){top->node, v, start};
        }
    }
    r->val = v;
    r->val_off = start;
    r->val_ref = 1;
    return R_VALUE;
}

/* Begins the value at r->x.pos, in a slot that the parent may have gained
 * after it was made (mut: list items, dict and set entries, operands of
 * operations) or not. Finishes it (R_VALUE, in r->val), opens a frame for
 * it (R_FRAME) or fails (R_ERR). */
static int begin_value(reader *r, int mut) {
    size_t start = r->x.pos, lab = 0;
    brine_doc *doc = r->doc;
    if (at(r, '*')) return reference(r, mut);
    if (at(r, '&')) {
        size_t num;
        r->x.pos++;
        if (!cr_decimal_size(&r->x, &num, 0)) return fail(r, r->x.pos, "expected a label number");
        if (num != r->nlabels + 1)
            return fail(r, start, "labels are numbered 1, 2, 3, ... in order of appearance");
        if (!lit(r, " ")) return fail(r, r->x.pos, "expected ' ' after the label");
        if (at(r, '&') || at(r, '*')) return fail(r, r->x.pos, "expected a node after the label");
        if (!cr_grow(r->al, (void **)&r->labels, &r->caplabels, r->nlabels + 1, sizeof *r->labels))
            return scratch_nomem(r);
        r->labels[r->nlabels++] = (label){NULL, start, 0};
        lab = num;
    }
    size_t p = r->x.pos, len, index;
    brine_value *v;
    uint64_t re, im;
    switch (p < r->x.n ? r->x.t[p] : '\0') {
    case 'N':
        if (lit(r, "None")) return leaf(r, &doc->none, lab, p);
        break;
    case 'T':
        if (lit(r, "True")) return leaf(r, &doc->t, lab, p);
        break;
    case 'F':
        if (lit(r, "False")) return leaf(r, &doc->f, lab, p);
        break;
    case '\'':
        if (!cr_literal(&r->x, 1, &len)) return R_ERR;
        v = val_str_copy(doc, (const char *)r->x.buf, len, wtf8_count((const char *)r->x.buf, len));
        return leaf(r, v, lab, p);
    case 'b':
        if (peek(r, "b'")) {
            if (!bytes_literal(r, &len)) return R_ERR;
            /* Fresh even for one byte: shared bytes carry labels. */
            return leaf(r, val_bytes_fresh(doc, r->x.buf, len, 0), lab, p);
        }
        if (lit(r, "bytearray(")) {
            if (!bytes_literal(r, &len)) return R_ERR;
            if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
            return leaf(r, val_bytearray(doc, r->x.buf, len), lab, p);
        }
        if (lit(r, "buffer(")) {
            size_t ip = r->x.pos;
            if (!cr_decimal_size(&r->x, &index, 1) || index == (size_t)-1)
                return fail(r, ip, "expected a buffer index");
            if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
            /* The text does not carry the data: pb.p stays NULL. */
            if ((v = val_new(doc, BRINE_PICKLEBUFFER))) v->u.pb.index = index;
            return leaf(r, v, lab, p);
        }
        break;
    case '(':
        if (lit(r, "()")) return leaf(r, val_tuple_owned(doc, NULL, 0), lab, p);
        r->x.pos++;
        if (!(v = val_new(doc, BRINE_TUPLE))) return nomem(r);
        return open_frame(r, FT_TUPLE, S_ITEM, v, lab, p, mut);
    case '[':
        if (lit(r, "[]")) return leaf(r, val_new(doc, BRINE_LIST), lab, p);
        r->x.pos++;
        if (!(v = val_new(doc, BRINE_LIST))) return nomem(r);
        return open_frame(r, FT_LIST, S_ITEM, v, lab, p, mut);
    case '{':
        if (lit(r, "{}")) return leaf(r, val_container(doc, BRINE_DICT), lab, p);
        r->x.pos++;
        if (!(v = val_container(doc, BRINE_DICT))) return nomem(r);
        return open_frame(r, FT_BRACE, S_ITEM, v, lab, p, mut);
    case 's':
        if (lit(r, "set()")) return leaf(r, val_container(doc, BRINE_SET), lab, p);
        break;
    case 'f':
        if (lit(r, "frozenset()")) return leaf(r, val_container(doc, BRINE_FROZENSET), lab, p);
        if (lit(r, "frozenset({")) {
            if (!(v = val_container(doc, BRINE_FROZENSET))) return nomem(r);
            return open_frame(r, FT_FROZENSET, S_ITEM, v, lab, p, mut);
        }
        break;
    case 'g':
        if (lit(r, "global(")) return open_frame(r, FT_GLOBAL, S_MODULE, NULL, lab, p, mut);
        break;
    case 'c':
    case 'n':
        if (lit(r, "call(") || lit(r, "new(")) {
            int make = r->x.t[p] == 'c' ? BRINE_MAKE_CALL : BRINE_MAKE_NEW;
            /* Made before its callable is read: the callable's operations
             * may refer to it. The opcode is what brine_new_object picks. */
            v = val_object(doc, (brine_make)make, make == BRINE_MAKE_CALL ? 'R' : 0x81, NULL, NULL,
                           0, NULL, NULL, 0);
            if (!v) return nomem(r);
            return open_frame(r, FT_OBJECT, S_CALLABLE, v, lab, p, mut);
        }
        if (lit(r, "complex(")) {
            if (!cr_float_only(&r->x, &re)) return R_ERR;
            if (!lit(r, ", ")) return fail(r, r->x.pos, "expected ', '");
            if (!cr_float_only(&r->x, &im)) return R_ERR;
            if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
            if ((v = val_new(doc, BRINE_COMPLEX))) {
                v->u.c.re = re;
                v->u.c.im = im;
            }
            return leaf(r, v, lab, p);
        }
        if (r->x.t[p] == 'n') return number_value(r, lab);
        break;
    case 'p':
        if (lit(r, "persid(")) {
            if (!(v = val_persid(doc, NULL))) return nomem(r);
            return open_frame(r, FT_PERSID, S_ITEM, v, lab, p, mut);
        }
        break;
    case 'r':
        if (lit(r, "readonly(")) return open_frame(r, FT_READONLY, S_ITEM, NULL, lab, p, mut);
        break;
    case 'i':
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': return number_value(r, lab);
    default: break;
    }
    return fail(r, p, "expected a value");
}

/* Whether the next child of f hangs on an edge the node may have gained
 * after it was made, so that it may lead back to an enclosing node. */
static int child_mut(const frame *f) {
    switch (f->type) {
    case FT_LIST:
    case FT_BRACE:
    case FT_DICT:
    case FT_SET: return 1;
    case FT_GLOBAL:
    case FT_OBJECT: return f->state >= S_OPS;
    default: return 0;
    }
}

static int begin_child(reader *r) {
    return begin_value(r, child_mut(&r->fr[r->nfr - 1]));
}

/* The n items from `from` on the item stack, as an arena array. */
static brine_value **items_array(reader *r, size_t from, size_t n) {
    brine_value **a = arena_alloc(&r->doc->arena, n * sizeof *a);
    if (a)
        for (size_t i = 0; i < n; i++)
            a[i] = r->items[from + i].key;
    return a;
}

/* Defers the insertion into `node` of the n entries (pairs when dict) from
 * item `from` on. */
static int defer_entries(reader *r, brine_value *node, size_t from, size_t n, int dict) {
    cr_post *p = &r->post;
    if (!cr_grow(r->al, (void **)&p->pend, &p->cappend, p->npend + n, sizeof *p->pend) ||
        !cr_grow(r->al, (void **)&p->conts, &p->capconts, p->nconts + 1, sizeof *p->conts))
        return scratch_nomem(r);
    for (size_t i = 0; i < n; i++) {
        const cr_pair *it = &r->items[from + (dict ? 2 * i : i)];
        p->pend[p->npend + i] = (cr_pair){it->key, dict ? it[1].key : NULL, it->off};
    }
    p->conts[p->nconts++] = (cr_cont){node, p->npend, n};
    p->npend += n;
    return 1;
}

/* Defers the items of a dict, set or frozenset frame and closes it. */
static int close_container(reader *r, frame *f) {
    int dict = f->type == FT_DICT;
    size_t n = r->nitems - f->base;
    if (f->type == FT_FROZENSET && r->post.nconts >= CR_INDEX)
        return fail(r, f->start, "too many frozensets");
    if (!defer_entries(r, f->node, f->base, dict ? n / 2 : n, dict)) return R_ERR;
    brine_value *node = f->node;
    close_frame(r);
    if (node->kind == BRINE_FROZENSET) node->mark = (uint32_t)r->post.nconts;
    return R_VALUE;
}

static int add_op(reader *r, frame *f, brine_op_kind kind, brine_value *a, brine_value *b) {
    oplog *log = val_oplog(f->node);
    if (log->n >= UINT32_MAX / 4) return fail(r, r->x.pos, "too many operations");
    return oplog_add(r->doc, log, kind, a, b) == BRINE_OK ? 1 : nomem(r);
}

/* After a global or object node or one of its operations. */
static int ops_next(reader *r, frame *f) {
    f->state = S_OPS;
    if (peek(r, ".extend([")) {
        if (f->last_extend)
            return fail(r, r->x.pos, "consecutive extends are written as one .extend()");
        r->x.pos += 9;
        if (at(r, ']')) return fail(r, r->x.pos, "an empty .extend() is not written");
        f->state = S_EXTEND;
    } else if (lit(r, ".setitem(")) {
        f->state = S_SETKEY;
    } else if (lit(r, ".add(")) {
        f->state = S_ONE;
        f->op = BRINE_OP_ADD;
    } else if (lit(r, ".setstate(")) {
        f->state = S_ONE;
        f->op = BRINE_OP_SETSTATE;
    } else if (at(r, '.')) {
        return fail(r, r->x.pos, "expected .extend([, .setitem(, .add( or .setstate(");
    } else {
        return close_frame(r);
    }
    f->last_extend = 0;
    return begin_child(r);
}

static int ops_child(reader *r, frame *f, brine_value *v, size_t off) {
    switch (f->state) {
    case S_EXTEND:
        if (!add_op(r, f, BRINE_OP_EXTEND, v, NULL)) return R_ERR;
        if (lit(r, ", ")) return begin_child(r);
        if (!lit(r, "])")) return fail(r, r->x.pos, "expected ', ' or '])'");
        f->state = S_OPS;
        f->last_extend = 1;
        return ops_next(r, f);
    case S_SETKEY:
        if (!push_item(r, v, off)) return R_ERR;
        if (!lit(r, ", ")) return fail(r, r->x.pos, "expected ', '");
        f->state = S_SETVAL;
        return begin_child(r);
    case S_SETVAL:
        if (!add_op(r, f, BRINE_OP_SETITEM, r->items[--r->nitems].key, v)) return R_ERR;
        break;
    default: /* S_ONE */
        if (!add_op(r, f, (brine_op_kind)f->op, v, NULL)) return R_ERR;
        break;
    }
    if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
    return ops_next(r, f);
}

static int object_child(reader *r, frame *f, brine_value *v, size_t off) {
    bobject *o = f->node->u.o;
    switch (f->state) {
    case S_CALLABLE:
        /* What the decoder can call: a global or an object (stubs). */
        if (v->kind != BRINE_GLOBAL && v->kind != BRINE_OBJECT)
            return fail(r, off, "a callable is a global or an object");
        o->callable = v;
        if (!lit(r, ", ")) return fail(r, r->x.pos, "expected ', '");
        f->state = S_ARGS;
        return begin_child(r);
    case S_ARGS:
        /* The stream's own tuple (a node, shared or not); the items are
         * copied into the object once the tuple is complete (cr_check). */
        if (v->kind != BRINE_TUPLE) return fail(r, off, "an object's arguments are a tuple");
        o->args_tuple = v;
        if (lit(r, ")")) return ops_next(r, f);
        if (o->make != BRINE_MAKE_NEW) return fail(r, r->x.pos, "expected ')'");
        if (!lit(r, ", ")) return fail(r, r->x.pos, "expected ')' or ', '");
        f->state = S_KWARGS;
        return begin_child(r);
    case S_KWARGS: {
        /* NEWOBJ_EX's dict (possibly empty), filled in with the other
         * dicts (cr_check). */
        if (v->kind != BRINE_DICT) return fail(r, off, "keyword arguments are a dict");
        cr_post *p = &r->post;
        if (!cr_grow(r->al, (void **)&p->kwobjs, &p->capkwobjs, p->nkwobjs + 1, sizeof *p->kwobjs))
            return scratch_nomem(r);
        p->kwobjs[p->nkwobjs++] = (cr_susp){f->node, v, off};
        o->kwargs_dict = v;
        o->opcode = 0x92; /* NEWOBJ_EX */
        if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
        return ops_next(r, f);
    }
    default: return ops_child(r, f, v, off);
    }
}

static int global_child(reader *r, frame *f, brine_value *v, size_t off) {
    if (f->state >= S_OPS) return ops_child(r, f, v, off);
    if (v->kind != BRINE_STR) return fail(r, off, "a global's module and name are strs");
    if (!push_item(r, v, off)) return R_ERR;
    if (f->state == S_MODULE) {
        if (!lit(r, ", ")) return fail(r, r->x.pos, "expected ', '");
        f->state = S_NAME;
        return begin_child(r);
    }
    if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
    brine_value *m = r->items[f->base].key, *nm = r->items[f->base + 1].key;
    r->nitems = f->base;
    size_t before = r->doc->nglobals;
    brine_value *g = val_global(r->doc, m->u.s.p, m->u.s.n, nm->u.s.p, nm->u.s.n, m, nm);
    if (!g) return nomem(r);
    /* find_class gives one node per name: a second sighting is a label. */
    if (r->doc->nglobals == before)
        return fail(r, f->start, "a global appears once; later uses are labels");
    f->node = g;
    g->mark = CR_OPEN | (uint32_t)(r->nfr - 1);
    bind_label(r, f->label, g);
    return ops_next(r, f);
}

/* Hands the value just finished to the top frame and goes on with it. */
static int child_done(reader *r) {
    frame *f = &r->fr[r->nfr - 1];
    brine_value *v = r->val;
    size_t off = r->val_off, k;
    switch (f->type) {
    case FT_TUPLE:
        if (!push_item(r, v, off)) return R_ERR;
        k = r->nitems - f->base;
        if ((k == 1 && lit(r, ",)")) || (k > 1 && lit(r, ")"))) {
            if (!(f->node->u.tup.items = items_array(r, f->base, k))) return nomem(r);
            f->node->u.tup.n = k;
            return close_frame(r);
        }
        if (lit(r, ", ")) return begin_child(r);
        return fail(r, r->x.pos, k == 1 ? "expected ', ' or ',)'" : "expected ', ' or ')'");
    case FT_LIST:
        if (!push_item(r, v, off)) return R_ERR;
        if (lit(r, ", ")) return begin_child(r);
        if (!lit(r, "]")) return fail(r, r->x.pos, "expected ', ' or ']'");
        k = r->nitems - f->base;
        if (!(f->node->u.list.items = items_array(r, f->base, k))) return nomem(r);
        f->node->u.list.n = f->node->u.list.cap = k;
        return close_frame(r);
    case FT_BRACE:
        if (!push_item(r, v, off)) return R_ERR;
        if (lit(r, ": ")) {
            f->type = FT_DICT;
            f->state = S_VALUE;
            return begin_child(r);
        }
        if (!peek(r, ", ") && !at(r, '}')) return fail(r, r->x.pos, "expected ': ', ', ' or '}'");
        f->type = FT_SET;
        f->node->kind = BRINE_SET;
        if (lit(r, ", ")) return begin_child(r);
        r->x.pos++;
        return close_container(r, f);
    case FT_SET:
    case FT_FROZENSET:
        if (!push_item(r, v, off)) return R_ERR;
        if (lit(r, ", ")) return begin_child(r);
        if (lit(r, f->type == FT_SET ? "}" : "})")) return close_container(r, f);
        return fail(r, r->x.pos,
                    f->type == FT_SET ? "expected ', ' or '}'" : "expected ', ' or '})'");
    case FT_DICT:
        if (!push_item(r, v, off)) return R_ERR;
        if (f->state == S_KEY) {
            if (!lit(r, ": ")) return fail(r, r->x.pos, "expected ': '");
            f->state = S_VALUE;
            return begin_child(r);
        }
        f->state = S_KEY;
        if (lit(r, ", ")) return begin_child(r);
        if (!lit(r, "}")) return fail(r, r->x.pos, "expected ', ' or '}'");
        return close_container(r, f);
    case FT_GLOBAL: return global_child(r, f, v, off);
    case FT_OBJECT: return object_child(r, f, v, off);
    case FT_PERSID:
        f->node->u.pid = v;
        if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
        return close_frame(r);
    default: /* FT_READONLY */
        if (v->kind != BRINE_BYTEARRAY && v->kind != BRINE_PICKLEBUFFER)
            return fail(r, off, "readonly() applies to a bytearray or a buffer");
        if (!lit(r, ")")) return fail(r, r->x.pos, "expected ')'");
        if (!(f->node = val_new(r->doc, BRINE_READONLY_VIEW))) return nomem(r);
        f->node->u.view.target = v;
        /* As READONLY_BUFFER does: the bytearray can no longer be resized. */
        if (v->kind == BRINE_BYTEARRAY) v->flags |= VF_EXPORTED;
        bind_label(r, f->label, f->node);
        return close_frame(r);
    }
}

/* One value, however deep, into r->val. */
static int parse_value(reader *r) {
    size_t base = r->nfr;
    int st = begin_value(r, 1);
    for (;;) {
        if (st == R_ERR) return 0;
        if (st == R_VALUE) {
            if (r->nfr == base) return 1;
            st = child_done(r);
        } else {
            st = begin_child(r);
        }
    }
}

static int end_of_line(reader *r) {
    if (r->x.pos == r->x.n) return fail(r, r->x.pos, "missing final newline");
    if (!lit(r, "\n")) return fail(r, r->x.pos, "expected end of line");
    return 1;
}

/* Fails at the first byte where the text stops matching s. */
static int expect(reader *r, const char *s, const char *msg) {
    if (lit(r, s)) return 1;
    size_t k = 0;
    while (s[k] && r->x.pos + k < r->x.n && r->x.t[r->x.pos + k] == s[k])
        k++;
    return fail(r, r->x.pos + k, msg);
}

static int parse_document(reader *r) {
    if (!expect(r, "root: ", "expected 'root: '")) return 0;
    if (!parse_value(r)) return 0;
    brine_doc_set_root(r->doc, r->val);
    if (!end_of_line(r)) return 0;
    while (r->x.pos < r->x.n) {
        if (!expect(r, "discarded: ", "expected 'discarded: ' or the end of the text")) return 0;
        size_t start = r->x.pos;
        if (!parse_value(r)) return 0;
        /* Nodes the lines above reach are not listed; a new node is one
         * they cannot reach, as labels are defined before they are used. */
        if (r->val_ref) return fail(r, start, "a discarded node is not reached from above");
        if (r->val->kind != BRINE_OBJECT && r->val->kind != BRINE_PERSID)
            return fail(r, start, "a discarded line holds an object or a persid");
        if (brine_doc_add_discarded(r->doc, r->val) != 0) return nomem(r);
        if (!end_of_line(r)) return 0;
    }
    for (size_t i = 0; i < r->nlabels; i++)
        if (!r->labels[i].used) return fail(r, r->labels[i].off, "a label that is never used");
    return 1;
}

brine_doc *brine_canon_read(const char *text, size_t len, const brine_alloc *alloc,
                            brine_error *err) {
    brine_clear_error(err);
    if (!text && len) {
        brine_set_error(err, BRINE_E_USAGE, "text is NULL", 0);
        return NULL;
    }
    brine_doc *doc = brine_doc_new(alloc);
    if (!doc) {
        brine_set_error(err, BRINE_E_NOMEM, NULL, 0);
        return NULL;
    }
    reader r;
    memset(&r, 0, sizeof r);
    r.x.t = text ? text : "";
    r.x.n = len;
    r.x.doc = r.doc = doc;
    r.x.al = r.al = r.post.al = &doc->arena.alloc;
    int ok = parse_document(&r);
    if (ok && !cr_check(doc, &r.post)) {
        ok = 0;
        r.x.code = r.post.code;
        r.x.msg = r.post.msg;
        r.x.eoff = r.post.off;
    }
    const brine_alloc *al = r.al;
    if (r.fr) al->free(al->ctx, r.fr, r.capfr * sizeof *r.fr);
    if (r.items) al->free(al->ctx, r.items, r.capitems * sizeof *r.items);
    if (r.labels) al->free(al->ctx, r.labels, r.caplabels * sizeof *r.labels);
    if (r.x.buf) al->free(al->ctx, r.x.buf, r.x.capbuf);
    cr_post_free(&r.post);
    if (ok) return doc;
    brine_set_error(err, r.x.code, r.x.msg, r.x.eoff);
    if (err) {
        size_t line = 1, line_start = 0;
        for (size_t i = 0; i < r.x.eoff && i < len; i++)
            if (r.x.t[i] == '\n') {
                line++;
                line_start = i + 1;
            }
        err->line = line;
        err->column = r.x.eoff - line_start + 1;
    }
    brine_doc_free(doc);
    return NULL;
}
