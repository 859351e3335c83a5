/*
 * memo.h - the unpickler's memo, dense where the stream is and sparse where
 * it is not.
 *
 * CPython keeps the memo in an array it resizes to twice the largest index
 * PUT so far, so `LONG_BINPUT 0x7fffffff` allocates gigabytes there. Here
 * indices below a dense bound proportional to the number of entries live
 * in an array and the rest in a hash table, so memory stays proportional
 * to the number of PUTs whatever their indices.
 */
#ifndef BRINE_MEMO_H
#define BRINE_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

typedef struct memo_slot {
    uint64_t key; /* index + 1; 0 = empty */
    struct brine_value *value;
} memo_slot;

typedef struct memo {
    brine_alloc alloc;
    struct brine_value **dense;
    size_t dense_cap;
    memo_slot *sparse;
    size_t sparse_mask; /* slots - 1, or 0 when no table */
    size_t sparse_n;
    size_t len;   /* distinct indices set: MEMOIZE writes at this index */
    size_t bytes; /* memory held */
} memo;

void memo_init(memo *m, const brine_alloc *alloc);
void memo_free(memo *m);

/* The value at idx, or NULL. */
struct brine_value *memo_get_slow(const memo *m, uint64_t idx);
static inline struct brine_value *memo_get(const memo *m, uint64_t idx) {
    return idx < m->dense_cap ? m->dense[idx] : memo_get_slow(m, idx);
}

/* Sets idx; returns BRINE_OK, BRINE_E_NOMEM or BRINE_E_LIMIT_MEMO (when a
 * new index would exceed max_entries, 0 = no cap). */
brine_code memo_put_slow(memo *m, uint64_t idx, struct brine_value *v, size_t max_entries);
static inline brine_code memo_put(memo *m, uint64_t idx, struct brine_value *v,
                                  size_t max_entries) {
    /* The common case: CPython's pickler numbers entries 0, 1, 2, ... */
    if (idx < m->dense_cap && m->dense[idx] == NULL && (!max_entries || m->len < max_entries)) {
        m->dense[idx] = v;
        m->len++;
        return BRINE_OK;
    }
    return memo_put_slow(m, idx, v, max_entries);
}

#endif
