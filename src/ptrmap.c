/*
 * ptrmap.c - open addressing with linear probing; removal shifts the rest
 * of the probe run back (no tombstones).
 */
#include "ptrmap.h"

#include <string.h>

#include "arena.h"

void ptrmap_init(ptrmap *m, const brine_alloc *alloc) {
    memset(m, 0, sizeof *m);
    m->alloc = alloc ? *alloc : brine_default_alloc;
}

void ptrmap_free(ptrmap *m) {
    if (m->slots) m->alloc.free(m->alloc.ctx, m->slots, (m->mask + 1) * sizeof *m->slots);
    m->slots = NULL;
    m->mask = 0;
    m->n = 0;
}

static size_t slot_of(const void *key, size_t mask) {
    uint64_t x = (uint64_t)(uintptr_t)key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    return (size_t)x & mask;
}

uint64_t *ptrmap_get(const ptrmap *m, const void *key) {
    if (!m->slots) return NULL;
    for (size_t i = slot_of(key, m->mask);; i = (i + 1) & m->mask) {
        if (m->slots[i].key == key) return &m->slots[i].value;
        if (!m->slots[i].key) return NULL;
    }
}

static int grow(ptrmap *m) {
    size_t nslots = m->slots ? (m->mask + 1) * 2 : 64;
    ptrmap_slot *slots = m->alloc.malloc(m->alloc.ctx, nslots * sizeof *slots);
    if (!slots) return 0;
    arena_advise_huge(&m->alloc, slots, nslots * sizeof *slots);
    memset(slots, 0, nslots * sizeof *slots);
    if (m->slots) {
        for (size_t i = 0; i <= m->mask; i++) {
            if (!m->slots[i].key) continue;
            size_t j = slot_of(m->slots[i].key, nslots - 1);
            while (slots[j].key)
                j = (j + 1) & (nslots - 1);
            slots[j] = m->slots[i];
        }
        m->alloc.free(m->alloc.ctx, m->slots, (m->mask + 1) * sizeof *m->slots);
    }
    m->slots = slots;
    m->mask = nslots - 1;
    return 1;
}

uint64_t *ptrmap_put(ptrmap *m, const void *key, int *inserted) {
    if ((!m->slots || (m->n + 1) * 3 > (m->mask + 1) * 2) && !grow(m)) return NULL;
    size_t i = slot_of(key, m->mask);
    while (m->slots[i].key) {
        if (m->slots[i].key == key) {
            if (inserted) *inserted = 0;
            return &m->slots[i].value;
        }
        i = (i + 1) & m->mask;
    }
    m->slots[i].key = key;
    m->slots[i].value = 0;
    m->n++;
    if (inserted) *inserted = 1;
    return &m->slots[i].value;
}

void ptrmap_remove(ptrmap *m, const void *key) {
    if (!m->slots) return;
    size_t i = slot_of(key, m->mask);
    while (m->slots[i].key != key) {
        if (!m->slots[i].key) return;
        i = (i + 1) & m->mask;
    }
    /* Every later key of the run whose home is not in (i, j] would become
     * unreachable past the hole at i: move it into the hole. */
    for (size_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
        size_t home = slot_of(m->slots[j].key, m->mask);
        int reachable = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (reachable) continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i].key = NULL;
    m->slots[i].value = 0;
    m->n--;
}
