/*
 * encode_alike.c - when two nodes of a document can be one object to
 * CPython's pickler (encode_discarded.c matches a discarded node with the
 * written node it is a popped copy of).
 *
 * A stream cannot tell apart what the pickler does not memoize: numbers,
 * persistent ids, out-of-band buffers and read-only views are written anew
 * at each reference, and read back as new nodes, equal by value. Nor can
 * it tell a container or callable that a __reduce__ makes afresh for each
 * call from one it returns again, when the two are made alike.
 */
#include <string.h>

#include "encode.h"
#include "graph.h"

/* Whether a and b are the same object to CPython's pickler as far as a
 * stream can tell: numbers, None and bools are never memoized, so each of
 * their occurrences is a node of its own, equal by value; nor are
 * persistent ids, so each one written is a new node around the same pid,
 * nor out-of-band buffers (without a buffer_callback), which all read back
 * as new buffers, alike but for read-only ones, nor read-only views, each
 * one a new view of its target. */
int enc_same_atom(const encoder *e, const brine_value *a, const brine_value *b) {
    if (a == b) return 1;
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case BRINE_PERSID: return enc_same_atom(e, a->u.pid, b->u.pid);
    case BRINE_READONLY_VIEW: return enc_same_atom(e, a->u.view.target, b->u.view.target);
    case BRINE_PICKLEBUFFER:
        return !e->opts->buffer_callback && !((a->flags ^ b->flags) & VF_READONLY);
    case BRINE_FLOAT: return a->u.fbits == b->u.fbits;
    case BRINE_INT:
        if ((a->flags ^ b->flags) & (VF_BIG | VF_NEG)) return 0;
        if (!(a->flags & VF_BIG)) return a->u.i == b->u.i;
        return a->u.big.n == b->u.big.n &&
               memcmp(a->u.big.limbs, b->u.big.limbs, a->u.big.n * sizeof *a->u.big.limbs) == 0;
    default: return 0;
    }
}

uint64_t enc_atom_hash(const brine_value *v) {
    switch (v->kind) {
    case BRINE_PERSID: return enc_atom_hash(v->u.pid) * 0x100000001B3u + 3;
    case BRINE_READONLY_VIEW: return enc_atom_hash(v->u.view.target) * 0x100000001B3u + 5;
    case BRINE_PICKLEBUFFER: return (v->flags & VF_READONLY) + 4;
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
static int same_arg(const encoder *e, const brine_value *a, const brine_value *b) {
    if (enc_same_atom(e, a, b)) return 1;
    if (a->kind != b->kind) return 0;
    size_t n = graph_nslots(a);
    if ((a->kind != BRINE_LIST && a->kind != BRINE_TUPLE && a->kind != BRINE_DICT) ||
        n != graph_nslots(b))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!enc_same_atom(e, graph_slot(a, i), graph_slot(b, i))) return 0;
    return 1;
}

static uint64_t arg_hash(const brine_value *v) {
    if (v->kind != BRINE_LIST && v->kind != BRINE_TUPLE && v->kind != BRINE_DICT)
        return enc_atom_hash(v);
    uint64_t h = v->kind * 0x100000001B3u + graph_nslots(v);
    for (size_t i = 0; i < graph_nslots(v); i++)
        h = (h ^ enc_atom_hash(graph_slot(v, i))) * 0x100000001B3u;
    return h;
}

/* Equal as far as a stream can tell, up to depth containers deep: atoms
 * by value, tuples, lists and dicts item by item, anything else itself. */
static int alike(const encoder *e, const brine_value *a, const brine_value *b, int depth) {
    if (enc_same_atom(e, a, b)) return 1;
    if (!depth || a->kind != b->kind ||
        (a->kind != BRINE_LIST && a->kind != BRINE_TUPLE && a->kind != BRINE_DICT))
        return 0;
    size_t n = graph_nslots(a);
    if (n != graph_nslots(b)) return 0;
    for (size_t i = 0; i < n; i++)
        if (!alike(e, graph_slot(a, i), graph_slot(b, i), depth - 1)) return 0;
    return 1;
}

/* Whether callables a and b can be one callable to CPython: the same node,
 * or objects made and set up alike. A reduce can make its callable afresh
 * each time it runs: below protocol 4, new(C, args, kwargs) is
 * partial(C.__new__, C, *args, **kwargs)(), so the popped copy of a
 * recursive one calls another partial, with the same state. Depth 3
 * covers that state, (func, args, kwargs, None). */
static int same_callable(const encoder *e, const brine_value *a, const brine_value *b) {
    if (a == b) return 1;
    if (a->kind != BRINE_OBJECT || b->kind != BRINE_OBJECT) return 0;
    const bobject *p = a->u.o, *q = b->u.o;
    size_t n = graph_nslots(a);
    if (p->make != q->make || p->callable != q->callable || p->nargs != q->nargs ||
        p->nkw != q->nkw || p->log.n != q->log.n || n != graph_nslots(b))
        return 0;
    for (uint32_t i = 0; i < p->log.n; i++)
        if (p->log.ops[i].kind != q->log.ops[i].kind) return 0;
    for (size_t i = 1; i < n; i++)
        if (!alike(e, graph_slot(a, i), graph_slot(b, i), 3)) return 0;
    return 1;
}

/* A hash of a callable that same_callable keeps: an object's is how it
 * was made, shallowly. */
static uint64_t callable_hash(const brine_value *c) {
    if (c->kind != BRINE_OBJECT) return (uintptr_t)c;
    const bobject *o = c->u.o;
    return ((uintptr_t)o->callable ^ ((uint64_t)o->make << 56) ^ ((uint64_t)o->nargs << 40) ^
            o->log.n) *
           0x9E3779B97F4A7C15u;
}

/* Made like x (same callable, arguments and keyword arguments). */
int enc_same_making(const encoder *e, const brine_value *d, const brine_value *x) {
    const bobject *a = d->u.o, *b = x->u.o;
    if (a->make != b->make || a->nargs != b->nargs || a->nkw != b->nkw ||
        !same_callable(e, a->callable, b->callable))
        return 0;
    for (uint32_t i = 0; i < a->nargs; i++)
        if (!same_arg(e, a->args[i], b->args[i])) return 0;
    for (uint32_t i = 0; i < a->nkw; i++)
        if (a->kwkeys[i] != b->kwkeys[i] || !same_arg(e, a->kwvals[i], b->kwvals[i])) return 0;
    return 1;
}

/* A hash of how an object node was made, never 0 (it is a ptrmap key). */
uintptr_t enc_making_hash(const brine_value *v) {
    const bobject *o = v->u.o;
    uint64_t h =
        0x9E3779B97F4A7C15u ^ o->make ^ ((uint64_t)o->nargs << 8) ^ ((uint64_t)o->nkw << 40);
    h = (h ^ callable_hash(o->callable)) * 0xff51afd7ed558ccdu;
    for (uint32_t i = 0; i < o->nargs; i++)
        h = (h ^ arg_hash(o->args[i])) * 0xff51afd7ed558ccdu;
    for (uint32_t i = 0; i < o->nkw; i++)
        h = (h ^ (uintptr_t)o->kwkeys[i] ^ (arg_hash(o->kwvals[i]) << 1)) * 0xff51afd7ed558ccdu;
    return (uintptr_t)(h ^ (h >> 31)) | 1;
}
