/*
 * canon_write.c - the canonical text printer (docs/canonical.md).
 *
 * Two passes over the graph, both without recursion: the first counts how
 * often each node with identity is reached, the second prints, giving a
 * label to every node reached more than once. Each container being printed
 * is a frame on an explicit stack with a small program counter.
 */
#include <string.h>

#include "bigint.h"
#include "canon.h"
#include "errors.h"
#include "graph.h"
#include "ptrmap.h"
#include "pyfloat.h"
#include "pytext.h"
#include "value.h"

/* Nodes that can carry a label: everything but the value-like atoms and
 * the per-document singletons. */
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

typedef struct out {
    brine_write_fn write;
    void *ctx;
    char buf[65536];
    size_t n;
    int failed;
} out;

static void flush(out *o) {
    if (o->n && !o->failed && o->write(o->ctx, o->buf, o->n) != 0) o->failed = 1;
    o->n = 0;
}

static void put(out *o, const char *s, size_t n) {
    while (n) {
        if (o->n == sizeof o->buf) flush(o);
        size_t k = sizeof o->buf - o->n;
        if (k > n) k = n;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        n -= k;
    }
}

static void puts_(out *o, const char *s) {
    put(o, s, strlen(s));
}

/* Reserves room for up to `need` bytes (need <= sizeof buf) and returns it. */
static char *reserve(out *o, size_t need) {
    if (sizeof o->buf - o->n < need) flush(o);
    return o->buf + o->n;
}

static void put_u64(out *o, uint64_t x) {
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    put(o, tmp + i, sizeof tmp - i);
}

static void put_float(out *o, uint64_t bits) {
    double x = pyfloat_from_bits(bits);
    if (x != x) {
        if (bits == 0x7ff8000000000000u) {
            puts_(o, "nan");
        } else {
            static const char hex[] = "0123456789abcdef";
            char tmp[22] = "nan:0x";
            for (int i = 0; i < 16; i++)
                tmp[6 + i] = hex[(bits >> (60 - 4 * i)) & 0xF];
            put(o, tmp, 22);
        }
        return;
    }
    char tmp[PYFLOAT_REPR_MAX];
    put(o, tmp, pyfloat_repr(x, tmp));
}

static int put_int(out *o, const brine_value *v, const brine_alloc *al) {
    if (v->kind == BRINE_BOOL || !(v->flags & VF_BIG)) {
        int64_t i = v->kind == BRINE_BOOL ? v->u.boolean : v->u.i;
        if (i < 0) {
            puts_(o, "-");
            put_u64(o, (uint64_t)0 - (uint64_t)i);
        } else {
            put_u64(o, (uint64_t)i);
        }
        return 1;
    }
    bi x = {v->u.big.limbs, v->u.big.n, (v->flags & VF_NEG) != 0};
    if (bi_bit_length(&x) <= CANON_DECIMAL_BITS) {
        size_t size = bi_decimal_size(&x);
        char *dec = al->malloc(al->ctx, size);
        uint32_t *scratch = al->malloc(al->ctx, x.n * sizeof *scratch);
        if (dec && scratch) put(o, dec, bi_to_decimal(&x, 0, dec, scratch));
        if (scratch) al->free(al->ctx, scratch, x.n * sizeof *scratch);
        if (dec) al->free(al->ctx, dec, size);
        return dec && scratch;
    }
    if (x.neg) puts_(o, "-");
    size_t size = x.n * 8 + 1;
    char *hex = al->malloc(al->ctx, size);
    if (!hex) return 0;
    puts_(o, "0x");
    put(o, hex, bi_to_hex(&x, hex));
    al->free(al->ctx, hex, size);
    return 1;
}

/* Escaped body of a str or bytes literal, in bounded chunks. */
static void put_escaped(out *o, const uint8_t *p, size_t n, int is_str) {
    enum { CHUNK = 4096 };
    while (n) {
        size_t k = n < CHUNK ? n : CHUNK;
        /* Never split a UTF-8 sequence. */
        while (is_str && k < n && (p[k] & 0xC0) == 0x80)
            k++;
        char *dst = reserve(o, 10 * (CHUNK + 4));
        o->n += is_str ? pt_canon_escape_str(p, k, dst) : pt_canon_escape_bytes(p, k, dst);
        p += k;
        n -= k;
    }
}

static void put_str(out *o, const char *p, size_t n) {
    puts_(o, "'");
    put_escaped(o, (const uint8_t *)p, n, 1);
    puts_(o, "'");
}

static void put_bytes(out *o, const uint8_t *p, size_t n) {
    puts_(o, "b'");
    put_escaped(o, p, n, 0);
    puts_(o, "'");
}

/* Leaves print in one go; containers, globals and objects need a frame. */
static int is_leaf(const brine_value *v) {
    switch (v->kind) {
    case BRINE_TUPLE: return v->u.tup.n == 0;
    case BRINE_LIST:
    case BRINE_DICT:
    case BRINE_SET:
    case BRINE_FROZENSET:
    case BRINE_GLOBAL:
    case BRINE_OBJECT:
    case BRINE_PERSID:
    case BRINE_READONLY_VIEW: return 0;
    default: return 1;
    }
}

static int put_leaf(out *o, const brine_value *v, const brine_alloc *al) {
    switch (v->kind) {
    case BRINE_NONE: puts_(o, "None"); break;
    case BRINE_BOOL: puts_(o, v->u.boolean ? "True" : "False"); break;
    case BRINE_INT: return put_int(o, v, al);
    case BRINE_FLOAT: put_float(o, v->u.fbits); break;
    case BRINE_COMPLEX:
        puts_(o, "complex(");
        put_float(o, v->u.c.re);
        puts_(o, ", ");
        put_float(o, v->u.c.im);
        puts_(o, ")");
        break;
    case BRINE_STR: put_str(o, v->u.s.p, v->u.s.n); break;
    case BRINE_BYTES: put_bytes(o, (const uint8_t *)v->u.s.p, v->u.s.n); break;
    case BRINE_BYTEARRAY:
        puts_(o, "bytearray(");
        put_bytes(o, v->u.ba.p, v->u.ba.n);
        puts_(o, ")");
        break;
    case BRINE_TUPLE: puts_(o, "()"); break;
    case BRINE_PICKLEBUFFER:
        puts_(o, "buffer(");
        put_u64(o, v->u.pb.index);
        puts_(o, ")");
        break;
    default: break;
    }
    return 1;
}

/* --- pass 1: reference counts --- */

/* Counts the reaches of every node from the root and the discarded list.
 * A discarded entry that the root or an earlier entry already reaches
 * (including an entry listed twice) gets no line of its own: skip[r - 1]
 * is set and it is not counted, so the text reads back. The decoder never
 * lists such entries; brine_doc_add_discarded callers may. */
static int count_refs(const brine_doc *doc, ptrmap *counts, unsigned char *skip) {
    ptrvec stack = {0};
    brine_arena scratch;
    arena_init(&scratch, &doc->arena.alloc, 0);
    int ok = 1;
    size_t nroots = 1 + doc->discarded.n;
    for (size_t r = 0; r < nroots && ok; r++) {
        brine_value *root = r == 0 ? doc->root : doc->discarded.items[r - 1];
        if (r > 0) {
            skip[r - 1] = labelable(root) && ptrmap_get(counts, root) != NULL;
            if (skip[r - 1]) continue;
        }
        stack.n = 0;
        ok = ptrvec_push(&scratch, &stack, root);
        while (ok && stack.n) {
            brine_value *v = stack.items[--stack.n];
            if (!labelable(v)) continue;
            int inserted;
            uint64_t *c = ptrmap_put(counts, v, &inserted);
            if (!c) {
                ok = 0;
                break;
            }
            (*c)++;
            if (!inserted) continue;
            size_t n = graph_nslots(v);
            for (size_t i = n; i-- > 0 && ok;) {
                brine_value *child = graph_slot(v, i);
                if (child) ok = ptrvec_push(&scratch, &stack, child);
            }
        }
    }
    arena_free_all(&scratch);
    return ok;
}

/* --- pass 2: printing --- */

typedef struct frame {
    const brine_value *v;
    size_t i;  /* next child (or op) */
    int phase; /* position in the node's template */
} frame;

typedef struct printer {
    out *o;
    ptrmap *counts; /* count, then label << 32 once printed */
    uint64_t next_label;
    frame *frames;
    size_t depth, cap;
    const brine_alloc *al;
    int failed;
} printer;

static int push_frame(printer *p, const brine_value *v) {
    if (p->depth == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 64;
        frame *f = p->al->malloc(p->al->ctx, ncap * sizeof *f);
        if (!f) return 0;
        if (p->frames) {
            memcpy(f, p->frames, p->depth * sizeof *f);
            p->al->free(p->al->ctx, p->frames, p->cap * sizeof *f);
        }
        p->frames = f;
        p->cap = ncap;
    }
    p->frames[p->depth++] = (frame){v, 0, 0};
    return 1;
}

/* Writes a reference to v: its label, or v itself (labelled if shared). */
static int visit(printer *p, const brine_value *v) {
    if (labelable(v)) {
        uint64_t *c = ptrmap_get(p->counts, v);
        if (c && (*c >> 32)) {
            puts_(p->o, "*");
            put_u64(p->o, *c >> 32);
            return 1;
        }
        if (c && (*c & 0xFFFFFFFFu) >= 2) {
            *c |= (++p->next_label) << 32;
            puts_(p->o, "&");
            put_u64(p->o, p->next_label);
            puts_(p->o, " ");
        }
    }
    if (is_leaf(v)) return put_leaf(p->o, v, p->al);
    return push_frame(p, v);
}

/* Operations of a global or object, from op f->i on; extends merge. */
static int step_ops(printer *p, frame *f, const oplog *log) {
    const oprec *ops = log->ops;
    switch (f->phase) {
    case 10: /* before op i */
        if (f->i >= log->n) {
            p->depth--;
            return 1;
        }
        switch (ops[f->i].kind) {
        case BRINE_OP_EXTEND:
            puts_(p->o, f->i > 0 && ops[f->i - 1].kind == BRINE_OP_EXTEND ? ", " : ".extend([");
            f->phase = 11;
            break;
        case BRINE_OP_SETITEM:
            puts_(p->o, ".setitem(");
            f->phase = 12;
            break;
        case BRINE_OP_ADD:
            puts_(p->o, ".add(");
            f->phase = 13;
            break;
        default:
            puts_(p->o, ".setstate(");
            f->phase = 13;
            break;
        }
        return visit(p, ops[f->i].a);
    case 11: /* after an extended item */
        f->i++;
        if (f->i >= log->n || ops[f->i].kind != BRINE_OP_EXTEND) puts_(p->o, "])");
        f->phase = 10;
        return 1;
    case 12: /* setitem: the value */
        puts_(p->o, ", ");
        f->phase = 13;
        return visit(p, ops[f->i].b);
    default: /* 13: close a one-operand call */
        puts_(p->o, ")");
        f->i++;
        f->phase = 10;
        return 1;
    }
}

/* Items of a tuple, list, set or frozenset: `open` ... `close`. */
static int step_seq(printer *p, frame *f, const char *open, const char *close) {
    size_t n = graph_nslots(f->v);
    if (f->i == 0 && f->phase == 0) {
        puts_(p->o, open);
        f->phase = 1;
    }
    if (f->i < n) {
        if (f->i > 0) puts_(p->o, ", ");
        return visit(p, graph_slot(f->v, f->i++));
    }
    puts_(p->o, close);
    p->depth--;
    return 1;
}

static int step_object(printer *p, frame *f) {
    const bobject *o = f->v->u.o;
    switch (f->phase) {
    case 0:
        puts_(p->o, o->make == BRINE_MAKE_CALL ? "call(" : "new(");
        f->phase = 1;
        return visit(p, o->callable);
    case 1:
        puts_(p->o, ", ");
        if (o->args_tuple) {
            /* The stream's own tuple: a node that may carry a label. */
            f->phase = 4;
            return visit(p, o->args_tuple);
        }
        puts_(p->o, "(");
        f->phase = 2;
        /* fall through */
    case 2:
        if (f->i < o->nargs) {
            if (f->i > 0) puts_(p->o, ", ");
            return visit(p, o->args[f->i++]);
        }
        puts_(p->o, o->nargs == 1 ? ",)" : ")");
        /* fall through */
    case 4: /* after the arguments */
        f->i = 0;
        if (!o->nkw && !o->kwargs_dict) {
            puts_(p->o, ")");
            f->phase = 10;
            return 1;
        }
        if (o->kwargs_dict) {
            puts_(p->o, ", ");
            f->phase = 5;
            return visit(p, o->kwargs_dict);
        }
        puts_(p->o, ", {");
        f->phase = 3;
        /* fall through */
    case 3:
        if (f->i < 2 * (size_t)o->nkw) {
            size_t k = f->i++;
            if (k % 2) {
                puts_(p->o, ": ");
                return visit(p, o->kwvals[k / 2]);
            }
            if (k) puts_(p->o, ", ");
            return visit(p, o->kwkeys[k / 2]);
        }
        puts_(p->o, "})");
        f->i = 0;
        f->phase = 10;
        return 1;
    case 5: /* after the kwargs dict */
        puts_(p->o, ")");
        f->phase = 10;
        return 1;
    default: return step_ops(p, f, &o->log);
    }
}

static int step(printer *p) {
    frame *f = &p->frames[p->depth - 1];
    const brine_value *v = f->v;
    switch (v->kind) {
    case BRINE_TUPLE:
        if (f->i == v->u.tup.n && f->phase) {
            puts_(p->o, v->u.tup.n == 1 ? ",)" : ")");
            p->depth--;
            return 1;
        }
        return step_seq(p, f, "(", "");
    case BRINE_LIST: return step_seq(p, f, "[", "]");
    case BRINE_SET:
        if (!v->u.set.n) {
            puts_(p->o, "set()");
            p->depth--;
            return 1;
        }
        return step_seq(p, f, "{", "}");
    case BRINE_FROZENSET:
        if (!v->u.set.n) {
            puts_(p->o, "frozenset()");
            p->depth--;
            return 1;
        }
        return step_seq(p, f, "frozenset({", "})");
    case BRINE_DICT: {
        size_t n = graph_nslots(v);
        if (f->phase == 0) {
            puts_(p->o, "{");
            f->phase = 1;
        }
        if (f->i < n) {
            size_t k = f->i++;
            puts_(p->o, k % 2 ? ": " : k ? ", " : "");
            return visit(p, graph_slot(v, k));
        }
        puts_(p->o, "}");
        p->depth--;
        return 1;
    }
    case BRINE_GLOBAL:
        switch (f->phase) {
        case 0:
            puts_(p->o, "global(");
            f->phase = 1;
            return visit(p, v->u.g->module_str);
        case 1:
            puts_(p->o, ", ");
            f->phase = 2;
            return visit(p, v->u.g->name_str);
        case 2:
            puts_(p->o, ")");
            f->phase = 10;
            return 1;
        default: return step_ops(p, f, &v->u.g->log);
        }
    case BRINE_OBJECT: return step_object(p, f);
    case BRINE_PERSID:
    case BRINE_READONLY_VIEW:
        if (f->phase == 0) {
            puts_(p->o, v->kind == BRINE_PERSID ? "persid(" : "readonly(");
            f->phase = 1;
            return visit(p, graph_slot(v, 0));
        }
        puts_(p->o, ")");
        p->depth--;
        return 1;
    default: p->depth--; return 1;
    }
}

static int print_value(printer *p, const brine_value *v) {
    if (!visit(p, v)) return 0;
    while (p->depth)
        if (!step(p)) return 0;
    return 1;
}

int brine_canon_write(const brine_doc *doc, brine_write_fn write, void *ctx, brine_error *err) {
    brine_clear_error(err);
    if (!doc->root) {
        brine_set_error(err, BRINE_E_USAGE, "document has no root", 0);
        return -1;
    }
    const brine_alloc *al = &doc->arena.alloc;
    out *o = al->malloc(al->ctx, sizeof *o);
    if (!o) {
        brine_set_error(err, BRINE_E_NOMEM, NULL, 0);
        return -1;
    }
    o->write = write;
    o->ctx = ctx;
    o->n = 0;
    o->failed = 0;
    ptrmap counts;
    ptrmap_init(&counts, al);
    printer p = {o, &counts, 0, NULL, 0, 0, al, 0};
    size_t nd = doc->discarded.n;
    unsigned char *skip = nd ? al->malloc(al->ctx, nd) : NULL;
    int ok = (!nd || skip) && count_refs(doc, &counts, skip);
    for (size_t r = 0; ok && r <= nd; r++) {
        if (r > 0 && skip[r - 1]) continue;
        puts_(o, r == 0 ? "root: " : "discarded: ");
        ok = print_value(&p, r == 0 ? doc->root : doc->discarded.items[r - 1]);
        puts_(o, "\n");
    }
    flush(o);
    int failed = o->failed;
    if (p.frames) al->free(al->ctx, p.frames, p.cap * sizeof *p.frames);
    if (skip) al->free(al->ctx, skip, nd);
    ptrmap_free(&counts);
    al->free(al->ctx, o, sizeof *o);
    if (!ok) {
        brine_set_error(err, BRINE_E_NOMEM, NULL, 0);
        return -1;
    }
    if (failed) {
        brine_set_error(err, BRINE_E_IO, NULL, 0);
        return -1;
    }
    return 0;
}
