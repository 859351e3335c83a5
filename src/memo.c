/*
 * memo.c - dense array (in pages) plus sparse hash table.
 */
#include "memo.h"

#include <string.h>

enum { DENSE_SLACK = 1024, SPARSE_MIN = 64 };

void memo_init(memo *m, const brine_alloc *alloc) {
    memset(m, 0, sizeof *m);
    m->alloc = *alloc;
    m->pages = &m->first;
}

/* Entries in page i (all pages are full but a lone first one). */
static size_t page_entries(const memo *m) {
    return m->dense_cap < MEMO_PAGE ? m->dense_cap : MEMO_PAGE;
}

void memo_free(memo *m) {
    size_t npages = m->dense_cap > MEMO_PAGE ? m->dense_cap / MEMO_PAGE : 1;
    for (size_t i = 0; i < npages; i++)
        if (m->pages[i])
            m->alloc.free(m->alloc.ctx, m->pages[i], page_entries(m) * sizeof *m->pages[i]);
    if (m->pages != &m->first) m->alloc.free(m->alloc.ctx, m->pages, npages * sizeof *m->pages);
    if (m->sparse) m->alloc.free(m->alloc.ctx, m->sparse, (m->sparse_mask + 1) * sizeof *m->sparse);
    memset(m, 0, sizeof *m);
    m->pages = &m->first;
}

/* The dense slot of idx < dense_cap, making its page when `make`; NULL
 * when the page does not exist (or could not be made). */
static struct brine_value **dense_slot(memo *m, uint64_t idx, int make) {
    struct brine_value ***page = &m->pages[idx >> MEMO_PAGE_SHIFT];
    if (!*page) {
        if (!make) return NULL;
        size_t size = page_entries(m) * sizeof **page;
        *page = m->alloc.malloc(m->alloc.ctx, size);
        if (!*page) return NULL;
        memset(*page, 0, size);
    }
    return &(*page)[idx & (MEMO_PAGE - 1)];
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
        while (slots[j].key)
            j = (j + 1) & (nslots - 1);
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

/* Resizes the lone first page from m->dense_cap to ncap <= MEMO_PAGE
 * entries, clearing the new ones. */
static int first_page_grow(memo *m, size_t ncap) {
    struct brine_value **p =
        m->alloc.realloc(m->alloc.ctx, m->first, m->dense_cap * sizeof *p, ncap * sizeof *p);
    if (!p) return 0;
    memset(p + m->dense_cap, 0, (ncap - m->dense_cap) * sizeof *p);
    m->first = p;
    return 1;
}

/* Makes the dense part ncap entries: the first page grows up to MEMO_PAGE,
 * then the page directory does, its new pages left to dense_slot. */
static int dense_resize(memo *m, size_t ncap) {
    if (ncap <= MEMO_PAGE) return first_page_grow(m, ncap);
    size_t old_pages = m->dense_cap > MEMO_PAGE ? m->dense_cap / MEMO_PAGE : 1;
    size_t npages = ncap / MEMO_PAGE;
    struct brine_value ***dir;
    if (m->pages == &m->first) {
        /* A directory holding the first page, made whole. */
        dir = m->alloc.malloc(m->alloc.ctx, npages * sizeof *dir);
        if (!dir) return 0;
        if (m->first && m->dense_cap < MEMO_PAGE && !first_page_grow(m, MEMO_PAGE)) {
            m->alloc.free(m->alloc.ctx, dir, npages * sizeof *dir);
            return 0;
        }
        dir[0] = m->first;
    } else {
        dir =
            m->alloc.realloc(m->alloc.ctx, m->pages, old_pages * sizeof *dir, npages * sizeof *dir);
        if (!dir) return 0;
    }
    memset(dir + old_pages, 0, (npages - old_pages) * sizeof *dir);
    m->pages = dir;
    return 1;
}

/* Grows the dense array to cover idx, moving sparse entries that now fit. */
static int dense_grow(memo *m, uint64_t idx) {
    size_t ncap = m->dense_cap ? m->dense_cap : 64;
    while (ncap <= idx)
        ncap *= 2;
    if (!dense_resize(m, ncap)) return 0;
    m->bytes += (ncap - m->dense_cap) * sizeof(struct brine_value *);
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
                struct brine_value **slot = dense_slot(m, k, 1);
                if (slot)
                    *slot = old[i].value;
                else
                    ok = 0;
                continue;
            }
            if (ok && (!m->sparse || (m->sparse_n + 1) * 2 > m->sparse_mask + 1))
                ok = sparse_grow(m);
            if (!ok) break;
            size_t j = sparse_slot(old[i].key, m->sparse_mask);
            while (m->sparse[j].key)
                j = (j + 1) & m->sparse_mask;
            m->sparse[j] = old[i];
            m->sparse_n++;
        }
        m->alloc.free(m->alloc.ctx, old, old_slots * sizeof *old);
        if (!ok) return 0;
    }
    return 1;
}

/* Sets dense index idx < dense_cap (a new one when its slot is empty). */
static brine_code dense_put(memo *m, uint64_t idx, struct brine_value *v, size_t max_entries) {
    struct brine_value **slot = dense_slot(m, idx, 0);
    if (!slot || !*slot) {
        if (max_entries && m->len >= max_entries) return BRINE_E_LIMIT_MEMO;
        if (!slot && !(slot = dense_slot(m, idx, 1))) return BRINE_E_NOMEM;
        m->len++;
    }
    *slot = v;
    return BRINE_OK;
}

brine_code memo_put_slow(memo *m, uint64_t idx, struct brine_value *v, size_t max_entries) {
    if (idx < m->dense_cap) return dense_put(m, idx, v, max_entries);
    memo_slot *s = sparse_find(m, idx);
    if (s) {
        s->value = v;
        return BRINE_OK;
    }
    if (max_entries && m->len >= max_entries) return BRINE_E_LIMIT_MEMO;
    /* Keep the dense part proportional to the number of entries. */
    if (idx < 2 * (uint64_t)m->len + DENSE_SLACK) {
        if (!dense_grow(m, idx)) return BRINE_E_NOMEM;
        return dense_put(m, idx, v, 0);
    }
    if ((!m->sparse || (m->sparse_n + 1) * 2 > m->sparse_mask + 1) && !sparse_grow(m))
        return BRINE_E_NOMEM;
    size_t j = sparse_slot(idx + 1, m->sparse_mask);
    while (m->sparse[j].key)
        j = (j + 1) & m->sparse_mask;
    m->sparse[j].key = idx + 1;
    m->sparse[j].value = v;
    m->sparse_n++;
    m->len++;
    return BRINE_OK;
}
