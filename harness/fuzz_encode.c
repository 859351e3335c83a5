/*
 * fuzz_encode.c - structure-aware: the input is a small bytecode program
 * that builds a value graph through brine.h's builder API (every kind,
 * shared and cyclic nodes through lists, dicts, sets, globals and objects,
 * globals with operations, objects with args and kwargs, persistent ids,
 * out-of-band buffers, nested tuples, discarded nodes).
 *
 * Property: the graph's canonical text reads back (brine_canon_read) into a
 * document that prints the same; at every protocol 0-5 brine_encode either
 * fails cleanly (CPython cannot pickle every shape) or writes bytes that are
 * the same when encoding twice, that decode back to the same canonical text
 * where the value is exactly representable at that protocol, and that
 * encode again to themselves (fuzz_roundtrip.c).
 *
 * Program: byte 0 bit 0 clears fix_imports; then instructions, one opcode
 * byte (taken modulo OP__COUNT) and its operand bytes each; a missing byte
 * reads as 0. Operands that pick a value index the pool of values made so
 * far (modulo its size, or among the values of the kinds an operation
 * accepts). corpus/regen-seeds assembles the seed programs.
 */
#include "fuzz_common.h"

#include <math.h>
#include <string.h>

enum {
    OP_NONE,
    OP_BOOL,
    OP_INT64,
    OP_INT_BYTES,
    OP_FLOAT_BITS,
    OP_FLOAT,
    OP_COMPLEX,
    OP_STR,
    OP_STR_TABLE,
    OP_BYTES,
    OP_BYTEARRAY,
    OP_TUPLE,
    OP_LIST,
    OP_APPEND,
    OP_DICT,
    OP_SETITEM,
    OP_SET,
    OP_SET_ADD,
    OP_FROZENSET,
    OP_GLOBAL,
    OP_GLOBAL_STR,
    OP_CALL,
    OP_NEW,
    OP_OP,
    OP_PERSID,
    OP_BUFFER,
    OP_READONLY,
    OP_ROOT,
    OP_DISCARD,
    OP__COUNT
};

#define MAX_VALUES 256
#define MAX_ARGS   4

typedef struct prog {
    const uint8_t *p;
    size_t n, i;
    brine_doc *doc;
    brine_value *vals[MAX_VALUES];
    size_t nv;
    brine_value *root;
    brine_value *discard[MAX_VALUES]; /* DISCARD candidates, in order */
    size_t ndiscard;
} prog;

static uint8_t u8(prog *g) {
    return g->i < g->n ? g->p[g->i++] : 0;
}

static uint64_t u64(prog *g) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= (uint64_t)u8(g) << (8 * k);
    return v;
}

/* Operand bytes: a length byte (mod max + 1), then that many bytes, clipped
 * to what the program has left. */
static const uint8_t *span(prog *g, size_t max, size_t *len) {
    size_t want = u8(g) % (max + 1);
    size_t left = g->n - g->i;
    *len = want < left ? want : left;
    const uint8_t *s = g->p + g->i;
    g->i += *len;
    return s;
}

static void add(prog *g, brine_value *v) {
    if (v && g->nv < MAX_VALUES) g->vals[g->nv++] = v;
}

static brine_value *pick(prog *g) {
    uint8_t k = u8(g);
    return g->nv ? g->vals[k % g->nv] : NULL;
}

#define K(kind) (1u << (kind))

/* A value of one of the kinds in `mask`, or NULL when there is none. */
static brine_value *pick_kind(prog *g, unsigned mask) {
    uint8_t k = u8(g);
    size_t count = 0;
    for (size_t i = 0; i < g->nv; i++)
        count += (mask >> brine_kind_of(g->vals[i])) & 1;
    if (!count) return NULL;
    size_t want = k % count;
    for (size_t i = 0; i < g->nv; i++)
        if (((mask >> brine_kind_of(g->vals[i])) & 1) && want-- == 0) return g->vals[i];
    return NULL;
}

static size_t pick_many(prog *g, brine_value **out, size_t max) {
    size_t n = u8(g) % (max + 1), k = 0;
    for (size_t i = 0; i < n; i++) {
        brine_value *v = pick(g);
        if (v) out[k++] = v;
    }
    return k;
}

static double table_float(uint8_t k) {
    static const double t[] = {0.0,
                               -0.0,
                               1.0,
                               1.5,
                               -2.5,
                               0.1,
                               1e16,
                               1e22,
                               5e-324,
                               2.2250738585072014e-308,
                               1.7976931348623157e308,
                               123456789.125,
                               -1e-7};
    size_t n = sizeof t / sizeof *t;
    k %= (uint8_t)(n + 3);
    if (k < n) return t[k];
    return k == n ? (double)INFINITY : k == n + 1 ? -(double)INFINITY : (double)NAN;
}

static const char *const str_table[] = {
    "",
    "a",
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xf0\x9f\x98\x80",
    "\xed\xa0\x80",
    "\xed\xb2\x80x",
    "latin1",
    "__main__",
    "a\nb",
    "'\\\"",
    "\x7f\r\t",
    "key",
    "__reduce_ex__",
};
static const char *const module_table[] = {
    "__main__", "m", "pkg.mod", "builtins", "_codecs", "copyreg", "collections", "__builtin__",
};
static const char *const name_table[] = {
    "C",       "f",      "Outer.Inner",    "set",         "frozenset", "bytearray",  "bytes",
    "complex", "encode", "_reconstructor", "OrderedDict", "xrange",    "__newobj__",
};
#define COUNT(t) (sizeof t / sizeof *t)

static void step(prog *g) {
    brine_doc *doc = g->doc;
    brine_error err;
    brine_value *items[MAX_ARGS + 1], *a, *b, *c;
    const uint8_t *s;
    size_t len, n;
    switch (u8(g) % OP__COUNT) {
    case OP_NONE: add(g, brine_new_none(doc)); break;
    case OP_BOOL: add(g, brine_new_bool(doc, u8(g) & 1)); break;
    case OP_INT64: add(g, brine_new_int64(doc, (int64_t)u64(g))); break;
    case OP_INT_BYTES:
        s = span(g, 40, &len);
        add(g, brine_new_int_bytes(doc, s, len));
        break;
    case OP_FLOAT_BITS: add(g, brine_new_float_bits(doc, u64(g))); break;
    case OP_FLOAT: add(g, brine_new_float(doc, table_float(u8(g)))); break;
    case OP_COMPLEX: {
        double re = table_float(u8(g));
        add(g, brine_new_complex(doc, re, table_float(u8(g))));
        break;
    }
    case OP_STR:
        /* Invalid surrogate-permissive UTF-8 is refused with an error. */
        s = span(g, 24, &len);
        add(g, brine_new_str(doc, (const char *)s, len, &err));
        break;
    case OP_STR_TABLE: {
        const char *t = str_table[u8(g) % COUNT(str_table)];
        add(g, brine_new_str(doc, t, strlen(t), &err));
        break;
    }
    case OP_BYTES:
        s = span(g, 24, &len);
        add(g, brine_new_bytes(doc, s, len));
        break;
    case OP_BYTEARRAY:
        s = span(g, 24, &len);
        add(g, brine_new_bytearray(doc, s, len));
        break;
    case OP_TUPLE:
        n = pick_many(g, items, MAX_ARGS);
        add(g, brine_new_tuple(doc, items, n));
        break;
    case OP_LIST: add(g, brine_new_list(doc)); break;
    case OP_APPEND:
        a = pick_kind(g, K(BRINE_LIST));
        b = pick(g);
        if (a && b) brine_list_append(doc, a, b);
        break;
    case OP_DICT: add(g, brine_new_dict(doc)); break;
    case OP_SETITEM:
        a = pick_kind(g, K(BRINE_DICT));
        b = pick(g);
        c = pick(g);
        if (a && b && c) brine_dict_set(doc, a, b, c, &err);
        break;
    case OP_SET: add(g, brine_new_set(doc)); break;
    case OP_SET_ADD:
        a = pick_kind(g, K(BRINE_SET));
        b = pick(g);
        if (a && b) brine_set_add(doc, a, b, &err);
        break;
    case OP_FROZENSET:
        n = pick_many(g, items, MAX_ARGS);
        add(g, brine_new_frozenset(doc, items, n, &err));
        break;
    case OP_GLOBAL: {
        const char *m = module_table[u8(g) % COUNT(module_table)];
        const char *q = name_table[u8(g) % COUNT(name_table)];
        add(g, brine_new_global(doc, m, strlen(m), q, strlen(q), &err));
        break;
    }
    case OP_GLOBAL_STR: {
        /* Names from str values: empty, dotted, with newlines, non-ASCII. */
        a = pick_kind(g, K(BRINE_STR));
        b = pick_kind(g, K(BRINE_STR));
        if (!a || !b) break;
        size_t ml, nl;
        const char *m = brine_str_data(a, &ml), *q = brine_str_data(b, &nl);
        add(g, brine_new_global(doc, m, ml, q, nl, &err));
        break;
    }
    case OP_CALL:
        a = pick_kind(g, K(BRINE_GLOBAL) | K(BRINE_OBJECT));
        n = pick_many(g, items, MAX_ARGS);
        if (a) add(g, brine_new_object(doc, BRINE_MAKE_CALL, a, items, n, NULL));
        break;
    case OP_NEW:
        a = pick_kind(g, K(BRINE_GLOBAL) | K(BRINE_OBJECT));
        n = pick_many(g, items, MAX_ARGS);
        b = (u8(g) & 1) ? pick_kind(g, K(BRINE_DICT)) : NULL;
        /* Keyword names must be strs: CPython writes other keys but cannot
         * load them back (TypeError), which is not the encoder's doing. */
        for (size_t i = 0; b && i < brine_len(b); i++)
            if (brine_kind_of(brine_dict_key(b, i)) != BRINE_STR) b = NULL;
        if (a) add(g, brine_new_object(doc, BRINE_MAKE_NEW, a, items, n, b));
        break;
    case OP_OP: {
        a = pick_kind(g, K(BRINE_GLOBAL) | K(BRINE_OBJECT));
        brine_op_kind kind = (brine_op_kind)(u8(g) % 4);
        b = pick(g);
        c = pick(g);
        if (a && b && c) brine_add_op(doc, a, kind, b, kind == BRINE_OP_SETITEM ? c : NULL);
        break;
    }
    case OP_PERSID:
        a = pick(g);
        if (a) add(g, brine_new_persid(doc, a));
        break;
    case OP_BUFFER: add(g, brine_new_picklebuffer(doc, u8(g) % 2)); break;
    case OP_READONLY:
        a = pick_kind(g, K(BRINE_PICKLEBUFFER) | K(BRINE_BYTEARRAY));
        if (a) add(g, brine_new_readonly_view(doc, a));
        break;
    case OP_ROOT: g->root = pick(g); break;
    case OP_DISCARD:
        /* Added at the end, once the root is known (discard_unreached). */
        a = pick_kind(g, K(BRINE_OBJECT) | K(BRINE_PERSID));
        if (a && g->ndiscard < MAX_VALUES) g->discard[g->ndiscard++] = a;
        break;
    }
}

/* Discarded nodes are those the root does not reach, each listed once and
 * only when no earlier one reaches it (docs/canonical.md): the decoder
 * never makes others, and the canonical text cannot express them. */
static void discard_unreached(prog *g) {
    if (!g->ndiscard) return;
    fuzz_reach *r = fuzz_reach_new();
    fuzz_reach_add(r, g->root);
    for (size_t i = 0; i < g->ndiscard; i++) {
        if (fuzz_reach_has(r, g->discard[i])) continue;
        brine_doc_add_discarded(g->doc, g->discard[i]);
        fuzz_reach_add(r, g->discard[i]);
    }
    fuzz_reach_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_check_planted(data, size);
    prog g;
    memset(&g, 0, sizeof g);
    g.p = data;
    g.n = size;
    g.doc = brine_doc_new(NULL);
    FUZZ_ASSERT(g.doc, "brine_doc_new failed");
    int fix_imports = !(u8(&g) & 1);
    while (g.i < g.n)
        step(&g);
    if (!g.root) g.root = g.nv ? g.vals[g.nv - 1] : brine_new_none(g.doc);
    brine_doc_set_root(g.doc, g.root);
    discard_unreached(&g);

    fuzz_buf text = {0};
    fuzz_canon(g.doc, &text);
    brine_doc_free(fuzz_check_canon_reread(text.p, text.n, 0));
    static const brine_buffer buffers[2] = {{(const uint8_t *)"\x00buf0\xff", 6, 0},
                                            {(const uint8_t *)"b1", 2, 1}};
    fuzz_rt_config cfg = {fix_imports, 1, buffers, 2, -1};
    fuzz_check_roundtrip(g.doc, &text, &cfg);
    fuzz_buf_free(&text);
    brine_doc_free(g.doc);
    return 0;
}
