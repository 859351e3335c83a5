/*
 * encode_memo.c - the pickler's memo (node -> memo index) and the opcodes
 * that put to it and get from it.
 *
 * CPython keys its memo by object address in a hash table; a hash of node
 * pointers spreads the nodes of a large graph over a table that misses the
 * cache on every lookup. Nodes live in the chunks of an arena (the
 * document's, or the encoder's own for private nodes) and are 32 bytes
 * each, so (address - chunk start) / 32 numbers the nodes of a chunk
 * densely and without collisions: the memo is one array of indices per
 * chunk, allocated when the chunk's first node is memoized, and a save in
 * graph order walks those arrays in order too. A pointer outside every
 * chunk (no node brine makes, but the memo does not rely on it) and
 * indices past 32 bits go to a ptrmap.
 *
 * The memo maps identities only; its layout never shows in the output.
 */
#include <string.h>

#include "encode.h"

_Static_assert(sizeof(brine_value) >= (1u << EMEMO_SHIFT), "nodes must not share a memo entry");

/* Inserts the chunk [lo, hi), keeping the array sorted. 0, or -1. */
static int add_chunk(encoder *e, uintptr_t lo, uintptr_t hi) {
    ememo *m = &e->memo;
    if (m->n == m->cap) {
        ememo_chunk *c = enc_grow(e, m->chunks, &m->cap, sizeof *c, 32);
        if (!c) return -1;
        m->chunks = c;
    }
    size_t i = m->n;
    while (i > 0 && m->chunks[i - 1].lo > lo) {
        m->chunks[i] = m->chunks[i - 1];
        i--;
    }
    m->chunks[i] = (ememo_chunk){lo, hi, NULL};
    m->n++;
    /* The hints hold positions in the array, which just moved. */
    memset(m->hint, 0, sizeof m->hint);
    return 0;
}

/* Adds the chunks arena `a` got since the walk that started at *seen. */
static int add_new_chunks(encoder *e, const brine_arena *a, const void **seen) {
    const char *lo, *hi;
    const void *first = NULL;
    for (const void *it = arena_chunk_next(a, NULL, &lo, &hi); it && it != *seen;
         it = arena_chunk_next(a, it, &lo, &hi)) {
        if (!first) first = it;
        if (add_chunk(e, (uintptr_t)lo, (uintptr_t)hi) < 0) return -1;
    }
    if (first) *seen = first;
    return 0;
}

int enc_memo_init(encoder *e) {
    ptrmap_init(&e->memo.other, &e->alloc);
    /* chunks[0] exists from the start (an empty range until a chunk is
     * added), so that enc_memo_entry_fast never checks for it. */
    e->memo.chunks = e->alloc.malloc(e->alloc.ctx, 32 * sizeof *e->memo.chunks);
    if (!e->memo.chunks) return enc_fail(e, BRINE_E_NOMEM, NULL);
    e->memo.cap = 32;
    e->memo.chunks[0] = (ememo_chunk){0, 0, NULL};
    return add_new_chunks(e, &e->doc->arena, &e->memo.seen_doc);
}

void enc_memo_free(encoder *e) {
    ememo *m = &e->memo;
    for (size_t i = 0; i < m->n; i++)
        if (m->chunks[i].idx)
            e->alloc.free(e->alloc.ctx, m->chunks[i].idx,
                          (((m->chunks[i].hi - m->chunks[i].lo) >> EMEMO_SHIFT) + 1) *
                              sizeof *m->chunks[i].idx);
    if (m->chunks) e->alloc.free(e->alloc.ctx, m->chunks, m->cap * sizeof *m->chunks);
    ptrmap_free(&m->other);
    memset(m, 0, sizeof *m);
}

/* The chunk holding address a, or NULL. */
static ememo_chunk *find_chunk(ememo *m, uintptr_t a) {
    if (!m->n) return NULL;
    size_t h = enc_memo_hint(a);
    ememo_chunk *c = &m->chunks[m->hint[h]];
    if (a - c->lo < c->hi - c->lo) return c;
    size_t lo = 0, n = m->n;
    while (n > 1) {
        size_t half = n / 2;
        if (m->chunks[lo + half].lo <= a) lo += half;
        n -= half;
    }
    c = &m->chunks[lo];
    if (a - c->lo >= c->hi - c->lo) return NULL;
    m->hint[h] = lo;
    return c;
}

int64_t enc_memo_index_slow(encoder *e, const brine_value *node) {
    uintptr_t a = (uintptr_t)node;
    ememo_chunk *c = find_chunk(&e->memo, a);
    if (c) {
        if (!c->idx) return -1;
        uint32_t v = c->idx[(a - c->lo) >> EMEMO_SHIFT];
        if (v != EMEMO_ELSEWHERE) return (int64_t)v - 1;
    }
    if (!e->memo.other.n) return -1;
    const uint64_t *slot = ptrmap_get(&e->memo.other, node);
    return slot && *slot ? (int64_t)(*slot - 1) : -1;
}

/* The entry of node in its chunk's array (made when missing), or NULL when
 * node is in no chunk; -1 in *rc when out of memory. */
static uint32_t *chunk_entry(encoder *e, const brine_value *node, int *rc) {
    ememo *m = &e->memo;
    uintptr_t a = (uintptr_t)node;
    ememo_chunk *c = find_chunk(m, a);
    if (!c) {
        /* Private nodes live in the encoder's arena, which grows. */
        if (add_new_chunks(e, &e->arena, &m->seen_enc) < 0) {
            *rc = -1;
            return NULL;
        }
        c = find_chunk(m, a);
        if (!c) return NULL;
    }
    if (!c->idx) {
        size_t n = ((c->hi - c->lo) >> EMEMO_SHIFT) + 1;
        c->idx = e->alloc.malloc(e->alloc.ctx, n * sizeof *c->idx);
        if (!c->idx) {
            *rc = enc_fail(e, BRINE_E_NOMEM, NULL);
            return NULL;
        }
        memset(c->idx, 0, n * sizeof *c->idx);
    }
    return &c->idx[(a - c->lo) >> EMEMO_SHIFT];
}

/* A memo opcode for index idx: its 1-byte form (BINPUT, BINGET) below 256
 * from protocol 1, its 4-byte form (LONG_) up to 2^32 - 1, its protocol 0
 * text form (PUT, GET) in decimal. too_large is the error beyond that. */
static inline int write_memo_op(encoder *e, uint64_t idx, uint8_t text_op, uint8_t op1, uint8_t op4,
                                const char *too_large) {
    if (e->proto == 0) return enc_write_decimal_line(e, text_op, 0, idx);
    if (idx < 256) {
        uint8_t *p = out_reserve(e, 2);
        if (!p) return -1;
        p[0] = op1;
        p[1] = (uint8_t)idx;
        return 0;
    }
    if (idx > 0xffffffffu) return enc_fail(e, BRINE_E_PICKLING, too_large);
    uint8_t b[5] = {op4};
    for (int i = 0; i < 4; i++)
        b[1 + i] = (uint8_t)(idx >> (8 * i));
    return out_write(e, b, 5);
}

/* PUT / BINPUT / LONG_BINPUT / MEMOIZE with the index memo_put uses. */
int enc_write_put(encoder *e, uint64_t idx) {
    if (e->proto >= 4) return out_byte(e, OP_MEMOIZE);
    return write_memo_op(e, idx, OP_PUT, OP_BINPUT, OP_LONG_BINPUT,
                         "memo id too large for LONG_BINPUT");
}

int enc_memoize_slow(encoder *e, const brine_value *node) {
    uint64_t idx = e->memo_len;
    if (node) {
        int rc = 0;
        uint32_t *entry = chunk_entry(e, node, &rc);
        if (rc < 0) return -1;
        if (entry && *entry != EMEMO_ELSEWHERE && idx + 1 < EMEMO_ELSEWHERE) {
            /* PyMemoTable_Set on a key already present replaces its index
             * with the table size without growing the table. */
            if (!*entry) e->memo_len++;
            *entry = (uint32_t)(idx + 1);
        } else {
            /* An index past 32 bits moves the node to `other` for good. */
            uint64_t *slot = ptrmap_put(&e->memo.other, node, NULL);
            if (!slot) return enc_fail(e, BRINE_E_NOMEM, NULL);
            if (entry) {
                if (*entry != EMEMO_ELSEWHERE) *slot = *entry;
                *entry = EMEMO_ELSEWHERE;
            }
            if (!*slot) e->memo_len++;
            *slot = idx + 1;
        }
        if (node->spare != ENC_FRESH) e->memo_gen++;
    } else {
        e->memo_len++;
    }
    return enc_write_put(e, idx);
}

int enc_write_get(encoder *e, uint64_t idx) {
    return write_memo_op(e, idx, OP_GET, OP_BINGET, OP_LONG_BINGET,
                         "memo id too large for LONG_BINGET");
}
