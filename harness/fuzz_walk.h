/*
 * fuzz_walk.h - walks of a document for the harness checks: a set of node
 * pointers, a walk that visits each node once, reachability (fuzz_reach_*,
 * declared in fuzz_common.h) and the recursion shapes for which CPython
 * writes an object or container twice (fuzz_roundtrip.c's exemptions).
 * Everything here aborts (FUZZ_ASSERT) on allocation failure.
 */
#ifndef BRINE_FUZZ_WALK_H
#define BRINE_FUZZ_WALK_H

#include "fuzz_common.h"

typedef struct fuzz_ptrset {
    const brine_value **slot;
    size_t cap, n;
} fuzz_ptrset;

/* A depth-first walk: push nodes, pop from stack[--n]. Zero-initialize;
 * fuzz_walk_free releases it. */
typedef struct fuzz_walk {
    fuzz_ptrset seen;
    brine_value **stack;
    size_t n, cap;
    int persid_again; /* a persistent id was pushed a second time */
} fuzz_walk;

/* Pushes v unless NULL or seen before. */
void fuzz_walk_push(fuzz_walk *w, brine_value *v);

/* Pushes the operands of v's operation log (a global or an object). */
void fuzz_walk_push_ops(fuzz_walk *w, brine_value *v);

void fuzz_walk_free(fuzz_walk *w);

/* Whether some object reaches itself through its callable or arguments, or
 * a persistent id through its pid (CPython's "recursive reduce"). */
int fuzz_recursive_reduce(const brine_doc *doc);

/* Bit 0: a tuple or frozenset, bit 1: a set, with a persistent id item,
 * reaches itself through its items (or their state setters). */
int fuzz_recursive_items(const brine_doc *doc);

/* The bits of fuzz_recursive_items() that apply at protocol p. */
int fuzz_items_mask(int p);

#endif
