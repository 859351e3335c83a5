/*
 * encode_reduce.c - what CPython pickles through save_reduce because the
 * protocol has no opcode for it, rebuilt from private nodes.
 *
 * These shapes are exactly what CPython 3.11 creates while pickling, with
 * its identities:
 *   bytes, protocols 0-2      _codecs.encode(s, 'latin1') with s a fresh str
 *                             (the shared one-character str for one byte)
 *                             and 'latin1' one interned str; b'' is bytes()
 *   bytearray, protocols 0-4  bytearray(b) with b a fresh bytes; bytearray()
 *   set, frozenset, 0-3       set(l) / frozenset(l) with l a fresh list
 *   complex, all protocols    complex(re, im) (copyreg's dispatch table)
 *   A.B globals, 0-3          getattr(A, 'B'), the global memoized after
 *   new(C, args), 0-1         copyreg.__newobj__(C, *args)
 *   new(C, args, kw), 0-1     copyreg.__newobj_ex__(C, args, kw)
 *   new(C, args, kw), 2-3     functools.partial(C.__new__, C, *args, **kw)()
 *                             assuming C.__new__ is object.__new__, which
 *                             pickles as getattr(object, '__new__')
 * Globals CPython pickles here (builtins.set, _codecs.encode, ...) are the
 * graph's nodes for those names when it has them, so that a class the
 * value also refers to directly shares its memo entry, else private nodes
 * made once per dump. Private nodes CPython makes afresh for one save are
 * marked ENC_FRESH (the recursion guard does not count their memo_puts).
 */
#include <string.h>

#include "compat.h"
#include "encode.h"

/* ------------------------------------------------------------------------ */
/* Private nodes                                                             */
/* ------------------------------------------------------------------------ */

static brine_value *pnode(encoder *e, brine_kind kind) {
    brine_value *v = arena_zalloc(&e->arena, sizeof *v);
    if (v)
        v->kind = (uint8_t)kind;
    else
        enc_fail(e, BRINE_E_NOMEM, NULL);
    return v;
}

static void *palloc(encoder *e, size_t n) {
    void *p = arena_alloc(&e->arena, n ? n : 1);
    if (!p) enc_fail(e, BRINE_E_NOMEM, NULL);
    return p;
}

/* The single code point below U+0100 of a one-character str, or -1; 256
 * for the empty str. */
static int str_slot(const unsigned char *u, size_t n) {
    if (n == 0) return 256;
    if (n == 1 && u[0] < 0x80) return u[0];
    if (n == 2 && (u[0] & 0xE0) == 0xC0 && (u[1] & 0xC0) == 0x80) {
        unsigned cp = ((u[0] & 0x1Fu) << 6) | (u[1] & 0x3Fu);
        return cp < 256 ? (int)cp : -1;
    }
    return -1;
}

/* Marks a private node as one CPython makes afresh for a single save. */
static brine_value *fresh(brine_value *v) {
    if (v) v->spare = ENC_FRESH;
    return v;
}

/* A str node over p[0..n), which must stay valid for the dump; `made` is
 * 1 when CPython makes the str afresh each time (the singletons never are). */
static brine_value *pstr_owned(encoder *e, const char *p, size_t n, int made) {
    int slot = str_slot((const unsigned char *)p, n);
    if (slot >= 0) {
        /* CPython's latin-1 singletons are the very objects the value holds. */
        if (e->doc->str1[slot]) return e->doc->str1[slot];
        if (e->str1[slot]) return e->str1[slot];
    }
    brine_value *v = pnode(e, BRINE_STR);
    if (!v) return NULL;
    v->u.s.p = p;
    v->u.s.n = n;
    if (slot >= 0)
        e->str1[slot] = v;
    else if (made)
        fresh(v);
    return v;
}

static brine_value *pstr_copy(encoder *e, const char *p, size_t n, int made) {
    char *copy = palloc(e, n);
    if (!copy) return NULL;
    if (n) memcpy(copy, p, n);
    return pstr_owned(e, copy, n, made);
}

brine_value *enc_str(encoder *e, const char *p, size_t n) {
    return pstr_copy(e, p, n, 0);
}

static brine_value *ptuple(encoder *e, brine_value *const *items, size_t n) {
    brine_value *v = pnode(e, BRINE_TUPLE);
    brine_value **copy = v ? palloc(e, n * sizeof *copy) : NULL;
    if (!copy) return NULL;
    if (n) memcpy(copy, items, n * sizeof *copy);
    v->u.tup.items = copy;
    v->u.tup.n = n;
    return v;
}

static brine_value *pdict(encoder *e, brine_value *const *keys, brine_value *const *vals,
                          size_t n) {
    brine_value *v = pnode(e, BRINE_DICT);
    bdict *d = v ? &v->u.set : NULL;
    bentry *ent = d ? palloc(e, n * sizeof *ent) : NULL;
    if (!ent) {
        enc_fail(e, BRINE_E_NOMEM, NULL); /* keeps the first error when one is set */
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        ent[i].key = keys[i];
        ent[i].value = vals[i];
    }
    d->entries = ent;
    d->n = d->cap = n;
    return v;
}

static brine_value *pcall(encoder *e, const brine_value *callable, brine_value *const *args,
                          size_t n) {
    brine_value *v = pnode(e, BRINE_OBJECT);
    bobject *o = v ? arena_zalloc(&e->arena, sizeof *o) : NULL;
    brine_value **copy = o ? palloc(e, n * sizeof *copy) : NULL;
    if (!copy) {
        enc_fail(e, BRINE_E_NOMEM, NULL); /* keeps the first error when one is set */
        return NULL;
    }
    if (n) memcpy(copy, args, n * sizeof *copy);
    o->callable = (brine_value *)callable;
    o->args = copy;
    o->nargs = (uint32_t)n;
    o->make = BRINE_MAKE_CALL;
    o->opcode = OP_REDUCE;
    v->u.o = o;
    return v;
}

/* An args array [first, rest...] in the private arena. */
static brine_value **args_with(encoder *e, const brine_value *first, brine_value *const *rest,
                               size_t n) {
    brine_value **a = palloc(e, (n + 1) * sizeof *a);
    if (!a) return NULL;
    a[0] = (brine_value *)first;
    if (n) memcpy(a + 1, rest, n * sizeof *a);
    return a;
}

/* ------------------------------------------------------------------------ */
/* Globals by name                                                           */
/* ------------------------------------------------------------------------ */

static uint64_t name_hash(const char *m, size_t mlen, const char *n, size_t nlen) {
    uint64_t h = 0xcbf29ce484222325u ^ mlen;
    for (size_t i = 0; i < mlen; i++)
        h = (h ^ (unsigned char)m[i]) * 0x100000001B3u;
    h = (h ^ 0x2E) * 0x100000001B3u;
    for (size_t i = 0; i < nlen; i++)
        h = (h ^ (unsigned char)n[i]) * 0x100000001B3u;
    return h ^ (h >> 32);
}

static int same_name(const bglobal *g, const char *m, size_t mlen, const char *n, size_t nlen) {
    return g->mlen == mlen && g->nlen == nlen && memcmp(g->module, m, mlen) == 0 &&
           memcmp(g->name, n, nlen) == 0;
}

static int gtab_grow(encoder *e) {
    size_t nslots = e->gmask ? (e->gmask + 1) * 2 : 64;
    const brine_value **t = e->alloc.malloc(e->alloc.ctx, nslots * sizeof *t);
    if (!t) return enc_fail(e, BRINE_E_NOMEM, NULL);
    memset(t, 0, nslots * sizeof *t);
    for (size_t i = 0; e->gtab && i <= e->gmask; i++) {
        const bglobal *x = e->gtab[i] ? e->gtab[i]->u.g : NULL;
        if (!x) continue;
        size_t j = name_hash(x->module, x->mlen, x->name, x->nlen) & (nslots - 1);
        while (t[j])
            j = (j + 1) & (nslots - 1);
        t[j] = e->gtab[i];
    }
    if (e->gtab) e->alloc.free(e->alloc.ctx, e->gtab, (e->gmask + 1) * sizeof *t);
    e->gtab = t;
    e->gmask = nslots - 1;
    return 0;
}

static int gtab_insert(encoder *e, const brine_value *g) {
    if ((e->gn + 1) * 2 > e->gmask + 1 && gtab_grow(e) < 0) return -1;
    const bglobal *x = g->u.g;
    size_t j = name_hash(x->module, x->mlen, x->name, x->nlen) & e->gmask;
    while (e->gtab[j])
        j = (j + 1) & e->gmask;
    e->gtab[j] = g;
    e->gn++;
    return 0;
}

/* The module str of a private global. The globals brine invents are
 * builtin types, whose __module__ is one str CPython shares among all
 * builtin types (builtin functions have another): reuse the module str of
 * a global of the same kind. Only STACK_GLOBAL (protocol >= 4) writes it. */
static brine_value *module_str(encoder *e, const char *m, size_t mlen) {
    int builtins = mlen == 8 && memcmp(m, "builtins", 8) == 0;
    if (e->proto >= 4)
        for (size_t i = 0; i <= e->gmask; i++) {
            const bglobal *x = e->gtab[i] ? e->gtab[i]->u.g : NULL;
            if (x && x->mlen == mlen && memcmp(x->module, m, mlen) == 0 &&
                (!builtins || compat_is_builtin_type(x->name, x->nlen)))
                return x->module_str;
        }
    return enc_str(e, m, mlen);
}

/* Indexes the document's globals that belong to the graph: those the root
 * or a discarded node reaches. The document also keeps globals a stream
 * made and popped; the canonical text does not show them, so they must not
 * lend their operations or strs to the reductions. */
static int gtab_init(encoder *e) {
    const brine_doc *doc = e->doc;
    if (gtab_grow(e) < 0) return -1;
    if (!doc->globals) return 0;
    ptrmap reach;
    ptrmap_init(&reach, &e->alloc);
    int rc = enc_mark_reachable(e, &reach, doc->root);
    for (size_t i = 0; rc == 0 && i < doc->discarded.n; i++)
        rc = enc_mark_reachable(e, &reach, doc->discarded.items[i]);
    for (size_t i = 0; rc == 0 && i <= doc->globals_mask; i++)
        for (const brine_value *g = doc->globals[i]; rc == 0 && g; g = g->u.g->next)
            if (ptrmap_get(&reach, g)) rc = gtab_insert(e, g);
    ptrmap_free(&reach);
    return rc;
}

const brine_value *enc_global(encoder *e, const char *module, size_t mlen, const char *name,
                              size_t nlen) {
    if (!e->gtab && gtab_init(e) < 0) return NULL;
    size_t j = name_hash(module, mlen, name, nlen) & e->gmask;
    for (; e->gtab[j]; j = (j + 1) & e->gmask)
        if (same_name(e->gtab[j]->u.g, module, mlen, name, nlen)) return e->gtab[j];
    brine_value *v = pnode(e, BRINE_GLOBAL);
    bglobal *g = v ? arena_zalloc(&e->arena, sizeof *g) : NULL;
    char *m = g ? palloc(e, mlen) : NULL;
    char *n = m ? palloc(e, nlen) : NULL;
    if (!n) {
        enc_fail(e, BRINE_E_NOMEM, NULL); /* keeps the first error when one is set */
        return NULL;
    }
    memcpy(m, module, mlen);
    memcpy(n, name, nlen);
    g->module = m;
    g->mlen = mlen;
    g->name = n;
    g->nlen = nlen;
    /* The qualified names of builtin types are made afresh on each lookup. */
    g->module_str = module_str(e, m, mlen);
    g->name_str = enc_str(e, n, nlen);
    if (!g->module_str || !g->name_str) return NULL;
    v->u.g = g;
    return gtab_insert(e, v) < 0 ? NULL : v;
}

static const brine_value *known(encoder *e, const char *module, const char *name) {
    return enc_global(e, module, strlen(module), name, strlen(name));
}

/* The global gtab holds for (module, name), or NULL: unlike enc_global,
 * makes nothing. */
static const brine_value *lookup(encoder *e, const char *module, size_t mlen, const char *name,
                                 size_t nlen) {
    size_t j = name_hash(module, mlen, name, nlen) & e->gmask;
    for (; e->gtab[j]; j = (j + 1) & e->gmask)
        if (same_name(e->gtab[j]->u.g, module, mlen, name, nlen)) return e->gtab[j];
    return NULL;
}

int enc_reduce_globals(encoder *e, const brine_value *v, const brine_value *out[3]) {
    if (!e->gtab && gtab_init(e) < 0) return -1;
    const char *names[3][2] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
    int n = 0;
    switch (v->kind) {
    case BRINE_BYTES:
        if (e->proto >= 3) break;
        names[0][0] = v->u.s.n ? "_codecs" : "builtins";
        names[0][1] = v->u.s.n ? "encode" : "bytes";
        break;
    case BRINE_BYTEARRAY:
        if (e->proto < 5) names[0][0] = "builtins", names[0][1] = "bytearray";
        break;
    case BRINE_SET:
    case BRINE_FROZENSET:
        if (e->proto >= 4) break;
        names[0][0] = "builtins";
        names[0][1] = v->kind == BRINE_SET ? "set" : "frozenset";
        break;
    case BRINE_COMPLEX: names[0][0] = "builtins", names[0][1] = "complex"; break;
    case BRINE_GLOBAL: {
        if (!enc_written_by_reduce(e, v)) break;
        const bglobal *gl = v->u.g;
        size_t dot = gl->nlen; /* getattr(parent, last) */
        while (gl->name[dot - 1] != '.')
            dot--;
        const brine_value *parent = lookup(e, gl->module, gl->mlen, gl->name, dot - 1);
        if (parent) out[n++] = parent;
        names[0][0] = "builtins", names[0][1] = "getattr";
        break;
    }
    case BRINE_OBJECT: {
        const bobject *o = v->u.o;
        if (o->make != BRINE_MAKE_NEW) break;
        int ex = o->nkw > 0 || o->opcode == OP_NEWOBJ_EX;
        if (e->proto < 2) {
            names[0][0] = "copyreg";
            names[0][1] = ex ? "__newobj_ex__" : "__newobj__";
        } else if (ex && e->proto < 4) { /* partial(object.__new__, ...)() */
            names[0][0] = "builtins", names[0][1] = "object";
            names[1][0] = "builtins", names[1][1] = "getattr";
            names[2][0] = "functools", names[2][1] = "partial";
        }
        break;
    }
    default: break;
    }
    for (int i = 0; i < 3 && names[i][0]; i++) {
        const brine_value *g =
            lookup(e, names[i][0], strlen(names[i][0]), names[i][1], strlen(names[i][1]));
        if (g) out[n++] = g;
    }
    return n;
}

void enc_reduce_free(encoder *e) {
    if (e->gtab) e->alloc.free(e->alloc.ctx, e->gtab, (e->gmask + 1) * sizeof *e->gtab);
    e->gtab = NULL;
}

/* ------------------------------------------------------------------------ */
/* Reductions                                                                */
/* ------------------------------------------------------------------------ */

int enc_written_by_reduce(const encoder *e, const brine_value *v) {
    switch (v->kind) {
    case BRINE_OBJECT:
    case BRINE_COMPLEX: return 1;
    case BRINE_BYTES: return e->proto < 3;
    case BRINE_BYTEARRAY: return e->proto < 5;
    case BRINE_SET:
    case BRINE_FROZENSET: return e->proto < 4;
    case BRINE_GLOBAL:
        return e->proto < 4 && v->u.g->nlen && memchr(v->u.g->name, '.', v->u.g->nlen);
    default: return 0;
    }
}

/* save_reduce((callable, args), obj) with args in the private arena. */
static int push_call(encoder *e, const brine_value *callable, const brine_value *obj,
                     brine_value *const *args, size_t n) {
    if (!callable || (n && !args)) return -1;
    eframe *f = enc_push_reduce(e, callable, obj, OP_REDUCE);
    if (!f) return -1;
    f->seq.u.items = args;
    f->seq.n = n;
    return 1;
}

int enc_save_bytes_reduce(encoder *e, const brine_value *v) {
    size_t n = v->u.s.n;
    if (n == 0) return push_call(e, known(e, "builtins", "bytes"), v, NULL, 0);
    /* The bytes decoded as latin-1, in WTF-8. */
    const uint8_t *p = (const uint8_t *)v->u.s.p;
    size_t extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += p[i] >> 7;
    char *text = palloc(e, n + extra);
    if (!text) return -1;
    for (size_t i = 0, o = 0; i < n; i++) {
        if (p[i] < 0x80) {
            text[o++] = (char)p[i];
        } else {
            text[o++] = (char)(0xC0 | (p[i] >> 6));
            text[o++] = (char)(0x80 | (p[i] & 0x3F));
        }
    }
    brine_value *s = pstr_owned(e, text, n + extra, 1);
    if (!e->latin1) e->latin1 = enc_str(e, "latin1", 6);
    brine_value **args = s && e->latin1 ? palloc(e, 2 * sizeof *args) : NULL;
    if (!args) return -1;
    args[0] = s;
    args[1] = e->latin1;
    return push_call(e, known(e, "_codecs", "encode"), v, args, 2);
}

int enc_save_bytearray_reduce(encoder *e, const brine_value *v) {
    const brine_value *cls = known(e, "builtins", "bytearray");
    if (v->u.ba.n == 0) return push_call(e, cls, v, NULL, 0);
    /* PyBytes_FromObject makes a new bytes object, even of one byte. */
    brine_value *b = fresh(pnode(e, BRINE_BYTES));
    brine_value **args = b ? palloc(e, sizeof *args) : NULL;
    if (!args) return -1;
    b->u.s.p = (const char *)v->u.ba.p;
    b->u.s.n = v->u.ba.n;
    args[0] = b;
    return push_call(e, cls, v, args, 1);
}

int enc_save_set_reduce(encoder *e, const brine_value *v) {
    const bdict *d = &v->u.set;
    brine_value *list = fresh(pnode(e, BRINE_LIST));
    brine_value **items = list ? palloc(e, d->n * sizeof *items) : NULL;
    brine_value **args = items ? palloc(e, sizeof *args) : NULL;
    if (!args) return -1;
    for (size_t i = 0; i < d->n; i++)
        items[i] = d->entries[i].key;
    list->u.list.items = items;
    list->u.list.n = list->u.list.cap = d->n;
    args[0] = list;
    const char *name = v->kind == BRINE_SET ? "set" : "frozenset";
    return push_call(e, known(e, "builtins", name), v, args, 1);
}

int enc_save_complex(encoder *e, const brine_value *v) {
    brine_value *re = pnode(e, BRINE_FLOAT), *im = re ? pnode(e, BRINE_FLOAT) : NULL;
    brine_value **args = im ? palloc(e, 2 * sizeof *args) : NULL;
    if (!args) return -1;
    re->u.fbits = v->u.c.re;
    im->u.fbits = v->u.c.im;
    args[0] = re;
    args[1] = im;
    return push_call(e, known(e, "builtins", "complex"), v, args, 2);
}

int enc_save_dotted_global(encoder *e, const brine_value *g, size_t dot) {
    const bglobal *gl = g->u.g;
    const brine_value *parent = enc_global(e, gl->module, gl->mlen, gl->name, dot);
    /* str.split makes the last component afresh (a shared one-character str
     * when it is one character below U+0100). */
    brine_value *last = parent ? pstr_copy(e, gl->name + dot + 1, gl->nlen - dot - 1, 1) : NULL;
    brine_value **args = last ? args_with(e, parent, &last, 1) : NULL;
    if (!args) return -1;
    eframe *f = enc_push_reduce(e, known(e, "builtins", "getattr"), NULL, OP_REDUCE);
    if (!f) return -1;
    f->seq.u.items = args;
    f->seq.n = 2;
    f->post_memo = g;
    return 1;
}

int enc_save_new_reduce(encoder *e, const brine_value *v, const bobject *o, int with_kwargs) {
    const brine_value *cls = o->callable;
    if (e->proto < 2) {
        if (!with_kwargs)
            return push_call(e, known(e, "copyreg", "__newobj__"), v,
                             args_with(e, cls, o->args, o->nargs), o->nargs + 1);
        brine_value *args = fresh(ptuple(e, o->args, o->nargs));
        brine_value *kw = args ? fresh(pdict(e, o->kwkeys, o->kwvals, o->nkw)) : NULL;
        brine_value **a = kw ? palloc(e, 3 * sizeof *a) : NULL;
        if (!a) return -1;
        a[0] = (brine_value *)cls;
        a[1] = args;
        a[2] = kw;
        return push_call(e, known(e, "copyreg", "__newobj_ex__"), v, a, 3);
    }
    /* Protocols 2 and 3: partial(cls.__new__, cls, *args, **kwargs)(). */
    for (uint32_t i = 0; i < o->nkw; i++)
        if (o->kwkeys[i]->kind != BRINE_STR) return enc_fail(e, BRINE_E_KEYWORDS_NOT_STR, NULL);
    if (!e->object_new) {
        /* One object for the whole dump: cls.__new__ finds the very method
         * object in object.__dict__ each time. */
        const brine_value *object = known(e, "builtins", "object");
        brine_value *new_name = object ? enc_str(e, "__new__", 7) : NULL;
        brine_value **ga = new_name ? args_with(e, object, &new_name, 1) : NULL;
        e->object_new = ga ? pcall(e, known(e, "builtins", "getattr"), ga, 2) : NULL;
    }
    brine_value *func = e->object_new;
    brine_value **pa = func ? args_with(e, cls, o->args, o->nargs) : NULL;
    brine_value *pargs = pa ? fresh(ptuple(e, pa, o->nargs + 1)) : NULL;
    brine_value *kw = pargs ? fresh(pdict(e, o->kwkeys, o->kwvals, o->nkw)) : NULL;
    brine_value *none = kw ? pnode(e, BRINE_NONE) : NULL;
    brine_value *st[4] = {func, pargs, kw, none};
    brine_value *state = none ? fresh(ptuple(e, st, 4)) : NULL;
    const brine_value *pcls = state ? known(e, "functools", "partial") : NULL;
    brine_value *partial = pcls ? fresh(pcall(e, pcls, &func, 1)) : NULL;
    oprec *op = partial ? palloc(e, sizeof *op) : NULL;
    if (!op) return -1;
    /* partial.__reduce__ gives (partial, (func,), (func, args, kw, None)). */
    op->kind = BRINE_OP_SETSTATE;
    op->a = state;
    op->b = NULL;
    partial->u.o->log.ops = op;
    partial->u.o->log.n = partial->u.o->log.cap = 1;
    return push_call(e, partial, v, NULL, 0);
}
