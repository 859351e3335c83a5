/*
 * ptrmap.h - a map from node pointers to integers, for traversals.
 *
 * Traversals (labels in the printer, reachability in the decoder, memo
 * lookups in the encoder) keep their state here instead of in the nodes,
 * so a document can be printed or encoded while being read elsewhere.
 */
#ifndef BRINE_PTRMAP_H
#define BRINE_PTRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

typedef struct ptrmap_slot {
    const void *key;
    uint64_t value;
} ptrmap_slot;

typedef struct ptrmap {
    brine_alloc alloc;
    ptrmap_slot *slots;
    size_t mask; /* slots - 1, or 0 before the first insertion */
    size_t n;
} ptrmap;

void ptrmap_init(ptrmap *m, const brine_alloc *alloc);
void ptrmap_free(ptrmap *m);

/* The value for key, or NULL when absent. The pointer is valid until the
 * next insertion or removal. */
uint64_t *ptrmap_get(const ptrmap *m, const void *key);

/* The value slot for key, inserting it with *inserted = 1 and value 0 when
 * absent. NULL when allocation fails. */
uint64_t *ptrmap_put(ptrmap *m, const void *key, int *inserted);

/* Removes key (absent: no-op). Pointers from ptrmap_get/ptrmap_put are
 * invalid afterwards. */
void ptrmap_remove(ptrmap *m, const void *key);

#endif
