/*
 * fuzz_walk.c - node sets, walks, reachability and the recursion shapes of
 * a document (fuzz_walk.h), for fuzz_roundtrip.c and fuzz_encode.c.
 */
#include "fuzz_walk.h"

#include <stdint.h>
#include <stdlib.h>

/* --- sets and walks ------------------------------------------------------------ */

static size_t ptr_hash(const brine_value *v, size_t cap) {
    uintptr_t x = (uintptr_t)v;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 7) & (cap - 1);
}

/* Returns 1 when v was not in the set (and adds it), else 0. */
static int ptrset_add(fuzz_ptrset *s, const brine_value *v) {
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        const brine_value **slot = calloc(cap, sizeof *slot);
        FUZZ_ASSERT(slot, "out of memory");
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i]) continue;
            size_t h = ptr_hash(s->slot[i], cap);
            while (slot[h])
                h = (h + 1) & (cap - 1);
            slot[h] = s->slot[i];
        }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t h = ptr_hash(v, s->cap);
    while (s->slot[h]) {
        if (s->slot[h] == v) return 0;
        h = (h + 1) & (s->cap - 1);
    }
    s->slot[h] = v;
    s->n++;
    return 1;
}

void fuzz_walk_push(fuzz_walk *w, brine_value *v) {
    if (!v) return;
    if (!ptrset_add(&w->seen, v)) {
        if (brine_kind_of(v) == BRINE_PERSID) w->persid_again = 1;
        return;
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        w->stack = realloc(w->stack, w->cap * sizeof *w->stack);
        FUZZ_ASSERT(w->stack, "out of memory");
    }
    w->stack[w->n++] = v;
}

void fuzz_walk_push_ops(fuzz_walk *w, brine_value *v) {
    for (size_t i = 0, n = brine_nops(v); i < n; i++) {
        brine_value *a, *b;
        brine_op(v, i, &a, &b);
        fuzz_walk_push(w, a);
        fuzz_walk_push(w, b);
    }
}

void fuzz_walk_free(fuzz_walk *w) {
    free(w->stack);
    free(w->seen.slot);
    w->stack = NULL;
    w->seen.slot = NULL;
}

/* --- reachability (fuzz_common.h) ---------------------------------------------- */

struct fuzz_reach {
    fuzz_walk w;
};

fuzz_reach *fuzz_reach_new(void) {
    fuzz_reach *r = calloc(1, sizeof *r);
    FUZZ_ASSERT(r, "out of memory");
    return r;
}

/* Marks v and everything it reaches (the same edges as scan_doc in fuzz_roundtrip.c). */
void fuzz_reach_add(fuzz_reach *r, brine_value *v) {
    fuzz_walk *w = &r->w;
    fuzz_walk_push(w, v);
    while (w->n) {
        brine_value *x = w->stack[--w->n];
        switch (brine_kind_of(x)) {
        case BRINE_TUPLE:
        case BRINE_LIST:
        case BRINE_SET:
        case BRINE_FROZENSET:
            for (size_t i = 0, n = brine_len(x); i < n; i++)
                fuzz_walk_push(w, brine_item(x, i));
            break;
        case BRINE_DICT:
            for (size_t i = 0, n = brine_len(x); i < n; i++) {
                fuzz_walk_push(w, brine_dict_key(x, i));
                fuzz_walk_push(w, brine_dict_value(x, i));
            }
            break;
        case BRINE_GLOBAL: fuzz_walk_push_ops(w, x); break;
        case BRINE_OBJECT:
            fuzz_walk_push(w, brine_object_callable(x));
            for (size_t i = 0, n = brine_object_nargs(x); i < n; i++)
                fuzz_walk_push(w, brine_object_arg(x, i));
            for (size_t i = 0, n = brine_object_nkwargs(x); i < n; i++) {
                fuzz_walk_push(w, brine_object_kwarg_key(x, i));
                fuzz_walk_push(w, brine_object_kwarg_value(x, i));
            }
            fuzz_walk_push_ops(w, x);
            break;
        case BRINE_PERSID: fuzz_walk_push(w, brine_persid_pid(x)); break;
        case BRINE_READONLY_VIEW: fuzz_walk_push(w, brine_view_target(x)); break;
        default: break;
        }
    }
}

int fuzz_reach_has(fuzz_reach *r, const brine_value *v) {
    /* ptrset_add reports whether v was new; a probe must not insert. */
    const fuzz_ptrset *s = &r->w.seen;
    if (!s->cap) return 0;
    size_t h = ptr_hash(v, s->cap);
    while (s->slot[h]) {
        if (s->slot[h] == v) return 1;
        h = (h + 1) & (s->cap - 1);
    }
    return 0;
}

void fuzz_reach_free(fuzz_reach *r) {
    if (!r) return;
    fuzz_walk_free(&r->w);
    free(r);
}

enum { MAX_CANDIDATES = 128 };

/* The nodes of the document (what the root and the discarded nodes reach)
 * that `wanted` accepts, at most MAX_CANDIDATES of them into `out`; *capped
 * is set when there were more. Returns how many were stored. */
static size_t gather_nodes(const brine_doc *doc, int (*wanted)(const brine_value *),
                           brine_value *out[MAX_CANDIDATES], int *capped) {
    size_t n = 0;
    *capped = 0;
    fuzz_reach *all = fuzz_reach_new();
    fuzz_reach_add(all, brine_doc_root(doc));
    for (size_t i = 0, k = brine_doc_discarded_count(doc); i < k; i++)
        fuzz_reach_add(all, brine_doc_discarded(doc, i));
    const fuzz_ptrset *seen = &all->w.seen;
    for (size_t i = 0; i < seen->cap && !*capped; i++) {
        const brine_value *v = seen->slot[i];
        if (!v || !wanted(v)) continue;
        if (n == MAX_CANDIDATES)
            *capped = 1;
        else
            out[n++] = (brine_value *)(uintptr_t)v;
    }
    fuzz_reach_free(all);
    return n;
}

static int is_object_or_persid(const brine_value *v) {
    return brine_kind_of(v) == BRINE_OBJECT || brine_kind_of(v) == BRINE_PERSID;
}

/* Whether some object reaches itself through its callable or arguments, or
 * a persistent id through its pid:
 * CPython's save_reduce then writes it twice and pops the outer copy (the
 * "recursive reduce" case), so the decoded graph has one more object.
 * Quadratic, hence the cap (beyond it the answer is a conservative yes). */
int fuzz_recursive_reduce(const brine_doc *doc) {
    brine_value *objs[MAX_CANDIDATES];
    int capped;
    size_t n = gather_nodes(doc, is_object_or_persid, objs, &capped);
    int found = capped;
    for (size_t i = 0; i < n && !found; i++) {
        fuzz_reach *r = fuzz_reach_new();
        if (brine_kind_of(objs[i]) == BRINE_PERSID) {
            /* Not memoized by CPython: a cycle through it repeats it. */
            fuzz_reach_add(r, brine_persid_pid(objs[i]));
            found = fuzz_reach_has(r, objs[i]);
            fuzz_reach_free(r);
            continue;
        }
        fuzz_reach_add(r, brine_object_callable(objs[i]));
        for (size_t j = 0, k = brine_object_nargs(objs[i]); j < k; j++)
            fuzz_reach_add(r, brine_object_arg(objs[i], j));
        for (size_t j = 0, k = brine_object_nkwargs(objs[i]); j < k; j++)
            fuzz_reach_add(r, brine_object_kwarg_value(objs[i], j));
        found = fuzz_reach_has(r, objs[i]);
        fuzz_reach_free(r);
    }
    return found;
}

/* Whether a tuple or frozenset (bit 0) or a set (bit 1: it is only saved
 * twice below protocol 4, where it is set(list)) with a persistent id among
 * its items reaches itself: CPython then writes that persistent id in both
 * copies of the container, and the outer one is popped (see the header):
 * decode(encode(D)) is not D (exact_at), but it is a fixed point. Quadratic
 * like fuzz_recursive_reduce, with the same cap. */
static int container_with_persid_item(const brine_value *v) {
    brine_kind kind = brine_kind_of(v);
    if (kind != BRINE_TUPLE && kind != BRINE_FROZENSET && kind != BRINE_SET) return 0;
    for (size_t j = 0, k = brine_len(v); j < k; j++)
        if (brine_kind_of(brine_item(v, j)) == BRINE_PERSID) return 1;
    return 0;
}

int fuzz_recursive_items(const brine_doc *doc) {
    brine_value *objs[MAX_CANDIDATES];
    int capped;
    size_t n = gather_nodes(doc, container_with_persid_item, objs, &capped);
    int found = capped ? 3 : 0;
    for (size_t i = 0; i < n && found != 3; i++) {
        fuzz_reach *r = fuzz_reach_new();
        for (size_t j = 0, k = brine_len(objs[i]); j < k; j++)
            fuzz_reach_add(r, brine_item(objs[i], j));
        fuzz_reach_add_setters(r, doc);
        if (fuzz_reach_has(r, objs[i])) found |= brine_kind_of(objs[i]) == BRINE_SET ? 2 : 1;
        fuzz_reach_free(r);
    }
    return found;
}

int fuzz_items_mask(int p) {
    return p < 4 ? 3 : 1;
}
