/*
 * memo.h - the unpickler's memo, dense where the stream is and sparse where
 * it is not.
 *
 * CPython keeps the memo in an array it resizes to twice the largest index
 * PUT so far, so `LONG_BINPUT 0x7fffffff` allocates gigabytes there. Here
 * indices below a dense bound proportional to the number of entries live
 * in an array and the rest in a hash table, so memory stays proportional
 * to the number of PUTs whatever their indices.
 *
 * The dense array is one block up to MEMO_PAGE entries and pages of
 * MEMO_PAGE entries beyond, each allocated when first written: growing it
 * copies and clears nothing, and a large memo touches only the pages in
 * use. `bytes` counts the whole dense capacity whether or not its pages
 * exist (as if it were one block, so that max_memory stops a stream where
 * it always did); the page directory, 1/MEMO_PAGE of that, is not counted.
 */
#ifndef BRINE_MEMO_H
#define BRINE_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

enum { MEMO_PAGE_SHIFT = 13, MEMO_PAGE = 1 << MEMO_PAGE_SHIFT };

typedef struct memo_slot {
    uint64_t key; /* index + 1; 0 = empty */
    struct brine_value *value;
} memo_slot;

typedef struct memo {
    brine_alloc alloc;
    /* dense_cap / MEMO_PAGE pages (one while dense_cap <= MEMO_PAGE, of
     * dense_cap entries), NULL until written. Points to `first` while there
     * is one page, so the memo must not move after memo_init. */
    struct brine_value ***pages;
    struct brine_value **first;
    size_t dense_cap;
    memo_slot *sparse;
    size_t sparse_mask; /* slots - 1, or 0 when no table */
    size_t sparse_n;
    size_t len;   /* distinct indices set: MEMOIZE writes at this index */
    size_t bytes; /* memory held (see above) */
} memo;

void memo_init(memo *m, const brine_alloc *alloc);
void memo_free(memo *m);

/* The slot of idx in the dense array when idx is below the dense bound
 * and its page exists, else NULL (the slot itself may be empty). */
static inline struct brine_value **memo_dense_slot(const memo *m, uint64_t idx) {
    if (idx >= m->dense_cap) return NULL;
    struct brine_value **page = m->pages[idx >> MEMO_PAGE_SHIFT];
    return page ? &page[idx & (MEMO_PAGE - 1)] : NULL;
}

/* The value at idx, or NULL. */
struct brine_value *memo_get_slow(const memo *m, uint64_t idx);
static inline struct brine_value *memo_get(const memo *m, uint64_t idx) {
    if (idx < m->dense_cap) {
        struct brine_value **slot = memo_dense_slot(m, idx);
        return slot ? *slot : NULL;
    }
    return memo_get_slow(m, idx);
}

/* Sets idx; returns BRINE_OK, BRINE_E_NOMEM or BRINE_E_LIMIT_MEMO (when a
 * new index would exceed max_entries, 0 = no cap). */
brine_code memo_put_slow(memo *m, uint64_t idx, struct brine_value *v, size_t max_entries);
static inline brine_code memo_put(memo *m, uint64_t idx, struct brine_value *v,
                                  size_t max_entries) {
    /* The common case: CPython's pickler numbers entries 0, 1, 2, ... */
    if (!max_entries || m->len < max_entries) {
        struct brine_value **slot = memo_dense_slot(m, idx);
        if (slot && !*slot) {
            *slot = v;
            m->len++;
            return BRINE_OK;
        }
    }
    return memo_put_slow(m, idx, v, max_entries);
}

#endif
