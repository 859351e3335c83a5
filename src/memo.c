/*
 * memo.c - dense array plus sparse hash table.
 */
#include "memo.h"

#include <string.h>

#include "arena.h"

enum { DENSE_SLACK = 1024, SPARSE_MIN = 64 };

void memo_init(memo *m, const brine_alloc *alloc) {
    memset(m, 0, sizeof *m);
    m->alloc = *alloc;
}

void memo_free(memo *m) {
    if (m->dense) m->alloc.free(m->alloc.ctx, m->dense, m->dense_cap * sizeof *m->dense);
    if (m->sparse)
        m->alloc.free(m->alloc.ctx, m->sparse, (m->sparse_mask + 1) * sizeof *m->sparse);
    memset(m, 0, sizeof *m);
}

static size_t sparse_slot(uint64_t key, size_t mask) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdu;
    key ^= key >> 33;
    return (size_t)key & mask;
}

static memo_slot *sparse_find(const memo *m, uint64_t idx) {
    if (!m->sparse) return NULL;
    uint64_t key = idx + 1;
    for (size_t i = sparse_slot(key, m->sparse_mask);; i = (i + 1) & m->sparse_mask) {
        if (m->sparse[i].key == key) return &m->sparse[i];
        if (!m->sparse[i].key) return NULL;
    }
}

struct brine_value *memo_get_slow(const memo *m, uint64_t idx) {
    memo_slot *s = sparse_find(m, idx);
    return s ? s->value : NULL;
}

static int sparse_grow(memo *m) {
    size_t nslots = m->sparse ? (m->sparse_mask + 1) * 2 : SPARSE_MIN;
    memo_slot *slots = m->alloc.malloc(m->alloc.ctx, nslots * sizeof *slots);
    if (!slots) return 0;
    memset(slots, 0, nslots * sizeof *slots);
    for (size_t i = 0; m->sparse && i <= m->sparse_mask; i++) {
        if (!m->sparse[i].key) continue;
        size_t j = sparse_slot(m->sparse[i].key, nslots - 1);
        while (slots[j].key) j = (j + 1) & (nslots - 1);
        slots[j] = m->sparse[i];
    }
    if (m->sparse) {
        m->alloc.free(m->alloc.ctx, m->sparse, (m->sparse_mask + 1) * sizeof *m->sparse);
        m->bytes -= (m->sparse_mask + 1) * sizeof *m->sparse;
    }
    m->sparse = slots;
    m->sparse_mask = nslots - 1;
    m->bytes += nslots * sizeof *slots;
    return 1;
}

/* Grows the dense array to cover idx, moving sparse entries that now fit. */
static int dense_grow(memo *m, uint64_t idx) {
    size_t ncap = m->dense_cap ? m->dense_cap : 64;
    while (ncap <= idx) ncap *= 2;
    struct brine_value **dense = m->alloc.realloc(m->alloc.ctx, m->dense,
                                                  m->dense_cap * sizeof *dense, ncap * sizeof *dense);
    if (!dense) return 0;
    /* The new part is untouched yet: a large memo can take huge pages. */
    arena_advise_huge(&m->alloc, dense + m->dense_cap, (ncap - m->dense_cap) * sizeof *dense);
    memset(dense + m->dense_cap, 0, (ncap - m->dense_cap) * sizeof *dense);
    m->bytes += (ncap - m->dense_cap) * sizeof *dense;
    m->dense = dense;
    m->dense_cap = ncap;
    if (m->sparse_n) {
        /* Rebuild the sparse table without the entries that moved. */
        memo_slot *old = m->sparse;
        size_t old_slots = m->sparse_mask + 1;
        m->sparse = NULL;
        m->sparse_mask = 0;
        m->sparse_n = 0;
        m->bytes -= old_slots * sizeof *old;
        int ok = 1;
        for (size_t i = 0; i < old_slots; i++) {
            if (!old[i].key) continue;
            uint64_t k = old[i].key - 1;
            if (k < m->dense_cap) {
                m->dense[k] = old[i].value;
                continue;
            }
            if (ok && (!m->sparse || (m->sparse_n + 1) * 2 > m->sparse_mask + 1))
                ok = sparse_grow(m);
            if (!ok) break;
            size_t j = sparse_slot(old[i].key, m->sparse_mask);
            while (m->sparse[j].key) j = (j + 1) & m->sparse_mask;
            m->sparse[j] = old[i];
            m->sparse_n++;
        }
        m->alloc.free(m->alloc.ctx, old, old_slots * sizeof *old);
        if (!ok) return 0;
    }
    return 1;
}

brine_code memo_put_slow(memo *m, uint64_t idx, struct brine_value *v, size_t max_entries) {
    if (idx < m->dense_cap) {
        if (!m->dense[idx]) {
            if (max_entries && m->len >= max_entries) return BRINE_E_LIMIT_MEMO;
            m->len++;
        }
        m->dense[idx] = v;
        return BRINE_OK;
    }
    memo_slot *s = sparse_find(m, idx);
    if (s) {
        s->value = v;
        return BRINE_OK;
    }
    if (max_entries && m->len >= max_entries) return BRINE_E_LIMIT_MEMO;
    /* Keep the dense part proportional to the number of entries. */
    if (idx < 2 * (uint64_t)m->len + DENSE_SLACK) {
        if (!dense_grow(m, idx)) return BRINE_E_NOMEM;
        m->dense[idx] = v;
        m->len++;
        return BRINE_OK;
    }
    if ((!m->sparse || (m->sparse_n + 1) * 2 > m->sparse_mask + 1) && !sparse_grow(m))
        return BRINE_E_NOMEM;
    size_t j = sparse_slot(idx + 1, m->sparse_mask);
    while (m->sparse[j].key) j = (j + 1) & m->sparse_mask;
    m->sparse[j].key = idx + 1;
    m->sparse[j].value = v;
    m->sparse_n++;
    m->len++;
    return BRINE_OK;
}
